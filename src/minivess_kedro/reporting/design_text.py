"""The report's "Study design" section: the protocol in words, seeds, intervals, tolerance, power, caveats."""

from __future__ import annotations

import pandas as pd

from minivess_kedro.reporting import formatting as fmt
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
    """What each interval and each n is over."""
    over = "its seeds" if design.nested else "seeds and folds"
    mean = (
        "mean over volumes, each volume averaged over its seeds (each volume is tested by one fold)"
        if design.nested
        else "mean over folds of each fold's mean over volumes (and seeds)"
    )
    unit = "volumes" if settings.pairing == "volume" else "(fold, volume) pairs, pooled"
    return (
        f"Loss means: {mean}. Intervals: {settings.confidence_level:.0%} bootstrap over volumes, each volume "
        f"averaged over {over}. Paired comparisons: n = {unit}, each unit's paired differences averaged over "
        "its common seeds (and folds)."
    )


def tolerance_sentence(design: StudyDesign, unit: str) -> str:
    """The NSD tolerance used, with its unit."""
    if design.nsd_tau is None:
        return "NSD tolerance: not recorded in the volume tables (no `nsd_tau` column)."
    return f"NSD tolerance τ = {design.nsd_tau:g} {unit} (the `nsd_tau` column of the volume tables)."


def caveats(settings: ReportSettings) -> tuple[str, ...]:
    """The reading caveats that hold for every report."""
    pooled = (
        "(fold, volume) pairs are pooled (`pairing: fold_volume`): a volume counts once per fold, the pairs are not "
        "independent and the p-values and intervals are narrower than the data support."
        if settings.pairing == "fold_volume"
        else "Intervals and tests are over volumes: they do not contain training randomness; the seed spread of "
        "each difference and `fold_std` show that."
    )
    return (
        pooled,
        "Baselines are computed once per volume (no folds, no seeds): their intervals contain no training noise.",
        "Holm's correction covers the losses compared with the reference per metric, not the metrics together: "
        "pick the metric to quote before looking.",
        "The Wilcoxon test drops zero differences: n for power and significance is the number of non-zero "
        "paired differences (many ties with discrete metrics such as Betti errors).",
        "'Not significant' means the data cannot tell, not that the losses are equal; BCa intervals on few "
        "volumes or discrete metrics can be unstable.",
    )


def design_blocks(design: StudyDesign, comparisons: pd.DataFrame, settings: ReportSettings, unit: str) -> list[Block]:
    """The "Study design" section."""
    seeds = f"{len(design.seeds)} seed{'s' if len(design.seeds) != 1 else ''} per loss and fold ({_ids(design.seeds)})"
    noise = (
        " With one seed, training noise is not estimated: no difference can be checked against another "
        "training of the same cell (`kedro sweep --seeds 0,1,2`)."
        if len(design.seeds) < 2
        else " The seed spread of each difference is the standard deviation of one seed's difference across "
        "the seeds (unstable with 2 seeds; 3 or more make it usable)."
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
