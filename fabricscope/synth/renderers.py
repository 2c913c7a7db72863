"""The generators by name, for the data builders, the evaluation and ``fabricscope synth``."""

from __future__ import annotations

from fabricscope.synth.generator import Sample, generate
from fabricscope.synth.spectral import generate_other

# "training": generate() as the shipped model saw it; "varied": the same scenes with
# generate(variety=True); "realistic": generate(variety=True, realism=True), with hard negatives
# (knots, slubs, stains, dark prints), puckered / pinched wrinkles and a phone-like camera;
# "other": the independent renderer (synth.spectral), for testing only
RENDERERS = ("training", "varied", "realistic", "other")
MIN_SIDE = {"training": 16, "varied": 16, "realistic": 16, "other": 64}  # what each generator accepts


def check(renderer: str, size: int) -> None:
    """ValueError unless ``renderer`` names a generator that renders size x size images: callers
    check before they make folders or start workers."""
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be one of {RENDERERS}, got {renderer!r}")
    if size < MIN_SIDE[renderer]:
        raise ValueError(f"the {renderer} renderer needs a size of {MIN_SIDE[renderer]} px or more, got {size}")


def render(seed: int, size: int, renderer: str = "training") -> Sample:
    """One labelled size x size sample from the named generator; same seed, same sample."""
    check(renderer, size)
    if renderer == "other":
        return generate_other(seed, size)
    if renderer == "realistic":
        return generate(seed, (size, size), variety=True, realism=True)
    return generate(seed, (size, size), variety=renderer == "varied")
