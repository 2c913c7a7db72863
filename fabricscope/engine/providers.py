"""ONNX Runtime execution providers: names users type, what is installed, what really runs.

A session asked for a GPU provider silently runs on CPU when the GPU
libraries are missing; :func:`describe_fallback` turns that into a sentence,
and the inspector always reports ``session.get_providers()``, never the request.
"""

from __future__ import annotations

import onnxruntime as ort

#: Short names users type, and the ONNX Runtime provider each stands for.
PROVIDERS: dict[str, str] = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "directml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
}
CHOICES: tuple[str, ...] = ("auto", *PROVIDERS)

#: What ``auto`` prefers, best first. TensorRT is left out: it compiles an
#: engine for minutes on first use, which a user should ask for explicitly.
AUTO_ORDER: tuple[str, ...] = ("cuda", "directml", "coreml", "openvino", "cpu")

#: The one install hint for the GPU runtime (CLI notes, the app's status bar and the README say
#: the same). It names the runtime package, not an extra of FabricScope, so it works for an
#: editable checkout and an installed wheel alike; the CPU runtime is removed first because
#: onnxruntime and onnxruntime-gpu write the same package folder and must never be installed
#: side by side. The version floor is the ``gpu`` extra's in pyproject.toml (a test keeps them equal).
GPU_RUNTIME = "onnxruntime-gpu>=1.17"
GPU_HINT = (
    "For an NVIDIA GPU, replace the CPU runtime with the GPU one in FabricScope's Python environment "
    f"(never both): pip uninstall -y onnxruntime && pip install '{GPU_RUNTIME}'"
)

_ORT_TO_SHORT = {v: k for k, v in PROVIDERS.items()}


def short_name(ort_name: str) -> str:
    """'CUDAExecutionProvider' -> 'cuda' (unknown names are returned as they are)."""
    return _ORT_TO_SHORT.get(ort_name, ort_name)


def available() -> list[str]:
    """Short names of the providers this ONNX Runtime build offers, in AUTO_ORDER then others."""
    names = [short_name(p) for p in ort.get_available_providers()]
    ordered = [p for p in AUTO_ORDER if p in names]
    return ordered + [p for p in names if p not in ordered and p in PROVIDERS]


def plan(choice: str) -> tuple[list[str], str]:
    """The provider list to ask ONNX Runtime for, and a note when the choice cannot be honoured.

    ``choice`` is ``auto`` or a key of :data:`PROVIDERS`. An unavailable
    provider falls back to CPU, and the note says so plainly.
    """
    choice = choice.lower()
    if choice not in CHOICES:
        raise ValueError(f"unknown execution provider {choice!r}; choose one of: {', '.join(CHOICES)}")
    here = available()
    if choice == "auto":
        best = next(p for p in AUTO_ORDER if p in here or p == "cpu")
        return _with_cpu(best), ""
    if choice in here:
        return _with_cpu(choice), ""
    note = f"{choice} was requested but this ONNX Runtime has no {PROVIDERS[choice]} (available: {', '.join(here)})"
    if choice in ("cuda", "tensorrt"):
        note += ". " + GPU_HINT
    return ["CPUExecutionProvider"], note + "; running on cpu instead."


def describe_fallback(choice: str, used: list[str]) -> str:
    """A sentence when the session runs on something other than what was chosen, else ''."""
    if choice == "auto" or not used:
        return ""
    wanted = PROVIDERS[choice]
    if used[0] == wanted:
        return ""
    return (
        f"{choice} was requested and is installed, but ONNX Runtime could not start it "
        f"(missing GPU driver or CUDA/cuDNN libraries?); running on {short_name(used[0])} instead."
    )


def _with_cpu(choice: str) -> list[str]:
    names = [PROVIDERS[choice]]
    if choice != "cpu":
        names.append(PROVIDERS["cpu"])
    return names
