"""Typed ``reporting`` parameters."""

from __future__ import annotations

from typing import Literal

from minivess_kedro.pipelines.params_base import BootstrapParams, StrictParams


class ReportingParams(StrictParams):
    """``reporting:`` in ``parameters_reporting.yml``.

    Attributes:
        reference_loss: every other loss is compared with this one.
        postprocessing: which predictions the main tables use (``none`` = raw argmax).
        pairing: ``volume`` (fold-averaged per volume) or ``fold_volume`` (pooled pairs).
        run_ids: report on these MLflow runs only (default: every finished, evaluated run of the
            env's experiment; the latest per loss and fold).
        predictions_root: where the evaluation wrote predictions (``<loss>/fold_<k>/predictions``),
            read for the example figure.
        bootstrap: confidence intervals.
    """

    reference_loss: str = "dice_ce"
    postprocessing: str = "none"
    pairing: Literal["volume", "fold_volume"] = "volume"
    run_ids: tuple[str, ...] = ()
    predictions_root: str
    bootstrap: BootstrapParams = BootstrapParams()
