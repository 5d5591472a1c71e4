"""bench/metrics.py stays runnable and its paths agree (no timing is asserted here)."""

from __future__ import annotations

import importlib.util

import numpy as np
from metrics_shapes import PROJECT_ROOT


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_metrics", PROJECT_ROOT / "bench" / "metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_paths_give_identical_values_on_a_small_volume(capsys) -> None:
    bench = _bench_module()
    assert bench.main(["--shape", "64", "64", "16", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "identical values on both paths: yes" in out
    assert "MASD + HD95 + NSD" in out


def test_generated_prediction_is_a_plausible_vessel_segmentation() -> None:
    bench = _bench_module()
    pred, ref = bench.vessel_pair((96, 96, 24), (0.7, 0.7, 5.0), seed=3)
    dsc = 2 * np.count_nonzero(pred & ref) / (pred.sum() + ref.sum())
    assert 0.01 < ref.mean() < 0.2 and 0.7 < dsc < 0.97
