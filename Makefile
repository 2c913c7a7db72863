# FabricScope: `make run` sets up and starts the app, `make test` sets up and runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3
# `make test EXTRAS=cpu,dev,cluster` leaves out torch (its tests then skip); see README.
EXTRAS ?= cpu,dev,cluster,train

.PHONY: setup run test lint bench model clean

$(STAMP): pyproject.toml
	@command -v apt-get >/dev/null && [ "$$(id -u)" = "0" ] && bash scripts/install-system-deps.sh || true
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	@touch $@

setup: $(STAMP)

run: setup
	bash scripts/run-app.sh

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

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
