"""Runs evaluated under different settings are never compared: which settings must agree, and the refusal.

A paired difference means something only when the two runs differ in the loss alone. The settings
below change the numbers themselves (what was tested, how long and how it was trained, how it was
scored), so runs that differ in any of them are refused before any work. Bootstrap and baseline
settings only change the report's statistics or the baselines, and the loss's own keyword
arguments may differ between losses (they define the loss), but not among the runs of one loss.

How a model was split and trained is read from its own record when the run has it (params
``lineage.splitting.*``, ``lineage.training.*``: the model's ``model_lineage.json``; a
re-evaluation run's ``training.*`` params describe the configuration of its day, not the model).
Runs without it (older runs) are compared on their ``training.*`` and ``splitting.*`` params.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from minivess_kedro.metrics.tolerance import nsd_scoring
from minivess_kedro.reporting.records import RunRecord

#: Params that must agree: exact keys, and prefixes (a key starting with one).
SAME_PARAMS: tuple[str, ...] = ("training.max_epochs", "training.patience", "training.selection_start")
SAME_PARAM_PREFIXES: tuple[str, ...] = ("splitting.", "training.sliding_window.", "evaluation.")
#: With a lineage record: every training setting of the model (but its loss's own kwargs) and the split design.
LINEAGE_PREFIXES: tuple[str, ...] = ("lineage.training.", "lineage.splitting.", "lineage.protocol")
#: Params that may differ: report statistics, baselines, which extra post-processings were also
#: scored (every run must have the reported one), a loss's own kwargs (compared per loss), and how
#: many windows a forward pass holds and where they are stitched (a GPU profile's speed, not the
#: prediction: instance norm is per window).
FREE_PARAM_PREFIXES: tuple[str, ...] = (
    "evaluation.bootstrap.",
    "evaluation.baselines.",
    "evaluation.postprocessing",
    "lineage.training.loss_kwargs.",
    "evaluation.sliding_window.sw_batch_size",
    "evaluation.sliding_window.stitch_on_cpu",
    "training.sliding_window.sw_batch_size",
    "lineage.training.sliding_window.sw_batch_size",
)
#: Why runs selected from different epochs cannot be compared, and the fix.
SELECTION_HINT = (
    " (checkpoints selected from different epochs: a late-term loss would be compared with longer training "
    "and late selection; train every loss with training.selection_start: late_term)"
)
#: Value shown for a setting a run does not have.
ABSENT = "(absent)"
#: Name of how NSD was scored among the settings: the fixed tolerance, or ``auto`` (each volume's own).
NSD_TAU = "nsd_tau (volume_metrics column)"


def _must_agree(key: str, has_lineage: bool) -> bool:
    """Whether param ``key`` changes what a run's numbers mean."""
    if key.startswith(FREE_PARAM_PREFIXES):
        return False
    if has_lineage:  # the model's own record replaces the day's training and splitting params
        return key.startswith((*LINEAGE_PREFIXES, "evaluation."))
    return key in SAME_PARAMS or key.startswith(SAME_PARAM_PREFIXES)


def resolved_nsd_tau(table: pd.DataFrame) -> str | None:
    """How a volume table's NSD was scored, as text (``None`` without an ``nsd_tau`` column): the
    fixed tolerance, or ``auto`` whatever each volume's own tolerance (see
    :func:`~minivess_kedro.metrics.tolerance.nsd_scoring`)."""
    return nsd_scoring(table)


def run_settings(run: RunRecord) -> dict[str, str]:
    """The settings of one run that must agree with every other run's (name -> value as text)."""
    has_lineage = any(key.startswith("lineage.") for key in run.params)
    settings = {key: str(value) for key, value in run.params.items() if _must_agree(key, has_lineage)}
    if "protocol" in run.tags:
        settings["protocol (tag)"] = str(run.tags["protocol"])
    tau = resolved_nsd_tau(run.volume_metrics)
    if tau is not None:
        settings[NSD_TAU] = tau
    return settings


def _loss_kwargs(run: RunRecord) -> dict[str, str]:
    """The run's own loss's keyword arguments (``training.loss_kwargs.<its loss>.*``, or the
    model's record of them, ``lineage.training.loss_kwargs.*``)."""
    prefixes = (f"training.loss_kwargs.{run.loss}.", "lineage.training.loss_kwargs.")
    return {f"{key} (runs of loss {run.loss!r})": str(v) for key, v in run.params.items() if key.startswith(prefixes)}


def _differences(runs: Sequence[RunRecord], settings: Sequence[Mapping[str, str]]) -> dict[str, dict[str, list[str]]]:
    """``{setting: {value: [run ids]}}`` of the settings that do not agree across ``runs``."""
    names = sorted({name for of_run in settings for name in of_run})
    found = {}
    for name in names:
        holders: dict[str, list[str]] = {}
        for run, of_run in zip(runs, settings, strict=True):
            holders.setdefault(of_run.get(name, ABSENT), []).append(run.run_id)
        if len(holders) > 1:
            found[name] = dict(sorted(holders.items()))
    return found


def mixed_settings(runs: Sequence[RunRecord]) -> dict[str, dict[str, list[str]]]:
    """Every setting the runs differ in, with which runs have which value.

    Compared across all runs: the ``protocol`` tag; the ``splitting.*``, ``training.max_epochs``,
    ``training.patience``, ``training.sliding_window.*`` and ``evaluation.*`` params (except
    ``evaluation.bootstrap.*`` and ``evaluation.baselines.*``); how the volume tables scored NSD
    (their ``nsd_tau`` and ``nsd_tau_rule`` columns: a fixed tolerance, or ``auto`` at each volume's
    own). Compared among the runs of one loss: ``training.loss_kwargs.<loss>.*``. A setting absent
    from every run is fine; absent from some runs is a value of its own (:data:`ABSENT`).

    Args:
        runs: the runs of one report.

    Returns:
        ``{setting: {value: [run ids]}}``, settings sorted (the per-loss ones last), values
        sorted; empty when the runs agree.
    """
    found = _differences(runs, [run_settings(run) for run in runs])
    for loss in sorted({run.loss for run in runs}):
        of_loss = [run for run in runs if run.loss == loss]
        found |= _differences(of_loss, [_loss_kwargs(run) for run in of_loss])
    return found


def _shown(value: str) -> str:
    return value if value == ABSENT else repr(value)


def check_comparable(runs: Sequence[RunRecord]) -> None:
    """Refuse runs that were trained or evaluated under different settings.

    Raises:
        ValueError: one error listing every differing setting (see :func:`mixed_settings`) and
            which runs have which value.
    """
    found = mixed_settings(runs)
    if not found:
        return
    lines = [
        f"- {name}: "
        + "; ".join(f"{_shown(value)} in runs {ids}" for value, ids in holders.items())
        + (SELECTION_HINT if name.endswith(".selection_start_epoch") else "")
        for name, holders in found.items()
    ]
    raise ValueError(
        "the runs were trained or evaluated under different settings and cannot be compared; rerun "
        "the odd ones out or leave them out of the report:\n" + "\n".join(lines)
    )
