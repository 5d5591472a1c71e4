"""Each sweep cell's commands follow its profile: one kedro run, or torchrun DDP then evaluation."""

from __future__ import annotations

import sys

import click
import pytest
from kedro.config import OmegaConfigLoader
from kedro.framework.cli.project import run as kedro_run_command

from minivess_kedro import settings
from minivess_kedro.cli import sweep
from minivess_kedro.sweep import Cell
from minivess_kedro.sweep.commands import cell_commands


def _compute(project_root, env: str) -> dict:
    loader = OmegaConfigLoader(conf_source=str(project_root / "conf"), env=env, **settings.CONFIG_LOADER_ARGS)
    return loader["parameters"]["training"]["compute"]


def _kedro_options(command: list[str]) -> dict:
    start = command.index("kedro") + 2  # after "-m kedro run"
    assert command[start - 1] == "run"
    return kedro_run_command.make_context("run", command[start:]).params


@pytest.mark.parametrize("env", ["cpu", "gpu_low", "gpu_high", "test"])
def test_single_device_profiles_run_training_and_evaluation_in_one_process(project_root, env) -> None:
    compute = _compute(project_root, env)
    (command,) = cell_commands(Cell("cbdice", 1, 2), env, compute["gpus"], compute["device"])
    options = _kedro_options(command)
    assert command[:3] == [sys.executable, "-m", "kedro"]
    assert options["env"] == env and options["pipelines"] == ["training", "evaluation"]
    assert options["params"] == {"loss": "cbdice", "fold_idx": 1, "seed": 2}


def test_multi_gpu_profile_trains_with_torchrun_then_evaluates(project_root) -> None:
    compute = _compute(project_root, "cloud_multi")
    training, evaluation = cell_commands(Cell("cbdice", 1), "cloud_multi", compute["gpus"], compute["device"])
    assert training[:5] == [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=8"]
    assert _kedro_options(training)["pipelines"] == ["training"]
    assert _kedro_options(evaluation)["pipelines"] == ["evaluation"]
    assert _kedro_options(evaluation)["params"] == {"loss": "cbdice", "fold_idx": 1, "seed": 0}


def test_cpu_device_never_launches_ddp() -> None:
    (command,) = cell_commands(Cell("dice_ce", 0), "cloud_multi", gpus=8, device="cpu")
    assert "torch.distributed.run" not in command


def test_parallel_ddp_cells_on_one_machine_are_refused_before_any_work(project_copy) -> None:
    with pytest.raises(click.BadParameter, match=r"training\.compute\.gpus=8 GPUs with DDP"):
        args = ["--env", "cloud_multi", "--losses", "dice_ce", "--folds", "0,1", "--jobs", "2"]
        sweep.main(args, standalone_mode=False)
    assert not (project_copy / "data").exists()  # nothing was prepared


def test_fold_outside_the_profile_is_refused_before_any_work(project_copy) -> None:
    with pytest.raises(click.BadParameter, match=r"(?s)cell dice_ce-fold5: .*fold_idx=5 is out of range"):
        sweep.main(["--env", "test", "--losses", "dice_ce", "--folds", "0,5"], standalone_mode=False)
    assert not (project_copy / "data").exists()


def test_unknown_loss_is_a_usage_error(project_copy) -> None:
    with pytest.raises(click.BadParameter, match=r"unknown losses \['cbdcie'\]"):
        sweep.main(["--env", "test", "--losses", "dice_ce,cbdcie", "--folds", "0"], standalone_mode=False)
