"""bench/loader.py stays runnable: both loaders and the step rate of the test profile on the CPU
(the ratios it prints are measured, never asserted: benchmarks, not tests)."""

from __future__ import annotations

import json
import sys

from tests.conftest import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import loader as loader_bench


def test_both_loaders_and_the_step_rate_are_measured(tmp_path, capsys) -> None:
    out = tmp_path / "loader.json"
    result = loader_bench.main(["--env", "test", "--volumes", "2", "--size", "40", "40", "12", "--out", str(out)])

    assert json.loads(out.read_text())["env"] == "test"
    assert result["size"] == [40, 40, 12] and result["loader_settings"]["batch_size"] == 2
    # 2 volumes x 1 sample each x 2 epochs, from both loaders
    assert result["current"]["patches"] == result["former"]["patches"] == 4
    assert result["current_over_step"] == result["current"]["patches_per_s"] / result["step"]["patches_per_s"]
    assert "current / former" in capsys.readouterr().out


def test_real_size_volumes_keep_the_shape_and_the_vessels() -> None:
    items = loader_bench.real_size_items(1, (40, 36, 12))
    assert items[0].image.shape == items[0].label.shape == (40, 36, 12)
    assert 0 < items[0].label.mean() < 0.5 and items[0].spacing[0] < 1
