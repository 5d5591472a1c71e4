"""Build the comparison report from finished runs: tables, figures, Markdown and HTML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from minivess_kedro.reporting.comparability import check_comparable
from minivess_kedro.reporting.comparisons import compare_to_reference, power_caveat
from minivess_kedro.reporting.content import TITLE, ReportContent, report_blocks
from minivess_kedro.reporting.design import StudyDesign, study_design
from minivess_kedro.reporting.document import to_html, to_markdown
from minivess_kedro.reporting.examples import examples_figure
from minivess_kedro.reporting.figures import dsc_vs_cldice, metric_boxplots, placeholder, training_curves
from minivess_kedro.reporting.grid import check_grid
from minivess_kedro.reporting.metric_info import distance_unit
from minivess_kedro.reporting.postprocessing_effect import postprocessing_effect
from minivess_kedro.reporting.promotion import AliasTarget, PromotionSettings, choose_losses, plan_promotions
from minivess_kedro.reporting.protocol import consistency_caveats, selection_biased
from minivess_kedro.reporting.records import (
    ExampleSlices,
    RunRecord,
    report_split,
    table_distance_units,
    validate_examples,
    validate_runs,
    with_postprocessing,
)
from minivess_kedro.reporting.report_settings import ReportSettings
from minivess_kedro.reporting.tables import fold_table, loss_order, summary_table
from minivess_kedro.reporting.values import baseline_values, incomparable_baselines, run_values


@dataclass(frozen=True)
class Report:
    """The comparison report.

    Attributes:
        loss_table: long table, one row per loss (and baseline) x metric: ``mean`` (mean over
            folds of the fold means), ``ci_low``/``ci_high`` (bootstrap over volumes),
            ``fold_std``, ``n_folds`` (NA for baselines), ``n_volumes``, ``n_nan_replaced``,
            ``kind`` (``loss``/``baseline``), ``split``, ``postprocessing``.
        fold_table: one row per loss x fold x metric (``summarize_metrics`` of each run).
        comparisons: one row per metric x loss against the reference (see
            :func:`~minivess_kedro.reporting.comparisons.compare_to_reference`); empty when the
            reference loss has no run.
        postprocessing_effect: one row per loss x post-processing x metric.
        baseline_table: the baseline rows of ``loss_table``.
        figures: ``metric_boxplots``, ``training_curves``, ``dsc_vs_cldice``, ``examples``.
        markdown: ``report.md`` (figures referenced as ``figures/<name>.png``).
        html: self-contained ``report.html`` (figures embedded as base64 PNG).
        split: the split the numbers come from (``test``, or ``val`` without a test set).
        selection_biased: whether the numbers come from the volumes the checkpoints were selected on.
        design: the study design derived from the runs (protocol, folds, seeds, volumes, NSD
            tolerance); ``None`` only for reports built by hand.
        promotions: which model version each registry alias goes to and why
            (:func:`~minivess_kedro.reporting.promotion.plan_promotions`); empty without
            promotion settings.
    """

    loss_table: pd.DataFrame
    fold_table: pd.DataFrame
    comparisons: pd.DataFrame
    postprocessing_effect: pd.DataFrame
    baseline_table: pd.DataFrame
    figures: dict[str, Figure]
    markdown: str
    html: str
    split: str = "test"
    selection_biased: bool = False
    design: StudyDesign | None = None
    promotions: pd.DataFrame = field(default_factory=pd.DataFrame)


def _check_postprocessing(runs: Sequence[RunRecord], split: str, postprocessing: str) -> None:
    for run in runs:
        table = with_postprocessing(run.volume_metrics)
        found = set(table[table["split"] == split]["postprocessing"])
        if postprocessing not in found:
            raise ValueError(
                f"{run.label}: no {split!r} rows with postprocessing {postprocessing!r}; found {sorted(found)}."
            )


def _figures(
    runs: Sequence[RunRecord],
    values: pd.DataFrame,
    entries: list[tuple[str, str]],
    losses: list[str],
    examples: Sequence[ExampleSlices],
    settings: ReportSettings,
    unit: str,
) -> dict[str, Figure]:
    """The four figures; the scatter is a placeholder unless DSC and clDice are reported."""
    has_scatter = {"dsc", "cldice"} <= set(settings.metrics)
    return {
        "metric_boxplots": metric_boxplots(values, entries, settings.metrics, settings.reference_loss, unit),
        "training_curves": training_curves(runs, losses),
        "dsc_vs_cldice": dsc_vs_cldice(values, entries, settings.reference_loss)
        if has_scatter
        else placeholder("dsc and cldice are not both among the reported metrics.", "DSC vs clDice"),
        "examples": examples_figure(examples),
    }


def _complete_grid(runs: Sequence[RunRecord], settings: ReportSettings) -> tuple[list[RunRecord], str | None]:
    """The runs of the (fold, seed) cells every loss has, and a note when some were left out
    (:func:`~minivess_kedro.reporting.grid.check_grid`: an error unless restricting is asked for)."""
    cells = pd.DataFrame(
        {"loss": [r.loss for r in runs], "fold_idx": [r.fold_idx for r in runs], "seed": [r.seed for r in runs]}
    )
    kept, note = check_grid(cells, sorted(set(cells["loss"])), settings.restrict_to_shared_cells)
    shared = set(zip(kept["loss"], kept["fold_idx"], kept["seed"], strict=True))
    return [r for r in runs if (r.loss, r.fold_idx, r.seed) in shared], note


def _refusal(biased: bool, grid_note: str | None) -> str | None:
    """Why this report may not move any registry alias, or ``None``."""
    if biased:
        return (
            "the numbers are selection-biased (scored on the volumes the checkpoints were selected on): "
            "no verdict to promote on"
        )
    if grid_note:
        return "the grid is incomplete (the losses were not all run on the same (fold, seed) cells)"
    return None


@dataclass(frozen=True)
class StudyVerdict:
    """What the comparisons of a set of runs concluded, before tables and figures.

    Attributes:
        runs: the runs of the complete (loss, fold, seed) grid.
        grid_note: which runs were left out of an incomplete grid (``None``: none).
        split: the split the numbers come from.
        every: the runs' per-volume values under every post-processing.
        main: those of the report's post-processing.
        design: the study design.
        comparisons: each loss against the reference.
        comparison_note: why there are no comparisons (``None``: there are).
        biased: the numbers are selection-biased.
        refusal: why the report may not promote (``None``: it may).
    """

    runs: list[RunRecord]
    grid_note: str | None
    split: str
    every: pd.DataFrame
    main: pd.DataFrame
    design: StudyDesign
    comparisons: pd.DataFrame
    comparison_note: str | None
    biased: bool
    refusal: str | None

    def choices(
        self, settings: ReportSettings, promotion: PromotionSettings, current: Mapping[tuple[str, str], AliasTarget]
    ):
        """The loss each registry alias goes to (:func:`~minivess_kedro.reporting.promotion.choose_losses`)."""
        return choose_losses(self.runs, self.comparisons, settings.reference_loss, current, promotion, self.refusal)


def judge_study(runs: Sequence[RunRecord], protocol: Mapping[str, Any], settings: ReportSettings) -> StudyVerdict:
    """The checks and comparisons of :func:`build_report` (its arguments), without the tables,
    figures and documents: what the promotion of models needs before the report is written.

    Raises:
        ValueError: as :func:`build_report`, for the runs and protocol.
    """
    validate_runs(runs, settings.metrics)
    check_comparable(runs)
    split = report_split(runs)
    _check_postprocessing(runs, split, settings.postprocessing)
    runs, grid_note = _complete_grid(runs, settings)
    every = run_values(runs, split, settings.metrics)
    main = every[every["postprocessing"] == settings.postprocessing]
    design = study_design(runs, split, main)
    losses = loss_order(list(main["loss"]), settings.reference_loss)
    comparisons, comparison_note = compare_to_reference(main, losses, settings)
    biased = selection_biased(split, protocol, design.protocol if design.declared else None)
    return StudyVerdict(
        runs, grid_note, split, every, main, design, comparisons, comparison_note, biased, _refusal(biased, grid_note)
    )


def build_report(
    runs: Sequence[RunRecord],
    baselines: pd.DataFrame | None,
    examples: Sequence[ExampleSlices],
    protocol: Mapping[str, Any],
    settings: ReportSettings,
    promotion: PromotionSettings | None = None,
    ensembles: Mapping[str, Mapping] | None = None,
    current_aliases: Mapping[tuple[str, str], AliasTarget] | None = None,
) -> Report:
    """Compare the losses of a set of finished runs.

    Args:
        runs: one per loss x fold x seed; their tags and params say under which protocol they
            ran (see :mod:`~minivess_kedro.reporting.design`) and must agree on every setting of
            :func:`~minivess_kedro.reporting.comparability.mixed_settings`.
        baselines: per-volume table of the classical baselines (``method``, ``id``, the metrics,
            ``diagonal``; optional ``split``), or ``None``.
        examples: slices for the example figure (see :func:`~minivess_kedro.reporting.pick_examples`).
        protocol: data, splits, profile, epochs, seeds, commit ...: rendered as the Protocol
            section (its ``splits.*`` rows left out when the runs declare their protocol). For runs
            without a ``protocol`` tag, ``checkpoint_selected_on_reported_volumes`` (top level or
            under ``splits``) flags selection bias; runs tagged ``previous`` are always flagged.
        settings: reference loss, metrics (primary, secondary), post-processing, bootstrap,
            non-inferiority margins, what to do with an incomplete grid.
        promotion: which registry aliases the verdict sets (``None``: no promotion section).
        ensembles: loss -> its registered fold ensemble, or why none was
            (:class:`~minivess_kedro.datasets.ensemble_registry_dataset.EnsembleRegistryDataset`).
        current_aliases: ``(model name, alias)`` -> where the alias points now.

    Returns:
        The :class:`Report`.

    Raises:
        ValueError: on no runs, a run lacking a metric column, two runs of one loss, fold and
            seed, losses run on different (fold, seed) cells (one error listing the missing ones,
            unless ``settings.restrict_to_shared_cells``), runs trained or evaluated under
            different settings (one error naming each setting and which runs have which value),
            runs with and without test rows, a protocol that contradicts the tables, a missing
            post-processing, bad baselines or examples.
    """
    if not isinstance(protocol, Mapping):
        raise ValueError(f"protocol must be a mapping, got {type(protocol).__name__}.")
    validate_examples(examples)
    verdict = judge_study(runs, protocol, settings)
    runs, split, every, main, design = verdict.runs, verdict.split, verdict.every, verdict.main, verdict.design
    comparisons, grid_note = verdict.comparisons, verdict.grid_note
    reported_ids = sorted(set(main["id"]))
    mismatch = incomparable_baselines(baselines, design.nsd_tau, design.protocol)
    base, base_note = baseline_values(
        None if mismatch else baselines, split, settings.metrics, settings.postprocessing, reported_ids
    )
    base_note = mismatch or base_note
    losses = loss_order(list(main["loss"]), settings.reference_loss)
    clash = sorted(set(base["loss"]) & set(losses))
    if clash:
        raise ValueError(f"baseline methods {clash} have the names of losses; rename them.")
    methods = sorted(set(base["loss"]))
    values = pd.concat([main, base], ignore_index=True) if len(base) else main
    loss_tab = summary_table(values, split, settings, [*losses, *methods], nested=design.nested)
    effect = postprocessing_effect(every, losses, settings)
    unit = distance_unit(protocol, table_distance_units(runs, baselines))
    entries = [(loss, "loss") for loss in losses] + [(m, "baseline") for m in methods]
    figures = _figures(runs, values, entries, losses, examples, settings, unit)
    promotions = (
        pd.DataFrame()
        if promotion is None
        else plan_promotions(
            verdict.choices(settings, promotion, current_aliases or {}),
            ensembles or {},
            current_aliases or {},
            {run.tags.get("dataset_fingerprint", "") for run in runs} - {""},
            enabled=promotion.enabled,
        )
    )
    content = ReportContent(
        settings=settings,
        split=split,
        biased=verdict.biased,
        unit=unit,
        runs=tuple(runs),
        protocol=protocol,
        loss_table=loss_tab,
        fold_table=fold_table(runs, split, settings),
        comparisons=comparisons,
        effect=effect,
        figure_names=tuple(figures),
        design=design,
        comparison_note=verdict.comparison_note,
        comparison_caveat=power_caveat(comparisons, settings) if len(comparisons) else None,
        notes=tuple(note for note in (grid_note, base_note) if note),
        caveats=tuple(consistency_caveats(runs)),
        promotions=promotions,
        promotion_enabled=promotion is None or promotion.enabled,
    )
    blocks = report_blocks(content)
    return Report(
        loss_table=loss_tab,
        fold_table=content.fold_table,
        comparisons=comparisons,
        postprocessing_effect=effect,
        baseline_table=loss_tab[loss_tab["kind"] == "baseline"].reset_index(drop=True),
        figures=figures,
        markdown=to_markdown(blocks),
        html=to_html(blocks, figures, TITLE),
        split=split,
        selection_biased=content.biased,
        design=design,
        promotions=promotions,
    )
