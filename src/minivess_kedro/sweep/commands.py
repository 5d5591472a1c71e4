"""The command lines of a sweep: data preparation, and each cell's training and evaluation."""

from __future__ import annotations

import sys

from minivess_kedro.sweep.grid import Cell


def kedro_run(env: str | None, *args: str) -> list[str]:
    """``kedro run [--env ENV] ARGS`` with this interpreter (the project's virtualenv)."""
    return [sys.executable, "-m", "kedro", "run", *(["--env", env] if env else []), *args]


def cell_commands(cell: Cell, env: str | None, gpus: int = 1, device: str = "auto") -> list[list[str]]:
    """What one cell runs: training and evaluation in one ``kedro run``; on a profile with several
    GPUs, DDP training under ``torchrun`` (one process per GPU), then the evaluation.

    Args:
        cell: the loss, fold and seed.
        env: the compute profile.
        gpus: the profile's ``training.compute.gpus``.
        device: the profile's ``training.compute.device`` (``cpu`` never launches DDP).
    """
    params = ("--params", f"loss={cell.loss},fold_idx={cell.fold_idx},seed={cell.seed}")
    if gpus <= 1 or device == "cpu":
        return [kedro_run(env, "--pipelines", "training,evaluation", *params)]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}"]
    training = kedro_run(env, "--pipelines", "training", *params)
    return [torchrun + training[1:], kedro_run(env, "--pipelines", "evaluation", *params)]
