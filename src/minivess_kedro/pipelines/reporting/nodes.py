"""Node that builds the comparison report from the collected runs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from minivess_kedro.io import read_nifti
from minivess_kedro.pipelines.reporting.params import ReportingParams
from minivess_kedro.reporting import (
    ReportSettings,
    RunRecord,
    build_report,
    example_from_volumes,
    pick_examples,
)
from minivess_kedro.reporting.ensembles import ensemble_request, verdict_postprocessing
from minivess_kedro.reporting.promotion import (
    AliasTarget,
    ModelVersion,
    PromotionSettings,
    alias_assignments,
    as_text,
)
from minivess_kedro.reporting.report import judge_study
from minivess_kedro.sweep.grid import seed_suffix

logger = logging.getLogger(__name__)


def _records(runs: pd.DataFrame, volume_metrics: pd.DataFrame, histories: pd.DataFrame) -> list[RunRecord]:
    records = []
    for row in runs.itertuples():
        records.append(
            RunRecord(
                run_id=row.run_id,
                loss=row.loss,
                fold_idx=int(row.fold_idx),
                seed=int(getattr(row, "seed", 0)),
                volume_metrics=volume_metrics[volume_metrics["run_id"] == row.run_id].drop(columns="run_id"),
                history=histories[histories["run_id"] == row.run_id].drop(columns="run_id"),
                params=json.loads(row.params),
                tags=json.loads(row.tags),
            )
        )
    return records


def _versions(runs: pd.DataFrame) -> dict[str, ModelVersion]:
    """Run id -> the registered model version it evaluated (runs without one are left out)."""
    if "model_name" not in runs.columns:
        return {}
    found = {}
    for row in runs.itertuples():
        name, version = as_text(row.model_name), as_text(row.model_version)
        if name and version:
            registered = as_text(getattr(row, "model_weights_sha256", ""))
            evaluated = as_text(getattr(row, "evaluated_weights_sha256", ""))
            found[row.run_id] = ModelVersion(name, version, registered, evaluated)
    return found


def _current(registry_aliases: dict) -> dict[tuple[str, str], AliasTarget]:
    """``(model name, alias)`` -> where it points, from ``registry_aliases.json``."""
    return {
        (name, alias): AliasTarget(
            str(target["version"]), str(target.get("dataset_fingerprint", "")), str(target.get("loss", ""))
        )
        for name, aliases in registry_aliases.items()
        for alias, target in aliases.items()
    }


def _protocol(runs: list[RunRecord], fingerprint: dict) -> dict:
    """The data and code behind the runs; the study design (protocol, folds, seeds, what each run
    was tested and selected on) is read by the report from each run's own record."""

    def values(source: str, key: str) -> list[str]:
        return sorted({getattr(r, source).get(key, "?") for r in runs})

    return {
        "data": {
            "source": fingerprint["source"],
            "volumes": fingerprint["num_volumes"],
            "dataset_fingerprint": fingerprint["fingerprint"],
        },
        "training": {
            "compute_profiles": values("tags", "compute_profile"),
            "max_epochs": values("params", "training.max_epochs"),
            "base_seeds": values("params", "training.seed"),
            "patch_size": values("params", "training.compute.patch_size"),
        },
        "code": {"git_commits": values("tags", "git_commit"), "kedro_env": values("tags", "kedro_env")},
    }


def _settings(params: ReportingParams) -> tuple[ReportSettings, PromotionSettings]:
    settings = ReportSettings(
        reference_loss=params.reference_loss,
        postprocessing=params.postprocessing,
        primary_metrics=params.primary_metrics,
        non_inferiority_margins=params.non_inferiority_margins,
        restrict_to_shared_cells=params.restrict_to_shared_cells,
        bootstrap_method=params.bootstrap.method,
        n_resamples=params.bootstrap.n_resamples,
        confidence_level=params.bootstrap.confidence_level,
        seed=params.bootstrap.seed,
    )
    promotion = PromotionSettings(
        metrics=params.promotion.metrics,
        reference_alias=params.promotion.reference_alias,
        alpha=settings.alpha,
        enabled=params.promotion.enabled,
    )
    return settings, promotion


