"""The report's text: sections, captions and warnings, as document blocks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from minivess_kedro.reporting import formatting as fmt
from minivess_kedro.reporting.design import StudyDesign
from minivess_kedro.reporting.design_text import design_blocks
from minivess_kedro.reporting.document import Alert, Block, Bullets, FigureRef, Heading, Paragraph, Table
from minivess_kedro.reporting.metric_info import metric_label
from minivess_kedro.reporting.protocol import protocol_table, run_table
from minivess_kedro.reporting.records import RunRecord
from minivess_kedro.reporting.report_settings import ReportSettings

TITLE = "Loss-function study: comparison report"

SELECTION_BIAS = (
    "**These numbers are selection-biased.** They come from the {split} volumes on which each run's "
    "best checkpoint was chosen (early stopping on validation DSC), not from held-out volumes. They "
    "overestimate performance on new volumes, and differences between losses may be distorted by the "
    "selection. Use a held-out test set (a non-zero test size in the splitting parameters) for numbers to publish."
)

FIGURE_CAPTIONS: dict[str, str] = {
    "metric_boxplots": "Per-metric box and strip plots by loss. Each point is one volume's value averaged over "
    "the folds that scored it; baselines are hatched grey; red crosses are worst-case distances (an empty mask). "
    "Distances and Betti errors: lower is better.",
    "training_curves": "Validation DSC and training loss against epoch, mean over folds per loss. Training "
    "losses are on each loss's own scale: compare shapes, not levels.",
    "dsc_vs_cldice": "Trade-off between voxel overlap (DSC) and centreline overlap (clDice): large points are "
    "the mean over folds, faint points single folds, grey markers the baselines.",
    "examples": "Middle slice of the best and the worst volume (by DSC) of the loss with the highest mean DSC: "
    "image, ground truth, prediction and errors.",
}


@dataclass(frozen=True)
class ReportContent:
    """Everything the text needs, computed by :func:`~minivess_kedro.reporting.report.build_report`."""

    settings: ReportSettings
    split: str
    biased: bool
    unit: str
    runs: tuple[RunRecord, ...]
    protocol: Mapping[str, Any]
    loss_table: pd.DataFrame
    fold_table: pd.DataFrame
    comparisons: pd.DataFrame
    effect: pd.DataFrame
    figure_names: tuple[str, ...]
    design: StudyDesign
    comparison_note: str | None = None
    comparison_caveat: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    caveats: tuple[str, ...] = field(default_factory=tuple)
    promotions: pd.DataFrame = field(default_factory=pd.DataFrame)
    promotion_enabled: bool = True


def _overview(c: ReportContent) -> list[Block]:
    s = c.settings
    losses = c.loss_table[c.loss_table["kind"] == "loss"]["loss"].unique()
    n_volumes = int(c.loss_table["n_volumes"].max())
    text = (
        f"{_count(len(c.runs), 'run')} of {_count(len(losses), 'loss', 'losses')}, scored on the **{c.split}** "
        f"split ({_count(n_volumes, 'volume')}), "
        f"post-processing `{s.postprocessing}`, reference loss `{s.reference_loss}`. Intervals are "
        f"{s.confidence_level:.0%} bootstrap intervals ({s.bootstrap_method}, {s.n_resamples:,} resamples, "
        f"seed {s.seed}) over volumes. How to read this report: docs/reading_the_report.md."
    )
    blocks: list[Block] = [Heading(TITLE, 1)]
    if c.biased:
        blocks.append(Alert(SELECTION_BIAS.format(split=c.split)))
    blocks += [Alert(caveat) for caveat in c.caveats]
    blocks.append(Paragraph(text))
    blocks += [Paragraph(note) for note in c.notes]
    return blocks


def _headlines(c: ReportContent) -> list[Block]:
    items = [
        fmt.headline(c.loss_table, c.comparisons, m, c.settings.reference_loss, c.unit) for m in c.settings.metrics
    ]
    return [Heading("Headlines"), Bullets(tuple(items))]


def _replaced_note(c: ReportContent) -> str | None:
    """Which losses had NaN distances (exactly one empty mask) replaced by the volume diagonal."""
    rows = c.loss_table[c.loss_table["n_nan_replaced"] > 0]
    if rows.empty:
        return None
    items = [f"`{r.loss}` {metric_label(r.metric, c.unit)}: {r.n_nan_replaced}" for r in rows.itertuples()]
    return (
        "NaN distances (prediction or reference empty) replaced by the volume's diagonal, the worst possible "
        f"distance, counted over (fold, volume) values: {'; '.join(items)}."
    )


def _results(c: ReportContent) -> list[Block]:
    s = c.settings
    mean = (
        "Mean over volumes of each volume's value (averaged over its seeds; each volume is tested by one fold)"
        if c.design.nested
        else "Mean over folds of each fold's mean over volumes (and seeds)"
    )
    caption = (
        f"{mean}, with its bootstrap interval over volumes (each volume averaged over seeds and folds first). "
        "Baselines are computed once, not per fold or seed."
    )
    blocks: list[Block] = [
        Heading("Results by loss"),
        Table(fmt.loss_display(c.loss_table, s.metrics, s.reference_loss, c.unit), caption),
    ]
    replaced = _replaced_note(c)
    if replaced:
        blocks.append(Paragraph(replaced))
    blocks.append(Heading(f"Paired comparisons with {s.reference_loss}"))
    if c.comparison_note or len(c.comparisons) == 0:
        return [*blocks, Paragraph(c.comparison_note or "No comparison could be made.")]
    caption = (
        f"Loss minus `{s.reference_loss}`: mean difference (run SD: its training noise, the SD of the difference "
        f"between two trainings of one cell) [{s.confidence_level:.0%} t interval], Holm-adjusted p-value of the "
        f"run-aware t test (one family of losses x primary metrics {', '.join(s.primary_metrics)}, another of the "
        f"rest); * marks p <= {s.alpha:.2g}. A loss's (fold k, seed s) run is paired with the reference's (fold k, "
        "seed s) run on the same volumes; volume and run are random effects (docs/reporting.md). For distances and "
        "Betti errors a negative difference is an improvement."
    )
    if c.comparison_caveat:
        blocks.append(Alert(c.comparison_caveat))
    blocks.append(Table(fmt.comparison_display(c.comparisons, s.metrics, c.unit, s.alpha), caption))
    below = [fmt.below_run_spread(c.comparisons, m, c.unit, s.reference_loss) for m in s.metrics]
    return [*blocks, *[Paragraph(text) for text in below if text]]


def _postprocessing(c: ReportContent) -> list[Block]:
    caption = (
        "Mean over folds per post-processing; in brackets the paired difference to the raw prediction (`none`) "
        "on the same volumes, with its bootstrap interval."
    )
    return [Heading("Post-processing"), Table(fmt.effect_display(c.effect, c.settings.metrics, c.unit), caption)]


def _promotions(c: ReportContent) -> list[Block]:
    """Which model version each registry alias points at after this report, why, and what its
    members' cross-validated numbers say of it."""
    if c.promotions.empty:
        return []
    rows = list(c.promotions.itertuples())
    shown = c.promotions.assign(
        model=[_promoted_model(r) for r in rows],
        members=["–" if pd.isna(r.members) else f"{int(r.members)} ({r.loss}, every fold x seed)" for r in rows],
        expected=[_expected(c, r) for r in rows],
    )[["alias", "loss", "model", "members", "postprocessing", "expected", "action", "reason"]]
    done = (
        "MLflow registry aliases set by this report"
        if c.promotion_enabled
        else "Where this report would point the MLflow registry aliases (not set: `reporting.promotion.enabled` is "
        "false)"
    )
    caption = (
        f"{done} (`models:/<model>@<alias>`): `best-<metric>` goes to the loss significantly better than the "
        "reference on that metric (Holm over losses x primary metrics) and non-inferior on the other primary "
        "metrics (margins: "
        + ", ".join(f"{m} {v:g}" for m, v in c.settings.non_inferiority_margins.items())
        + "), else to the reference. The alias points at that loss's fold ensemble, registered by this report as "
        "one version: every network the verdict is about (each fold x seed, weights checked against the evaluated "
        "ones), the mean of their softmax probabilities, with the post-processing of these tables (inference "
        "applies it by default). An alias already on a model of a loss still eligible stays on that loss; one the "
        "verdict has no model for is removed; one on a model of other data is left as it is. Nothing moves on a "
        "selection-biased report or an incomplete grid."
    )
    unseen = (
        "every volume of the study was a training or selection volume of some member (nested cross-validation), "
        "so no volume is left to test it on"
        if c.design.nested
        else f"its members never saw the {c.split} volumes, which could measure it, but this project does not "
        "score the ensemble on them (inference writes masks, not metrics)"
    )
    honesty = Paragraph(
        "**Expected performance of a promoted ensemble**: the `expected` column gives its members' cross-validated "
        f"numbers (mean over folds, {c.split} volumes, intervals as in the results table). The ensemble itself "
        f"was not tested on unseen data: {unseen}. Averaging members usually helps, but by how much is not "
        "measured by this report (`python bench/ensemble.py` compares the two on the demo study)."
    )
    registered = c.promotions["members"].notna().any()
    return [Heading("Models promoted"), Table(shown, caption), *([honesty] if registered else [])]


