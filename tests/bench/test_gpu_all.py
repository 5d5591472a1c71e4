"""bench/gpu_all.sh, the one script a GPU machine runs: rehearsed with --quick on the CPU (every
stage in the JSON, written as it goes), and refusing at once without CUDA or the project's Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from minivess_kedro.losses import LOSS_NAMES
from tests.conftest import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "bench" / "gpu_all.sh"


def _run(out, python: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OUT": str(out), "PYTHON": python, "KEDRO_DISABLE_TELEMETRY": "1"}
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        check=False,
        cwd=PROJECT_ROOT / "docs",  # any folder: the script finds the project itself
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_quick_rehearsal_runs_every_stage(tmp_path) -> None:
    done = _run(tmp_path, sys.executable, "--quick")

    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "gpu_check.json").read_text())
    stages = result["stages"]
    assert [name for name in stages] == [
        *(f"loss.{name}" for name in LOSS_NAMES),
        "profile.test",
        "loader",
        "evaluation",
    ]
    assert not [name for name, stage in stages.items() if "error" in stage]
    for name in LOSS_NAMES:  # trained, saved, resumed at epoch 1, then an fp16 step with a GradScaler
        stage = stages[f"loss.{name}"]
        assert stage["resumed_from_epoch"] == 1 and stage["epochs"] == 2, name
        assert stage["fp16_step"]["scale"] > 0 and all(v is not None for v in stage["val_dsc"]), name
    profile = stages["profile.test"]
    assert profile["dice_ce"]["seconds_per_step"] > 0 and profile["cbdice"]["patches_per_s"] > 0
    assert stages["loader"]["current_over_step"] > 0 and stages["evaluation"]["overlap"] == 0.25
    assert "0 failed stage(s)" in done.stdout and done.stdout.count("done in") == len(stages)


def test_without_cuda_it_refuses_at_once(tmp_path) -> None:
    done = _run(tmp_path, sys.executable)

    assert done.returncode == 2
    assert "CUDA is not available" in done.stderr and "--quick rehearses on the CPU" in done.stderr
    assert not (tmp_path / "gpu_check.json").exists()


def test_a_python_without_this_checkout_is_refused(tmp_path) -> None:
    done = _run(tmp_path, "/no/such/python", "--quick")
    assert done.returncode == 2 and "no project Python at '/no/such/python'" in done.stderr

    other = _run(tmp_path, "true", "--quick")  # a program that imports nothing
    assert other.returncode == 2 and "does not import this checkout's minivess_kedro" in other.stderr
