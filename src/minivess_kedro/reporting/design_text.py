"""The report's "Study design" section: the protocol in words, seeds, intervals, tolerance, power, caveats."""

from __future__ import annotations

import pandas as pd

from minivess_kedro.metrics.tolerance import AUTO_SCORING
from minivess_kedro.reporting import formatting as fmt
from minivess_kedro.reporting.comparisons import MIN_SEEDS, SEEDS_RECOMMENDED
from minivess_kedro.reporting.design import StudyDesign
from minivess_kedro.reporting.document import Block, Bullets, Heading, Paragraph
from minivess_kedro.reporting.report_settings import ReportSettings


def _ids(values: tuple[int, ...]) -> str:
    return ", ".join(str(v) for v in values)


def protocol_sentence(design: StudyDesign) -> str:
    """The protocol in words (inferred ones say so)."""
    k, n = len(design.folds), design.n_volumes
    if design.protocol == "nested":
        text = (
            f"Protocol `nested`: {k} outer folds; each of the {n} volumes tested exactly once by a model that never "
            "saw it; early stopping on a seeded inner validation subset of the training folds."
        )
    elif design.protocol == "holdout":
        text = (
            f"Protocol `holdout`: the models of all {k} folds are tested on the same {n} fixed test volumes, never "
            "used for training or checkpoint selection; the folds differ only in their training and validation volumes."
        )
    else:
        text = (
            f"Protocol `previous`: no test set; each of the {k} folds reports its validation volumes ({n} in all), "
            "the very volumes its checkpoint was selected on: **selection-biased**, optimistic numbers."
        )
    if design.num_folds is not None and design.num_folds > k:
        text += (
            f" **Only folds {_ids(design.folds)} of the study's {design.num_folds} were run**: the {n} volumes are "
            "the test volumes of those folds, not the whole dataset."
        )
    if not design.declared:
        text += " (No run carries a `protocol` tag: inferred from the volume tables.)"
    return text


def interval_sentence(design: StudyDesign, settings: ReportSettings) -> str:
    """What each interval and each test is over."""
    over = "its seeds" if design.nested else "seeds and folds"
    mean = (
        "mean over volumes, each volume averaged over its seeds (each volume is tested by one fold)"
        if design.nested
        else "mean over folds of each fold's mean over volumes (and seeds)"
    )
    return (
        f"Loss means: {mean}; their intervals: {settings.confidence_level:.0%} bootstrap over volumes, each volume "
        f"averaged over {over}. Paired comparisons: a linear model of every (fold, seed, volume) difference with the "
        "volume and the trained network (the (fold, seed) run) as random effects; the mean difference, its t test "
        "(Satterthwaite degrees of freedom) and its t interval, so training noise is in every p-value and interval."
    )


def tolerance_sentence(design: StudyDesign, unit: str) -> str:
    """The rule NSD was scored under, with the tolerances it gave the reported volumes and their unit."""
    if design.nsd_tau is None or design.nsd_tau_range is None:
        return "NSD tolerance: not recorded in the volume tables (no `nsd_tau` column)."
    low, high = design.nsd_tau_range
    span = f"{low:g} {unit}" if low == high else f"{low:g}-{high:g} {unit}"
    column = "the `nsd_tau` column of the volume tables"
    if design.nsd_tau == AUTO_SCORING:
        # a dataset-wide tolerance would be many voxels wide on the finest volumes, saturating their NSD
        spread = "" if low == high else "; volumes of different spacing are scored at different distances"
        return (
            f"NSD at each volume's own tolerance τ, its coarsest voxel spacing (`nsd_tau: auto`): {span} across the "
            f"reported volumes{spread} ({column})."
        )
    if low == high:
        return f"NSD tolerance τ = {span}, the same for every volume ({column})."
    return f"NSD tolerance: {design.nsd_tau} ({span} across the reported volumes; {column})."


def caveats(settings: ReportSettings) -> tuple[str, ...]:
    """The reading caveats that hold for every report."""
    primary = ", ".join(settings.primary_metrics)
    return (
        "The loss table's intervals are over volumes only (no training noise); the comparisons' intervals and tests "
        "also count the run-to-run spread of each difference (`run_sd`).",
        "Baselines are computed once per volume (no folds, no seeds): their intervals contain no training noise.",
        f"Holm's correction covers one family of every loss x primary metric ({primary}) and a second family of "
        "every loss x other metric: verdicts on the primary metrics are the study's claims, the others descriptive.",
        "A fold-level effect shared by every seed of a fold (its training volumes suiting one loss) is not separated "
        "from the volume effect with 3 folds; more folds, not more seeds, would estimate it.",
        "'Not significant' means the data cannot tell, not that the losses are equal; BCa intervals on few "
        "volumes or discrete metrics can be unstable.",
    )


def design_blocks(design: StudyDesign, comparisons: pd.DataFrame, settings: ReportSettings, unit: str) -> list[Block]:
    """The "Study design" section."""
    seeds = f"{len(design.seeds)} seed{'s' if len(design.seeds) != 1 else ''} per loss and fold ({_ids(design.seeds)})"
    untestable = len(comparisons) > 0 and bool((comparisons["verdict"] == "not testable").all())
    noise = (
        " **With one run per loss and fold the design cannot separate the losses from training noise**: no "
        "comparison is tested "
        f"and only the reference is promoted; run at least {MIN_SEEDS} seeds per loss and fold, {SEEDS_RECOMMENDED} "
        "for about 60% power at 0.02 DSC on 70 volumes (`kedro sweep --seeds ...`, docs/study_design.md)."
        if untestable
        else " Each comparison's `run_sd` is the estimated SD of the difference between two trainings of the same "
        "cell (training noise); it enters every test and interval."
    )
    items = [
        protocol_sentence(design),
        f"Training seeds: {seeds}; folds: {_ids(design.folds)}.{noise}",
        interval_sentence(design, settings),
        tolerance_sentence(design, unit),
    ]
    power = [fmt.detectable_sentence(comparisons, m, unit, settings.alpha) for m in settings.metrics]
    blocks: list[Block] = [Heading("Study design"), Bullets(tuple(items))]
    if any(power):
        blocks += [Paragraph("Smallest detectable differences:"), Bullets(tuple(p for p in power if p))]
    return [*blocks, Paragraph("Caveats:"), Bullets(caveats(settings))]