def _expected(c: ReportContent, row) -> str:
    """The members' cross-validated numbers on the primary metrics: ``dsc 0.81 [0.79, 0.83]; ...``."""
    if pd.isna(row.members) or not row.loss:
        return "–"
    table = c.loss_table[(c.loss_table["loss"] == row.loss) & (c.loss_table["kind"] == "loss")]
    parts = []
    for metric in c.settings.primary_metrics:
        found = table[table["metric"] == metric]
        if len(found):
            r = found.iloc[0]
            parts.append(
                f"{metric} {fmt.number(metric, r['mean'])} "
                f"[{fmt.number(metric, r['ci_low'])}, {fmt.number(metric, r['ci_high'])}]"
            )
    return "; ".join(parts) or "–"


def _promoted_model(row) -> str:
    if row.version:
        return f"{row.model_name} v{row.version}"
    return f"{row.model_name} (was v{row.previous_version})" if row.previous_version else "–"


def _figures(c: ReportContent) -> list[Block]:
    return [Heading("Figures"), *[FigureRef(name, FIGURE_CAPTIONS[name]) for name in c.figure_names]]


def _protocol(c: ReportContent) -> list[Block]:
    runs = run_table(c.runs, c.settings.reference_loss)
    runs["best_val_dsc"] = [fmt.number("dsc", v) for v in runs["best_val_dsc"]]
    for column in ("term_on_epoch", "selection_start", "best_epoch"):
        runs[column] = ["–" if pd.isna(v) else str(int(v)) for v in runs[column]]
    table = protocol_table(c.protocol)
    if c.design.declared:  # the runs' own protocol is the study design; the caller's split summary may differ
        table = table[~table["item"].astype(str).str.startswith("splits.")]
    blocks: list[Block] = [Heading("Protocol")]
    blocks += [Table(table)] if len(table) else [Paragraph("No protocol was given.")]
    caption = (
        "Runs (best epoch: the epoch whose checkpoint was kept, where the validation DSC peaked among the epochs "
        "from the selection start (`training.selection_start`: one rule for every loss; with `late_term`, the "
        "epoch warp's and topo's terms come on), for losses with a late term only among the epochs with the term "
        "on (term on: its first such epoch); numbered as in the training history)."
    )
    return [*blocks, Table(runs, caption)]


