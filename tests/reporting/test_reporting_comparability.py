"""Runs evaluated under different settings are refused, naming the setting and the runs."""

from __future__ import annotations

import pytest

from minivess_kedro.reporting import RunRecord
from minivess_kedro.reporting.comparability import check_comparable, mixed_settings
from tests.reporting import fakes


def _run(loss: str, fold: int, params: dict | None = None, tags: dict | None = None, tau: float | None = None):
    run = fakes.make_run(loss, fold, tags=tags)
    table = run.volume_metrics if tau is None else run.volume_metrics.assign(nsd_tau=tau)
    return RunRecord(run.run_id, loss, fold, table, run.history, run.params | (params or {}), run.tags)


#: What a run with a model lineage record carries (params ``lineage.*``, read from model_lineage.json).
LINEAGE = {
    "lineage.protocol": "nested",
    "lineage.splitting.sha256": "abc",
    "lineage.training.max_epochs": "100",
    "lineage.training.compute.profile": "gpu_low",
}

REFUSED = [
    pytest.param(
        [
            _run("dice_ce", 0, {"evaluation.sliding_window.overlap": "0.5"}),
            _run("cbdice", 0, {"evaluation.sliding_window.overlap": "0.25"}),
        ],
        "- evaluation.sliding_window.overlap: '0.25' in runs ['cbdice-0']; '0.5' in runs ['dice_ce-0']",
        id="evaluated at another overlap",
    ),
    pytest.param(
        [_run("dice_ce", 0, {**LINEAGE, "lineage.training.val_windows": "auto"}), _run("cbdice", 0, LINEAGE)],
        "- lineage.training.val_windows: (absent) in runs ['cbdice-0']; 'auto' in runs ['dice_ce-0']",
        id="selected on windows vs on whole volumes (before val_windows)",
    ),
    pytest.param(
        [_run("dice_ce", 0, tau=2.0), _run("cbdice", 0, tau=3.0)],
        "- nsd_tau (volume_metrics column): '2' in runs ['dice_ce-0']; '3' in runs ['cbdice-0']",
        id="mixed nsd_tau",
    ),
    pytest.param(
        [_run("dice_ce", 0, tau=2.0), _run("cbdice", 0)],
        "- nsd_tau (volume_metrics column): (absent) in runs ['cbdice-0']; '2' in runs ['dice_ce-0']",
        id="nsd_tau in some runs only",
    ),
    pytest.param(
        [_run("dice_ce", 0, {"training.max_epochs": "100"}), _run("cbdice", 0, {"training.max_epochs": "50"})],
        "- training.max_epochs: '100' in runs ['dice_ce-0']; '50' in runs ['cbdice-0']",
        id="mixed max_epochs",
    ),
    pytest.param(
        [_run("dice_ce", 0, tags={"protocol": "nested"}), _run("cbdice", 0, tags={"protocol": "holdout"})],
        "- protocol (tag): 'holdout' in runs ['cbdice-0']; 'nested' in runs ['dice_ce-0']",
        id="mixed protocol",
    ),
    pytest.param(
        [_run("dice_ce", 0, {"evaluation.components.min_volume_um3": "100"}), _run("cbdice", 0)],
        "- evaluation.components.min_volume_um3: (absent) in runs ['cbdice-0']; '100' in runs ['dice_ce-0']",
        id="evaluation param in one run only",
    ),
    pytest.param(
        [
            _run("dice_ce", 0, {**LINEAGE, "lineage.training.learning_rate": "0.001"}),
            _run("cbdice", 0, {**LINEAGE, "lineage.training.learning_rate": "0.01"}),
        ],
        "- lineage.training.learning_rate: '0.001' in runs ['dice_ce-0']; '0.01' in runs ['cbdice-0']",
        id="the models' own records differ in a training setting",
    ),
    pytest.param(
        [
            _run("dice_ce", 0, {**LINEAGE, "lineage.training.selection_start_epoch": "0"}),
            _run("cbdice", 0, {**LINEAGE, "lineage.training.selection_start_epoch": "70"}),
        ],
        "- lineage.training.selection_start_epoch: '0' in runs ['dice_ce-0']; '70' in runs ['cbdice-0'] "
        "(checkpoints selected from different epochs: a late-term loss would be compared with longer training "
        "and late selection; train every loss with training.selection_start: late_term)",
        id="selected from different epochs (selection_start: own with warp in the study)",
    ),
    pytest.param(
        [_run("dice_ce", 0, LINEAGE), _run("cbdice", 0, {**LINEAGE, "lineage.splitting.sha256": "other"})],
        "- lineage.splitting.sha256: 'abc' in runs ['dice_ce-0']; 'other' in runs ['cbdice-0']",
        id="split differently",
    ),
    pytest.param(
        [
            _run("cbdice", 0, {"training.loss_kwargs.cbdice.alpha": "0.5"}),
            _run("cbdice", 1, {"training.loss_kwargs.cbdice.alpha": "0.3"}),
        ],
        "- training.loss_kwargs.cbdice.alpha (runs of loss 'cbdice'): '0.3' in runs ['cbdice-1']; "
        "'0.5' in runs ['cbdice-0']",
        id="same loss, other kwargs",
    ),
]


