"""The generators by name, for the data builders, the evaluation and ``fabricscope synth``."""

from __future__ import annotations

from fabricscope.synth.generator import Sample, generate
from fabricscope.synth.spectral import generate_other

# "training": generate() as the shipped model saw it; "varied": the same scenes with
# generate(variety=True); "other": the independent renderer (synth.spectral), for testing only
RENDERERS = ("training", "varied", "other")


def render(seed: int, size: int, renderer: str = "training") -> Sample:
    """One labelled size x size sample from the named generator; same seed, same sample."""
    if renderer == "other":
        return generate_other(seed, size)
    if renderer in ("training", "varied"):
        return generate(seed, (size, size), variety=renderer == "varied")
    raise ValueError(f"renderer must be one of {RENDERERS}, got {renderer!r}")
