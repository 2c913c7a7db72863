from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def toy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path to the small contract-conforming test model."""
    from toy_model import build_toy_model

    return build_toy_model(tmp_path_factory.mktemp("models") / "toy.onnx")
