"""Loud errors that name what is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from minivess_kedro.reporting import ExampleSlices, ReportSettings, RunRecord, build_report
from tests.reporting import fakes
from tests.reporting.conftest import SETTINGS


def _build(runs, baselines=None, examples=(), settings=SETTINGS):
    return build_report(runs, baselines, list(examples), fakes.PROTOCOL, settings)


def test_no_runs() -> None:
    with pytest.raises(ValueError, match="runs is empty"):
        _build([])


def test_a_run_without_a_metric_column_is_named() -> None:
    runs = fakes.make_runs()
    bad = runs[3]
    runs[3] = RunRecord(bad.run_id, bad.loss, bad.fold_idx, bad.volume_metrics.drop(columns=["hd95"]))
    message = r"run 'cbdice-1' \(loss 'cbdice', fold 1\): volume_metrics lacks columns \['hd95'\]"
    with pytest.raises(ValueError, match=message):
        _build(runs)


def test_duplicate_loss_and_fold_names_both_runs() -> None:
    runs = fakes.make_runs()
    twin = RunRecord("second-run", "cbdice", 1, runs[3].volume_metrics)
    with pytest.raises(ValueError, match="two runs of loss 'cbdice' fold 1: 'cbdice-1' and 'second-run'"):
        _build([*runs, twin])


def test_runs_with_and_without_test_rows_do_not_mix() -> None:
    runs = [*fakes.make_runs(losses=("dice_ce",)), fakes.make_run("cbdice", 0, test=False)]
    with pytest.raises(ValueError, match=r"these have none: \[\"run 'cbdice-0'"):
        _build(runs)


def test_a_missing_postprocessing_lists_what_exists() -> None:
    message = r"no 'test' rows with postprocessing 'toposculpt'; found \['components', 'none'\]"
    with pytest.raises(ValueError, match=message):
        _build(fakes.make_runs(), settings=ReportSettings(n_resamples=999, postprocessing="toposculpt"))


def test_a_nan_score_is_not_silently_dropped() -> None:
    runs = fakes.make_runs()
    table = runs[0].volume_metrics.copy()
    table.loc[0, "dsc"] = np.nan
    runs[0] = RunRecord(runs[0].run_id, runs[0].loss, 0, table)
    with pytest.raises(ValueError, match=r"run 'dice_ce-0'.*'dsc' is NaN for volumes \['mv01'\]"):
        _build(runs)


def test_repeated_rows_of_one_run() -> None:
    runs = fakes.make_runs()
    table = runs[0].volume_metrics
    runs[0] = RunRecord(runs[0].run_id, runs[0].loss, 0, table.iloc[[0, 0, *range(1, len(table))]])
    with pytest.raises(ValueError, match="dice_ce-0.*repeats rows"):
        _build(runs)


def test_bad_baselines() -> None:
    with pytest.raises(ValueError, match=r"baselines lacks columns \['nsd'\]"):
        _build(fakes.make_runs(), fakes.baselines().drop(columns=["nsd"]))
    with pytest.raises(ValueError, match=r"baseline methods \['cbdice'\] have the names of losses"):
        _build(fakes.make_runs(), fakes.baselines().replace({"method": {"otsu": "cbdice"}}))


def test_bad_example_slices() -> None:
    bad = ExampleSlices("mv01", "cbdice", 0, 0.5, np.zeros((4, 4)), np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="example 'mv01'.*three 2D arrays of one shape"):
        _build(fakes.make_runs(), examples=[bad])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bootstrap_method": "jackknife"}, "method must be one of"),
        ({"metrics": ()}, "metrics must be a non-empty list"),
        ({"reference_loss": ""}, "reference_loss is empty"),
    ],
)
def test_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReportSettings(**kwargs)
