"""A training run saved part-way and resumed takes the same steps as one that never stopped.

Bit-exact where the run is deterministic: both halves on one intra-op thread. With another thread
count torch sums in another order (float addition is not associative), so a resume that changes
``threads`` (allowed: a free setting) is held to a tolerance measured against the training steps
themselves, not to equality.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

TINY = ((8, 0), (8, 0), (16, 0), (16, 0), (16, 0))


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """train() sets torch's global thread count from its config; give the next test what it had."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _float_params(net) -> torch.Tensor:
    """Every floating-point tensor of the state (weights, running statistics), flattened into one;
    integer buffers (BatchNorm's batch counter) left out."""
    return torch.cat([v.detach().flatten() for v in net.state_dict().values() if v.is_floating_point()])


def _stop_after(calls: int):
    count = iter(range(1, 10**9))
    return lambda: next(count) >= calls


@pytest.fixture(scope="module")
def arrays():
    from fabricscope.train import data as D

    return D.build(12, D.TRAIN_SEED0, workers=1)


def _config(**kw):
    from fabricscope.train.trainer import TrainConfig

    base = dict(max_steps=6, batch=4, minutes=1000, threads=1, optimizer="sgd", lr=0.1, crop=128, crop_until=0.5)
    return TrainConfig(**(base | kw))


