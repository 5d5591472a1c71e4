"""sweeps/slurm_ray_sweep.sbatch on a pretend two-node allocation: stand-ins for SLURM's and Ray's
commands record how the script calls them."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from pathlib import Path

from minivess_kedro.cli import sweep
from minivess_kedro.losses import LOSS_NAMES
from minivess_kedro.sweep import load_grid_file
from tests.conftest import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "sweeps" / "slurm_ray_sweep.sbatch"
FAKES = {
    "scontrol": 'printf "gpu-node1\\ngpu-node2\\n"',
    # srun records its own options and runs the step (hostname answers with the node's addresses).
    "srun": 'opts=(); while [[ "$1" == -* ]]; do\n'
    '  [[ "$1" == -w ]] && { opts+=("$1"); shift; }; opts+=("$1"); shift\ndone\n'
    '[[ "$1" == hostname ]] && { echo "10.0.0.7 fe80::1"; exit 0; }\necho "srun ${opts[*]}" >> "$CALLS"\nexec "$@"',
    "ray": 'echo "ray $*" >> "$CALLS"',
    "kedro": 'echo "kedro $* RAY_ADDRESS=$RAY_ADDRESS" >> "$CALLS"',
}


def _fake_commands(folder: Path) -> None:
    folder.mkdir()
    for name, body in FAKES.items():
        path = folder / name
        path.write_text(f"#!/usr/bin/env bash\n{body}\n")
        path.chmod(0o755)


def _calls(path: Path, expected: int) -> list[str]:
    deadline = time.monotonic() + 10  # the Ray steps run in the background of the script
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= expected:
            return sorted(lines)
        time.sleep(0.1)
    return sorted(lines)


def test_script_starts_ray_on_every_node_then_sweeps_on_the_cluster(tmp_path) -> None:
    _fake_commands(tmp_path / "bin")
    calls = tmp_path / "calls.txt"
    env = os.environ | {
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "CALLS": str(calls),
        "SLURM_JOB_NODELIST": "gpu-node[1-2]",
        "SLURM_CPUS_PER_TASK": "16",
        "SLURM_GPUS_PER_TASK": "4",
        "RAY_HEAD_WAIT": "0",
        "RAY_WORKER_WAIT": "0",
    }
    done = subprocess.run(["bash", str(SCRIPT)], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr

    kedro, worker, head, srun_head, srun_worker = _calls(calls, 5)  # sorted
    step = "--nodes=1 --ntasks=1 --cpus-per-task=16 --gpus-per-task=4"
    assert (srun_head, srun_worker) == (f"srun {step} -w gpu-node1", f"srun {step} -w gpu-node2")
    assert head == "ray start --head --node-ip-address=10.0.0.7 --port=6379 --num-cpus=16 --num-gpus=4 --block"
    assert worker == "ray start --address=10.0.0.7:6379 --num-cpus=16 --num-gpus=4 --block"
    assert kedro == "kedro sweep --env gpu_low --grid sweeps/study.yml --backend ray RAY_ADDRESS=10.0.0.7:6379"


def test_script_sweep_command_and_grid_are_valid() -> None:
    line = [line for line in SCRIPT.read_text().splitlines() if line.startswith("RAY_ADDRESS=")][-1]
    arguments = line.split("kedro sweep", 1)[1].replace('"$env_name"', "gpu_low").replace('"$grid"', "sweeps/study.yml")
    words = shlex.split(arguments)
    options = sweep.make_context("sweep", words).params
    assert options["backend"] == "ray"
    cells = load_grid_file(PROJECT_ROOT / "sweeps" / "study.yml", LOSS_NAMES)
    assert len(cells) == 18 and {cell.loss for cell in cells} == {"dice_ce", "dice_cldice", "cbdice"}
    assert {(cell.fold_idx, cell.seed) for cell in cells} == {(f, s) for f in (0, 1, 2) for s in (0, 1)}
