"""The one Thresholds value, the app state that holds it, and the source factory (no widgets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from toy_model import fabric_like

from fabricscope.engine.inspector import Inspector
from fabricscope.engine.thresholds import Thresholds
from fabricscope.sources import Capabilities, SourceError, key_for_paths, open_source
from fabricscope.sources.demo import DemoFeed
from fabricscope.sources.stills import StillImages
from fabricscope.state import AppState


@pytest.fixture(scope="module")
def inspector(toy_model: Path) -> Inspector:
    return Inspector(toy_model, provider="cpu", threads=1)


def test_thresholds_are_immutable_and_judge_at_exactly_p_ge_t(inspector: Inspector) -> None:
    shipped = Thresholds.of(inspector.spec)
    assert dict(shipped) == {h.name: h.threshold for h in inspector.spec.heads}
    hole = inspector.inspect(fabric_like(1, hole_at=(3, 3))).head("hole")
    at_p = shipped.with_("hole", hole.prob)
    assert at_p.flag(hole) and not shipped.with_("hole", min(1.0, hole.prob + 1e-6)).flag(hole)
    assert shipped["hole"] == inspector.spec.head("hole").threshold  # with_ made a new value
    again = shipped.with_("hole", hole.prob)
    assert at_p != shipped and at_p == again and hash(at_p) == hash(again)
    with pytest.raises(KeyError, match="no head named 'colour'"):
        shipped.with_("colour", 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        shipped.with_("hole", 1.5)
    assert shipped.merged({"hole": 0.2, "colour": 0.9}) == shipped.with_("hole", 0.2)  # unknown names ignored
    assert np.isnan(shipped.array(["hole", "colour"])[1])


def test_inspections_carry_probabilities_only(inspector: Inspector) -> None:
    ins = inspector.inspect(fabric_like(2))
    head = ins.heads[0]
    assert not hasattr(head, "threshold") and not hasattr(head, "flag") and not hasattr(ins, "flagged")


def test_app_state_emits_each_change_once(inspector: Inspector) -> None:
    state = AppState()
    seen: list[tuple[str, object]] = []
    state.thresholds_changed.connect(lambda t: seen.append(("thresholds", dict(t))))
    state.inspector_changed.connect(lambda i: seen.append(("inspector", i)))
    state.provider_changed.connect(lambda p: seen.append(("provider", p)))
    state.set_inspector(inspector)
    assert seen == [("thresholds", dict(Thresholds.of(inspector.spec))), ("inspector", inspector)]
    seen.clear()
    state.set_threshold("hole", 0.3)
    state.set_threshold("hole", 0.3)  # no change, no event
    state.update_thresholds({"wrinkle": 0.7, "colour": 0.1})
    state.set_provider("auto")  # unchanged
    state.set_provider("cpu")
    assert seen == [
        ("thresholds", {"hole": 0.3, "wrinkle": inspector.spec.head("wrinkle").threshold}),
        ("thresholds", {"hole": 0.3, "wrinkle": 0.7}),
        ("provider", "cpu"),
    ]
    seen.clear()
    state.set_inspector(inspector)  # the same heads again (e.g. another provider): the thresholds stay
    assert seen == [("inspector", inspector)] and state.thresholds["hole"] == 0.3


def test_state_stops_the_source_it_replaces() -> None:
    state = AppState()
    first, second = DemoFeed(), DemoFeed()
    got: list[object] = []
    state.source_changed.connect(got.append)
    first.start(lambda _f: None, lambda _e: None)
    state.set_source(first, "demo")
    state.set_source(second, "demo")
    assert got == [first, second] and first._thread is None and state.source is second


def test_open_source_by_key_with_its_capabilities(tmp_path: Path) -> None:
    Image.fromarray(fabric_like(0, size=64)).save(tmp_path / "a.png")
    demo = open_source("demo")
    assert isinstance(demo, DemoFeed) and demo.capabilities == Capabilities() and demo.live
    stills = open_source(key_for_paths([tmp_path]))
    assert isinstance(stills, StillImages) and not stills.live
    assert stills.capabilities.steps and not stills.capabilities.can_pause
    demo.pause(True)  # a source that cannot pause ignores it
    with pytest.raises(SourceError, match="no image files in empty"):
        (tmp_path / "empty").mkdir()
        open_source(f"images:{tmp_path / 'empty'}")
    with pytest.raises(SourceError, match="video file not found"):
        open_source(key_for_paths([tmp_path / "gone.mp4"]))
    with pytest.raises(SourceError, match="unknown source"):
        open_source("telescope")
    assert key_for_paths([tmp_path / "a.MP4"]) == f"video:{tmp_path / 'a.MP4'}"
