"""Where the shipped files are: the model, the style sheet, the sample images, the icon.

One lookup for every kind of install:

- a source checkout or an editable install (``pip install -e .``, ``make run``): the repository's
  own ``models/`` and ``resources/`` folders, beside the ``fabricscope/`` package. ``models/`` is
  where training writes the shipped model, so an editable install always sees the current one;
- a wheel (``pip install fabricscope-*.whl``) or the PyInstaller bundle: the same files inside the
  package, as ``fabricscope/_models/`` and ``fabricscope/_resources/``. The build maps the two
  folders into the package (``package-dir`` in pyproject.toml; ``datas`` in packaging/fabricscope.spec),
  so git holds one copy of each file.

Plain file paths, not ``importlib.resources`` traversables: ONNX Runtime and Qt open files by name,
and every install kind above unpacks the package onto the file system.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

MODEL_FILE = "fabric_inspector.onnx"
STYLE_FILE = "style.qss"
ICON_FILE = "fabricscope.png"
DESKTOP_FILE = "fabricscope.desktop"
SAMPLE_PATTERN = "*.jpg"


def _folder(inside_package: str, in_repository: str) -> Path:
    """The packaged folder where the build put one (wheel, bundle), else the repository's."""
    packaged = _PACKAGE / inside_package
    return packaged if packaged.is_dir() else _PACKAGE.parent / in_repository


def models_dir() -> Path:
    """The folder of the shipped model (``models/`` in the repository)."""
    return _folder("_models", "models")


def resources_dir() -> Path:
    """The folder of the style sheet, icon and samples (``resources/`` in the repository)."""
    return _folder("_resources", "resources")


def shipped_model() -> Path:
    """The shipped ONNX model (it may be missing in a checkout before ``make model``)."""
    return models_dir() / MODEL_FILE


def style_sheet() -> Path:
    """The app's Qt style sheet."""
    return resources_dir() / STYLE_FILE


def icon() -> Path:
    """The app's 256x256 PNG icon."""
    return resources_dir() / ICON_FILE


def samples_dir() -> Path:
    """The folder of the bundled sample photos (``fabricscope score <this>`` scores them)."""
    return resources_dir() / "samples"


def sample_images() -> list[Path]:
    """The bundled sample photos, sorted by name."""
    return sorted(samples_dir().glob(SAMPLE_PATTERN))