@pytest.mark.parametrize(("runs", "line"), REFUSED)
def test_mixed_settings_are_refused_naming_setting_values_and_runs(runs: list[RunRecord], line: str) -> None:
    with pytest.raises(ValueError, match="under different settings and cannot be compared") as error:
        check_comparable(runs)
    assert line in str(error.value).splitlines()


ACCEPTED = [
    pytest.param(
        [
            _run("cbdice", 0, {"training.loss_kwargs.cbdice.alpha": "0.5"}),
            _run("cldice", 0, {"training.loss_kwargs.cldice.alpha": "0.3", "training.loss_kwargs.cbdice.alpha": "9"}),
        ],
        id="kwargs of different losses",
    ),
    pytest.param(
        [_run("dice_ce", 0, {"evaluation.bootstrap.n_resamples": "999"}), _run("cbdice", 0)],
        id="bootstrap settings",
    ),
    pytest.param(
        [_run("dice_ce", 0, {"evaluation.baselines.frangi": "x"}), _run("cbdice", 0, {"training.lr": "0.1"})],
        id="baseline settings and params not listed",
    ),
    pytest.param([_run("dice_ce", 0, tau=2.0), _run("cbdice", 1, tau=2.0)], id="the same nsd_tau"),
    pytest.param(
        [_run("dice_ce", 0, {**LINEAGE, "training.max_epochs": "50"}), _run("cbdice", 0, LINEAGE)],
        id="a re-evaluation under today's config of a model trained like the others",
    ),
    pytest.param(
        [_run("dice_ce", 0, {"evaluation.postprocessing": "['components']"}), _run("cbdice", 0)],
        id="an extra post-processing scored in one run",
    ),
    pytest.param([_run("dice_ce", 0), _run("cbdice", 1)], id="no setting anywhere"),
    pytest.param(
        [
            _run("dice_ce", 0, {**LINEAGE, "lineage.training.sliding_window.sw_batch_size": "4"}),
            _run("cbdice", 0, {**LINEAGE, "lineage.training.sliding_window.sw_batch_size": "8"}),
            _run(
                "cldice",
                0,
                {
                    **LINEAGE,
                    "evaluation.sliding_window.sw_batch_size": "8",
                    "evaluation.sliding_window.stitch_on_cpu": "False",
                },
            ),
        ],
        id="windows per forward pass and where they are stitched (gpu_low vs gpu_high)",
    ),
]


@pytest.mark.parametrize("runs", ACCEPTED)
def test_settings_that_may_differ_are_accepted(runs: list[RunRecord]) -> None:
    assert mixed_settings(runs) == {}
    check_comparable(runs)


def test_every_difference_is_in_one_error() -> None:
    runs = [
        _run("dice_ce", 0, {"training.patience": "15", "splitting.seed": "42"}, tau=2.0),
        _run("cbdice", 0, {"training.patience": "10", "splitting.seed": "42"}, tau=1.0),
    ]
    assert set(mixed_settings(runs)) == {"training.patience", "nsd_tau (volume_metrics column)"}
