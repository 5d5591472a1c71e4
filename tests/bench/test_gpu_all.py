"""bench/gpu_all.sh, the one script a GPU machine runs: rehearsed with --quick on the CPU (every
step writes its JSON), and a failing step is counted without stopping the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "bench" / "gpu_all.sh"


def _run(out, python: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OUT": str(out), "PYTHON": python, "KEDRO_DISABLE_TELEMETRY": "1"}
    return subprocess.run(
        ["bash", str(SCRIPT), "--quick"],
        check=False,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_quick_rehearsal_writes_every_result(tmp_path) -> None:
    done = _run(tmp_path, sys.executable)

    assert done.returncode == 0, done.stdout + done.stderr
    smoke = json.loads((tmp_path / "test.smoke.json").read_text())
    real = json.loads((tmp_path / "real_size.test.json").read_text())
    assert smoke["env"] == "test" and real["env"] == "test"
    assert "validation: windows" in real["stages"] and "nested" in real["projection"]
    assert "0 failed step(s)" in done.stdout and "cuda False" in (tmp_path / "device.txt").read_text()


def test_a_failing_step_is_logged_and_the_rest_still_run(tmp_path) -> None:
    done = _run(tmp_path, "false")  # every python step fails

    assert done.returncode == 2  # the smoke step and the real-size step
    assert "!! test.smoke failed" in done.stdout and "!! real_size.test failed" in done.stdout
    assert (tmp_path / "real_size.test.log").exists()
