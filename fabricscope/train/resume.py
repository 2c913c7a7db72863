"""A training run's saved state, so that a run of hours survives an interruption.

On a CPU without bf16 the shipped recipe's 29,900 steps take about 2.6 hours; a run saves its
state every few minutes and on Ctrl-C (or SIGTERM), and ``--resume`` continues it from there.
The state holds everything the loop reads: weights, optimiser, step, the data order and every
random generator, so a resumed run takes the same steps as one that never stopped (checked bit
for bit in ``tests/test_train_resume.py``). The data are not stored: the generator renders them
again from their seeds.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

STATE_VERSION = 1
# may differ between the parts of a run: they change how fast it goes, not what it computes
FREE_SETTINGS = ("threads", "log_every")


@dataclass
class RunState:
    """Where a run keeps its state, how often it writes it, and whether it starts from it."""

    path: Path
    every_s: float = 300.0
    resume: bool = False
    recipe: dict[str, Any] = field(default_factory=dict)  # the data a resumed run must be given again
    # with resume: the run may go on past the step count it was saved with (a warm restart, see ``check``)
    extend: bool = False


@dataclass
class Loop:
    """The training loop's variables besides the modules (what ``save`` writes, ``load`` restores)."""

    step: int
    pos: int
    order: np.ndarray
    seconds: float
    running: dict[str, torch.Tensor]
    history: list[dict[str, float]]
    resumed_at: list[int]
    extended: list[dict[str, int]] = field(default_factory=list)  # {at_step, from_steps, to_steps}


def settings(cfg: object) -> dict[str, Any]:
    """The training settings a resumed run must share with the run it continues."""
    return {k: v for k, v in asdict(cfg).items() if k not in FREE_SETTINGS}  # type: ignore[call-overload]


def save(
    state: RunState,
    cfg: object,
    loop: Loop,
    modules: dict[str, torch.nn.Module],
    opt: torch.optim.Optimizer,
    rng: np.random.Generator,
    gen: torch.Generator,
) -> None:
    """Write the state next to its final path, then move it there: a crash mid-write keeps the last one."""
    blob = {
        "version": STATE_VERSION,
        "settings": settings(cfg),
        "recipe": state.recipe,
        "step": loop.step,
        "pos": loop.pos,
        "order": torch.from_numpy(np.asarray(loop.order, np.int64)),
        "seconds": loop.seconds,
        "running": {k: v.detach().cpu() for k, v in loop.running.items()},
        "history": loop.history,
        "resumed_at": loop.resumed_at,
        "extended": loop.extended,
        "modules": {k: m.state_dict() for k, m in modules.items()},
        "optimizer": opt.state_dict(),
        "numpy_rng": rng.bit_generator.state,
        "torch_gen": gen.get_state(),
        "torch_rng": torch.get_rng_state(),
    }
    state.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = state.path.with_name(state.path.name + ".part")
    torch.save(blob, tmp)
    os.replace(tmp, state.path)


def check(state: RunState, cfg: object) -> dict[str, Any]:
    """The saved state, if a run of these settings may continue it (ValueError if not): the CLI calls this
    before it spends minutes rendering the data again."""
    if not state.path.is_file():
        raise ValueError(f"--resume: no saved training state at {state.path}")
    blob = torch.load(state.path, map_location="cpu", weights_only=True)
    if blob.get("version") != STATE_VERSION:
        raise ValueError(f"{state.path}: saved by another version of the trainer ({blob.get('version')})")
    saved, now = dict(blob["settings"]), settings(cfg)
    if state.extend:
        # The cosine schedule is recomputed over the new count, so at the saved step the learning rate
        # rises again and falls to zero at the new end: a warm restart, not what one longer run would
        # have done (that one would have left the crops and the high rates later).
        if now["max_steps"] <= int(blob["step"]):
            raise ValueError(
                f"--extend: the saved run is at step {blob['step']}; give a larger --steps (now {now['max_steps']})"
            )
        del saved["max_steps"], now["max_steps"]
    differ = _differences(saved, now) + _differences(blob["recipe"], state.recipe)
    if differ:
        hint = ""
        if not state.extend and [key for key, _ in differ] == ["max_steps"]:
            hint = " (to train past the saved run's end, add --extend)"
        text = "; ".join(message for _, message in differ)
        raise ValueError(f"{state.path} was saved by a run with other settings: {text}{hint}")
    return blob


def load(
    state: RunState,
    cfg: object,
    modules: dict[str, torch.nn.Module],
    opt: torch.optim.Optimizer,
    rng: np.random.Generator,
    gen: torch.Generator,
    device: torch.device,
) -> Loop:
    """Restore a saved run into freshly built modules and optimiser; refuses a run of other settings."""
    blob = check(state, cfg)
    if set(blob["modules"]) != set(modules):
        raise ValueError(f"{state.path}: saved modules {sorted(blob['modules'])}, this run has {sorted(modules)}")
    for name, module in modules.items():
        module.load_state_dict(blob["modules"][name])
    opt.load_state_dict(blob["optimizer"])
    rng.bit_generator.state = blob["numpy_rng"]
    gen.set_state(blob["torch_gen"])
    torch.set_rng_state(blob["torch_rng"])
    extended = [dict(e) for e in blob.get("extended", [])]
    before, after = blob["settings"]["max_steps"], settings(cfg)["max_steps"]
    if state.extend and before != after:
        extended.append({"at_step": int(blob["step"]), "from_steps": before, "to_steps": after})
    return Loop(
        step=int(blob["step"]),
        pos=int(blob["pos"]),
        order=blob["order"].numpy(),
        seconds=float(blob["seconds"]),
        running={k: v.to(device) for k, v in blob["running"].items()},
        history=list(blob["history"]),
        resumed_at=[*blob["resumed_at"], int(blob["step"])],
        extended=extended,
    )


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, message) for each value that differs."""
    keys = sorted(set(saved) | set(now))
    return [(k, f"{k} was {saved.get(k)!r}, now {now.get(k)!r}") for k in keys if saved.get(k) != now.get(k)]
