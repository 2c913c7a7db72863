# FabricScope: `make run` sets up and starts the app, `make test` sets up and runs the tests.
#
# Two installs into one venv, each with its own stamp, so `make run` fetches only what the
# app needs (~0.6 GB: Qt, pyqtgraph, numpy, ONNX Runtime, Pillow) and `make test` afterwards
# adds the test, cluster and training extras (torch, Ray: ~2.3 GB in all) to the same venv.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
comma := ,
# `make run` installs the app with this extra (cpu: onnxruntime; gpu: onnxruntime-gpu, never both).
APP_EXTRAS ?= cpu
# `make test EXTRAS=cpu,dev,cluster` leaves out torch (its tests then skip); see README.
EXTRAS ?= cpu,dev,cluster,train
APP_STAMP := $(VENV)/.stamp-app-$(subst $(comma),-,$(APP_EXTRAS))
TEST_STAMP := $(VENV)/.stamp-test-$(subst $(comma),-,$(EXTRAS))
# `make bundle`: PyInstaller runs in its own venv, so the app's venv never gets it.
BUNDLE_VENV ?= build/bundle-venv

.PHONY: setup setup-app run test lint bench model bundle check-bundle check-wheel clean

$(PY):
	@command -v apt-get >/dev/null && [ "$$(id -u)" = "0" ] && bash scripts/install-system-deps.sh || true
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# what the app needs: `make run`
$(APP_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[$(APP_EXTRAS)]'
	@touch $@

# what the tests need: `make test` (a superset of the app's install when EXTRAS holds cpu)
$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	@touch $@ $(if $(filter $(APP_EXTRAS),$(subst $(comma), ,$(EXTRAS))),$(APP_STAMP))

setup-app: $(APP_STAMP)

setup: $(TEST_STAMP)

run: setup-app
	VENV=$(VENV) bash scripts/run-app.sh

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q
	$(VENV)/bin/ruff check fabricscope tests benchmarks
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) -m benchmarks

# Retrain the shipped model from the project's own generator (needs the `train` extra).
model: setup
	$(PY) -m pip install -q -e '.[cpu,dev,train]'
	$(PY) -m fabricscope.train --out models/

# A self-contained desktop app in dist/fabricscope/ (PyInstaller one-folder; see packaging/).
bundle:
	PYTHON=$(PYTHON) BUNDLE_VENV=$(BUNDLE_VENV) bash scripts/build-bundle.sh

# Smoke-test dist/fabricscope/: info, score, the GUI under Xvfb (a screenshot), the no-display message.
check-bundle:
	bash scripts/check-bundle.sh

# Build the wheel, install it into a clean venv and run it there (info, score, the GUI offscreen).
check-wheel:
	PYTHON=$(PYTHON) bash scripts/check-wheel.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist

# Rewrite the tables of figures in README.md and models/README.md from models/*.json (stdlib only).
.PHONY: docs
docs:
	$(PYTHON) scripts/make_docs.py