def _methods(c: ReportContent) -> list[Block]:
    s = c.settings
    items = (
        f"Reported split: `{c.split}`; post-processing of the main tables: `{s.postprocessing}`.",
        "A NaN distance (exactly one of prediction and reference empty) is replaced by the volume's diagonal, "
        "the worst possible distance, everywhere in this report.",
        f"Intervals: `scipy.stats.bootstrap` of the mean, {s.bootstrap_method}, {s.n_resamples:,} resamples, "
        f"seed {s.seed}, confidence {s.confidence_level:.0%}; paired differences resample the pairs together.",
        "Comparisons: per loss and metric, the (fold, seed, volume) differences to "
        f"`{s.reference_loss}` in a two-way random-effects layout (volumes x runs, per block of runs scoring the "
        "same volumes); method-of-moments variance of the mean difference, Satterthwaite degrees of freedom, "
        "two-sided t test and t interval (`scipy.stats.t`); no test with one run per fold.",
        "Holm step-down correction over the losses x primary metrics "
        f"({', '.join(s.primary_metrics)}), and separately over the losses x other metrics.",
    )
    return [Heading("Statistical methods"), Bullets(items)]


def report_blocks(c: ReportContent) -> list[Block]:
    """The whole report, in reading order."""
    folds = Table(
        fmt.fold_display(c.fold_table, c.settings.metrics, c.unit), "Mean over volumes per run (fold x seed)."
    )
    return [
        *_overview(c),
        *design_blocks(c.design, c.comparisons, c.settings, c.unit),
        *_headlines(c),
        *_results(c),
        *_postprocessing(c),
        *_promotions(c),
        *_figures(c),
        Heading("Per-fold results"),
        folds,
        *_protocol(c),
        *_methods(c),
    ]


def _count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 run``, ``3 runs``."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