def plan_ensembles(
    study_runs: pd.DataFrame,
    study_volume_metrics: pd.DataFrame,
    study_histories: pd.DataFrame,
    dataset_fingerprint: dict,
    reporting: dict,
    registry_aliases: dict,
) -> dict[str, dict]:
    """The fold ensembles the verdict promotes, as requests to register
    (:func:`~minivess_kedro.reporting.ensembles.ensemble_request`; saving registers them): one per
    loss an alias goes to, holding every run of that loss; none with ``reporting.promotion.enabled:
    false`` or when the report may not promote (selection-biased, incomplete grid).

    Returns:
        ``{loss: request}``.
    """
    params = ReportingParams.model_validate(reporting)
    settings, promotion = _settings(params)
    if not promotion.enabled:
        return {}
    runs = _records(study_runs, study_volume_metrics, study_histories)
    verdict = judge_study(runs, _protocol(runs, dataset_fingerprint), settings)
    choices = verdict.choices(settings, promotion, _current(registry_aliases))
    losses = {loss for choice in choices for loss in choice.losses()}
    postprocessing = verdict_postprocessing(verdict.runs, settings.postprocessing)
    versions = _versions(study_runs)
    requests = {loss: ensemble_request(loss, verdict.runs, versions, postprocessing) for loss in sorted(losses)}
    for loss, request in requests.items():
        if "refused" in request:
            logger.warning("No ensemble of %s: %s", loss, request["refused"])
    return requests


def build_study_report(
    study_runs: pd.DataFrame,
    study_volume_metrics: pd.DataFrame,
    study_histories: pd.DataFrame,
    baseline_metrics: pd.DataFrame,
    raw_images: dict,
    raw_labels: dict,
    dataset_fingerprint: dict,
    reporting: dict,
    registry_aliases: dict,
    study_ensembles: dict,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict, str, str, pd.DataFrame]:
    """Tables, figures and the Markdown/HTML report of every collected run, with where the
    registry aliases go by its verdict (``registry_aliases``: where they point now;
    ``study_ensembles``: the ensembles registered for it, :func:`plan_ensembles`).

    Returns:
        ``(loss_table, fold_table, comparisons, postprocessing_effect, figures, markdown, html,
        promotions)``.
    """
    params = ReportingParams.model_validate(reporting)
    settings, promotion = _settings(params)
    runs = _records(study_runs, study_volume_metrics, study_histories)
    examples, seeds = [], {run.run_id: run.seed for run in runs}
    for choice in pick_examples(runs, settings):
        prediction_path = (
            Path(params.predictions_root)
            / choice.loss
            / f"fold_{choice.fold_idx}{seed_suffix(seeds[choice.run_id])}"
            / "predictions"
            / params.postprocessing
            / f"{choice.volume_id}.nii.gz"
        )
        if not prediction_path.exists():
            logger.warning("No prediction %s: example %s left out", prediction_path, choice.volume_id)
            continue
        examples.append(
            example_from_volumes(
                choice,
                raw_images[choice.volume_id]().array,
                raw_labels[choice.volume_id]().array,
                read_nifti(prediction_path).array,
            )
        )
    report = build_report(
        runs,
        baseline_metrics,
        examples,
        _protocol(runs, dataset_fingerprint),
        settings,
        promotion=promotion,
        ensembles=study_ensembles,
        current_aliases=_current(registry_aliases),
    )
    figures = {
        f"{name}.png": figure for name, figure in report.figures.items()
    }  # the Markdown links figures/<name>.png
    return (
        report.loss_table,
        report.fold_table,
        report.comparisons,
        report.postprocessing_effect,
        figures,
        report.markdown,
        report.html,
        report.promotions,
    )


def promote_models(report_promotions: pd.DataFrame, reporting: dict) -> dict[str, dict[str, str]]:
    """The aliases the report sets, moves or removes, ``{model name: {alias: version}}`` (version
    ``""``: remove; saving changes the registry); nothing with ``reporting.promotion.enabled: false``."""
    if not ReportingParams.model_validate(reporting).promotion.enabled:
        logger.info("reporting.promotion.enabled is false: no registry alias set (the report says where they would go)")
        return {}
    return alias_assignments(report_promotions)
