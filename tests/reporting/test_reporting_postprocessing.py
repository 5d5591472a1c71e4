"""Post-processing effect against the raw prediction, Betti errors included."""

from __future__ import annotations

import numpy as np
import pytest

from minivess_kedro.reporting import Report
from minivess_kedro.reporting.clustered import clustered_difference
from tests.reporting import direct, fakes
from tests.reporting.conftest import SETTINGS


def _row(report: Report, loss: str, post: str, metric: str):
    t = report.postprocessing_effect
    return t[(t["loss"] == loss) & (t["postprocessing"] == post) & (t["metric"] == metric)].iloc[0]


def test_effect_rows_cover_every_loss_postprocessing_and_metric(report: Report) -> None:
    assert len(report.postprocessing_effect) == 3 * 2 * len(SETTINGS.metrics)
    assert _row(report, "cbdice", "none", "betti0_error")["diff_to_none"] == 0


def test_dsc_gain_has_its_known_value(report: Report) -> None:
    # components adds 0.005 * (i + 1) to volume i: 0.015 on average
    row = _row(report, "dice_ce", "components", "dsc")
    assert row["diff_to_none"] == pytest.approx(0.015)
    assert row["mean"] == pytest.approx(0.705 + 0.015)


@pytest.mark.parametrize("loss", fakes.LOSSES)
def test_betti_effect_matches_a_direct_computation(report: Report, loss: str) -> None:
    runs = fakes.make_runs()
    raw = direct.values(runs, loss, "betti0_error")
    post = direct.values(runs, loss, "betti0_error", post="components")
    a, b = post.groupby("id").mean().to_numpy(), raw.groupby("id").mean().to_numpy()
    row = _row(report, loss, "components", "betti0_error")
    assert row["diff_to_none"] == pytest.approx(np.mean(a - b))
    assert row["diff_to_none"] == pytest.approx(-(raw > 0).mean())  # one component fewer where there was an error
    block = (post - raw).unstack("fold").to_numpy()  # 5 test volumes x 2 runs (the folds)
    expected = clustered_difference([block], SETTINGS.confidence_level)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((expected.ci_low, expected.ci_high))
    assert "Betti-0 error" in report.markdown.split("## Post-processing")[1]
