"""bench/real_size.py stays runnable and its projection is the arithmetic of its measured stages
(no timing is asserted: the numbers are the benchmark's to print)."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from tests.conftest import PROJECT_ROOT

STAGES = (
    "ingestion: read + validate, all",
    "cached training dataset",
    "one training epoch",
    "validation: windows",
    "validation: whole volumes",
    "evaluation: prediction",
    "evaluation: components",
    "evaluation: metrics, 2 variants",
    "baseline: Otsu, one volume",
    "baseline: Frangi, one volume",
    "baseline: Frangi fit, 2 volumes",
)


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(PROJECT_ROOT / "bench"))  # it imports its sibling gpu_smoke.py
    spec = importlib.util.spec_from_file_location("bench_real_size", PROJECT_ROOT / "bench" / "real_size.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.path.remove(str(PROJECT_ROOT / "bench"))


def test_protocol_counts_are_those_of_the_real_dataset(bench) -> None:
    assert bench.protocol_counts("previous") == {"train": 40, "val": 20, "evaluated": 30}
    nested = bench.protocol_counts("nested")
    test = nested["evaluated"] - nested["val"]
    assert nested["train"] + nested["val"] + test == 70 and test in (23, 24)  # 3 outer folds of 70
    assert nested["val"] == round(0.2 * (70 - test))


def test_a_small_run_measures_every_stage_and_projects_from_them(bench, tmp_path, capsys) -> None:
    out = tmp_path / "real_size.json"
    args = ["--env", "test", "--volumes", "3", "--size", "32", "32", "--depth", "10", "12", "--patches", "6"]
    result = bench.main([*args, "--out", str(out)])

    assert json.loads(out.read_text())["projection"] == result["projection"]
    assert [shape[:2] for shape in result["shapes"]] == [[32, 32]] * 3
    stages = result["stages"]
    for name in STAGES:
        assert stages[name]["seconds"] >= 0 and stages[name]["peak_rss_gib"] > 0, name
    assert stages["validation: whole volumes"]["volumes"] == 1
    assert stages["one training epoch"]["patches"] == 6  # --patches: the timed epoch's, on 1 training volume
    projection = result["projection"]
    assert projection["samples_per_volume"] == bench.profile_parameters("test").samples_per_volume  # the run's
    for protocol in ("previous", "nested"):
        p = projection[protocol]
        patches = p["train"] * projection["samples_per_volume"]
        assert p["train_epoch_s"] == pytest.approx(patches * projection["seconds_per_patch"])
        assert p["validation_whole_s"] == pytest.approx(p["val"] * projection["seconds_per_whole_volume"])
        # val_windows auto: windows in all about half the epoch's patches
        windows = p["validation_s"] / projection["seconds_per_window"]
        assert windows == pytest.approx(p["val"] * round(patches / (2 * p["val"])))
        assert p["validation_over_epoch"] == pytest.approx(p["validation_s"] / p["train_epoch_s"])
        evaluated = p["evaluated"] * projection["evaluation_per_volume_s"]
        assert p["run_h"] == pytest.approx((100 * (p["train_epoch_s"] + p["validation_s"]) + evaluated) / 3600)
    printed = capsys.readouterr().out
    assert "validation at most a quarter of a training epoch" in printed and "previous (40 train, 20 val" in printed


@pytest.mark.parametrize(
    ("shape", "roi", "overlap", "expected"),
    [
        ((64, 64, 16), (64, 64, 16), 0.5, 1),
        ((128, 64, 16), (64, 64, 16), 0.5, 3),
        ((100, 64, 8), (64, 64, 16), 0.25, 2),
    ],
)
def test_window_count_is_monai_s(bench, shape, roi, overlap, expected) -> None:
    from monai.data.utils import dense_patch_slices  # noqa: PLC0415

    interval = [max(1, int(r * (1 - overlap))) for r in roi]
    padded = [max(s, r) for s, r in zip(shape, roi, strict=True)]
    assert bench.window_count(shape, roi, overlap) == len(dense_patch_slices(padded, roi, interval)) == expected
