"""A built wheel carries the shipped model, the style sheet, the samples, the icon and every module.

The files live once in git, in ``models/`` and ``resources/``; the build maps them into the package
(``fabricscope/_models``, ``fabricscope/_resources``) and :mod:`fabricscope.assets` finds them in
either place. The installed wheel running end to end is ``scripts/check-wheel.sh`` (minutes: a venv).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fabricscope import assets

ROOT = Path(__file__).resolve().parent.parent


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    # built without isolation (no network, no build venv): needs the build-system's setuptools here,
    # which the dev extra installs
    pytest.importorskip("setuptools", minversion="77")
    # from a copy of what the build reads, so no stale build/ folder of the checkout leaks into the wheel
    # and the checkout gets none
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "fabricscope", src / "fabricscope", ignore=ignore)
    shutil.copytree(ROOT / "resources", src / "resources", ignore=ignore)
    (src / "models").mkdir()
    shutil.copy2(ROOT / "models" / "fabric_inspector.onnx", src / "models")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src)
    out = tmp_path_factory.mktemp("wheel")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("fabricscope-*.whl")
    with zipfile.ZipFile(built) as zf:
        yield zf


def test_the_wheel_ships_the_model_style_icon_and_samples(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    shipped = {
        "fabricscope/_models/fabric_inspector.onnx": ROOT / "models" / "fabric_inspector.onnx",
        "fabricscope/_resources/style.qss": ROOT / "resources" / "style.qss",
        "fabricscope/_resources/fabricscope.png": ROOT / "resources" / "fabricscope.png",
        "fabricscope/_resources/fabricscope.desktop": ROOT / "resources" / "fabricscope.desktop",
    }
    samples = sorted((ROOT / "resources" / "samples").glob("*.jpg"))
    assert len(samples) >= 4
    shipped |= {f"fabricscope/_resources/samples/{p.name}": p for p in samples}
    for name, source in shipped.items():
        assert name in names, f"{name} is not in the wheel"
        assert _sha(wheel.read(name)) == _sha(source.read_bytes()), f"{name} differs from {source}"
    # the training-only files stay out: checkpoint, logs, studies
    assert not [n for n in names if n.startswith("fabricscope/_models/") and not n.endswith(".onnx")]


def test_the_wheel_holds_every_module_of_the_package(wheel: zipfile.ZipFile) -> None:
    """pyproject.toml lists the packages (the mapped data folders need it): a new sub-package must be added."""
    names = set(wheel.namelist())
    modules = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "fabricscope").rglob("*.py"))
    missing = [m for m in modules if m not in names]
    assert not missing, f"not in the wheel (add the sub-package to [tool.setuptools] packages): {missing}"


def test_assets_in_a_checkout_are_the_repository_folders() -> None:
    assert assets.shipped_model() == ROOT / "models" / "fabric_inspector.onnx"
    assert assets.style_sheet() == ROOT / "resources" / "style.qss" and assets.style_sheet().is_file()
    assert assets.icon().is_file()
    in_repo = sorted(p.name for p in (ROOT / "resources" / "samples").glob("*.jpg"))
    assert [p.name for p in assets.sample_images()] == in_repo
    from fabricscope.engine.inspector import DEFAULT_MODEL
    from fabricscope.gui.app import STYLE

    assert DEFAULT_MODEL == assets.shipped_model() and STYLE == assets.style_sheet()


def test_assets_prefer_the_folders_inside_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "fabricscope"
    (package / "_models").mkdir(parents=True)
    (package / "_resources" / "samples").mkdir(parents=True)
    (package / "_resources" / "samples" / "a.jpg").write_bytes(b"")
    monkeypatch.setattr(assets, "_PACKAGE", package)
    assert assets.shipped_model() == package / "_models" / "fabric_inspector.onnx"
    assert assets.style_sheet() == package / "_resources" / "style.qss"
    assert assets.sample_images() == [package / "_resources" / "samples" / "a.jpg"]


def test_the_desktop_file_names_the_command_and_icon() -> None:
    lines = (ROOT / "resources" / "fabricscope.desktop").read_text().splitlines()
    entry = dict(line.split("=", 1) for line in lines if "=" in line)
    assert entry["Type"] == "Application" and entry["Exec"].split()[:2] == ["fabricscope", "gui"]
    assert entry["Icon"] == "fabricscope" and entry["Terminal"] == "false"
    from PIL import Image

    with Image.open(ROOT / "resources" / "fabricscope.png") as icon:
        assert icon.size == (256, 256)
