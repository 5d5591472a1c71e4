"""bench/gpu_smoke.py stays runnable: the test profile's steps and a small volume on the CPU
(no timing is asserted here; the numbers come from the GPU machine)."""

from __future__ import annotations

import importlib.util
import json
import math

from tests.conftest import PROJECT_ROOT


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_gpu_smoke", PROJECT_ROOT / "bench" / "gpu_smoke.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_run_reports_both_precisions_and_the_whole_volume(tmp_path, capsys) -> None:
    bench = _bench_module()
    out = tmp_path / "smoke.json"
    args = ["--env", "test", "--steps", "2", "--repeats", "1", "--volume", "40", "36", "12", "--device", "cpu"]
    result = bench.main([*args, "--out", str(out)])

    assert json.loads(out.read_text())["hardware"] == result["hardware"]
    training = result["training"]
    assert training["batch_size"] == 2 and training["patch_size"] == [16, 16, 8]  # the test profile's
    assert set(training["patches_per_s"]) == {"amp", "float32"}
    assert all(rate > 0 for rate in training["patches_per_s"].values())
    assert training["amp_dtype"].startswith("none")  # no autocast on the CPU
    assert result["inference"]["shape"] == [40, 36, 12] and result["inference"]["seconds"] > 0
    assert math.isnan(result["inference"]["peak_gib"])
    assert "AMP (none (CPU: float32)) / float32" in capsys.readouterr().out