def test_a_resumed_run_equals_one_that_never_stopped(tmp_path, arrays):
    from fabricscope.train.model import FabricNet
    from fabricscope.train.resume import RunState
    from fabricscope.train.trainer import train

    torch.manual_seed(0)
    whole = FabricNet(stages=TINY)
    log = train(whole, arrays, _config(), log=False)
    assert log.steps == 6 and not log.interrupted

    state = RunState(tmp_path / "run" / "state.pt", every_s=1e9, recipe={"n_train": 12})
    torch.manual_seed(0)
    first = FabricNet(stages=TINY)
    part = train(first, arrays, _config(), log=False, state=state, stop=_stop_after(4))
    assert part.interrupted and part.steps == 4 and state.path.is_file()
    assert not list(state.path.parent.glob("*.part"))  # written whole, then moved into place
    halves = zip(first.state_dict().values(), whole.state_dict().values(), strict=True)
    assert any(not torch.equal(a, b) for a, b in halves)

    torch.manual_seed(123)  # a different start: everything must come from the saved state
    second = FabricNet(stages=TINY)
    state.resume = True
    rest = train(second, arrays, _config(), log=False, state=state)  # one thread, as the first half
    assert rest.steps == 6 and not rest.interrupted and rest.resumed_at == [4]
    for (name, a), b in zip(whole.state_dict().items(), second.state_dict().values(), strict=True):
        assert torch.equal(b, a), name  # bit-exact: same thread count, same summation order

    again = FabricNet(stages=TINY)  # the finished run was saved too: resuming it trains no more
    done = train(again, arrays, _config(), log=False, state=state)
    assert done.steps == 6 and done.resumed_at == [4, 6]
    for a, b in zip(second.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_a_resume_may_change_the_thread_count(tmp_path, arrays):
    """``threads`` is a free setting: a run saved on one thread resumes on two. Two threads sum in
    another order, so the result is the uninterrupted run's up to float rounding, grown over the
    resumed steps (here ~3e-5 of the two steps' update; ~6e-4 for a whole six-step run on two threads
    against one). A wrong resume (other data order, lost optimiser state, a shifted learning-rate
    schedule) would miss by a sizeable fraction of the update, so 1% of it separates the two with room."""
    from fabricscope.train.model import FabricNet
    from fabricscope.train.resume import RunState
    from fabricscope.train.trainer import train

    torch.manual_seed(0)
    whole = FabricNet(stages=TINY)
    train(whole, arrays, _config(), log=False)

    state = RunState(tmp_path / "state.pt", every_s=1e9, recipe={"n_train": 12})
    torch.manual_seed(0)
    first = FabricNet(stages=TINY)
    train(first, arrays, _config(), log=False, state=state, stop=_stop_after(4))
    at_four = _float_params(first)

    torch.manual_seed(123)
    second = FabricNet(stages=TINY)
    state.resume = True
    rest = train(second, arrays, _config(threads=2), log=False, state=state)
    assert rest.steps == 6 and rest.resumed_at == [4] and torch.get_num_threads() == 2
    update = torch.linalg.vector_norm(_float_params(whole) - at_four)
    miss = torch.linalg.vector_norm(_float_params(second) - _float_params(whole))
    assert update > 0.1  # the two resumed steps did train
    assert miss <= 0.01 * update, f"resumed on 2 threads misses by {miss:.3g}, the steps moved {update:.3g}"


def test_resume_refuses_other_settings_and_missing_state(tmp_path, arrays):
    from fabricscope.train.model import FabricNet
    from fabricscope.train.resume import RunState
    from fabricscope.train.trainer import train

    state = RunState(tmp_path / "state.pt", resume=True)
    with pytest.raises(ValueError, match="no saved training state"):
        train(FabricNet(stages=TINY), arrays, _config(), log=False, state=state)
    state.resume = False
    train(FabricNet(stages=TINY), arrays, _config(), log=False, state=state, stop=_stop_after(1))
    state.resume = True
    with pytest.raises(ValueError, match=r"crop_focus was 0\.8, now 0\.5"):
        train(FabricNet(stages=TINY), arrays, _config(crop_focus=0.5), log=False, state=state)
    with pytest.raises(ValueError, match="n_train was None, now 5"):
        other = RunState(state.path, resume=True, recipe={"n_train": 5})
        train(FabricNet(stages=TINY), arrays, _config(), log=False, state=other)
    with pytest.raises(ValueError, match="12 training images, given 4"):
        train(FabricNet(stages=TINY), _first(arrays, 4), _config(), log=False, state=state)


def _first(arrays, n: int):
    from dataclasses import replace

    return replace(
        arrays,
        images=arrays.images[:n],
        masks=arrays.masks[:n],
        has_hole=arrays.has_hole[:n],
        wrinkled=arrays.wrinkled[:n],
        kinds=arrays.kinds[:n],
        hole_centres=arrays.hole_centres[:n],
        hole_sizes=arrays.hole_sizes[:n],
    )


def test_cli_checks_the_state_before_rendering_anything(tmp_path, capsys):
    from fabricscope.train.__main__ import main

    with pytest.raises(SystemExit) as e:
        main(["--quick", "--out", str(tmp_path), "--resume"])
    assert e.value.code == 2 and "--resume needs --state" in capsys.readouterr().err
    missing = tmp_path / "nothing.pt"
    assert main(["--quick", "--out", str(tmp_path), "--state", str(missing), "--resume"]) == 2
    err = capsys.readouterr()
    assert "no saved training state" in err.err and "rendering" not in err.out
    assert not list(tmp_path.glob("*.onnx"))
    saved = tmp_path / "saved.pt"
    saved.write_bytes(b"a run of hours")
    with pytest.raises(SystemExit) as e:  # a forgotten --resume must not overwrite it
        main(["--quick", "--out", str(tmp_path), "--state", str(saved)])
    assert e.value.code == 2 and "add --resume to continue it" in capsys.readouterr().err
    assert saved.read_bytes() == b"a run of hours"


def test_extend_trains_a_finished_run_on_with_a_warm_restart(tmp_path, arrays):
    from fabricscope.train.model import FabricNet
    from fabricscope.train.resume import RunState
    from fabricscope.train.trainer import train

    state = RunState(tmp_path / "state.pt", every_s=1e9)
    net = FabricNet(stages=TINY)
    first = train(net, arrays, _config(max_steps=4, log_every=1, warmup=1), log=True, state=state)
    assert first.steps == 4 and first.history[-1]["lr"] < 0.02  # the cosine ends near zero
    before = {k: v.clone() for k, v in net.state_dict().items()}

    state.resume = True
    with pytest.raises(ValueError, match=r"max_steps was 4, now 10 \(to train past .* add --extend\)"):
        train(FabricNet(stages=TINY), arrays, _config(max_steps=10, warmup=1), log=False, state=state)
    state.extend = True
    with pytest.raises(ValueError, match="at step 4; give a larger --steps"):
        train(FabricNet(stages=TINY), arrays, _config(max_steps=4, warmup=1), log=False, state=state)

    longer = FabricNet(stages=TINY)
    more = train(longer, arrays, _config(max_steps=10, log_every=1, warmup=1), log=True, state=state)
    assert more.steps == 10 and more.resumed_at == [4]
    assert more.extended == [{"at_step": 4, "from_steps": 4, "to_steps": 10}]
    lrs = [h["lr"] for h in more.history if h["step"] > 4]
    assert lrs[0] > 0.05 and lrs[0] > lrs[-1]  # the rate rose again at the saved step, then fell
    assert any(not torch.equal(a, longer.state_dict()[k]) for k, a in before.items())

    state.extend = False  # the extended run saved its new count: a plain --resume now matches it
    again = train(FabricNet(stages=TINY), arrays, _config(max_steps=10, warmup=1), log=False, state=state)
    assert again.steps == 10 and again.extended == more.extended


def test_extend_needs_resume_and_stays_out_of_the_recorded_command(tmp_path, capsys):
    from fabricscope.train.fit import COMMAND, command_of, main

    with pytest.raises(SystemExit) as e:
        main(["--quick", "--out", str(tmp_path), "--extend"])
    assert e.value.code == 2 and "--extend goes with --resume" in capsys.readouterr().err
    argv = ["--state", "runs/m.pt", "--resume", "--extend", "--steps", "9"]
    assert command_of(argv) == COMMAND + " --steps 9"
