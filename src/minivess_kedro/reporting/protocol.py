"""The report's protocol: what was run, on what, and what could bias the numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from minivess_kedro.reporting.records import RunRecord

#: Protocol key (top level or under ``splits``) saying the checkpoint was selected on the reported volumes.
SELECTION_KEY = "checkpoint_selected_on_reported_volumes"
#: Tags that must agree across the runs of one comparison; disagreement is reported as a caveat.
CONSISTENCY_TAGS: tuple[str, ...] = ("dataset_fingerprint", "git_commit", "compute_profile", "experiment_phase")


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested mapping as ``{"splits.num_folds": "3", ...}``; lists joined with commas."""
    flat: dict[str, str] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat |= flatten(value, f"{name}.")
        elif isinstance(value, list | tuple | set):
            flat[name] = ", ".join(str(v) for v in value)
        else:
            flat[name] = str(value)
    return flat


def protocol_table(protocol: Mapping[str, Any]) -> pd.DataFrame:
    """The protocol as a two-column table (``item``, ``value``), in the given order."""
    flat = flatten(protocol)
    return pd.DataFrame({"item": list(flat), "value": list(flat.values())})


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "yes", "1")


def selection_biased(split: str, protocol: Mapping[str, Any], declared: str | None = None) -> bool:
    """Whether the reported numbers come from the volumes the checkpoint was selected on.

    True when the report uses the validation split (no held-out test set), or when the runs
    declare the ``previous`` protocol. Runs that declare no protocol (older runs) fall back on the
    protocol mapping (``checkpoint_selected_on_reported_volumes``, top level or under ``splits``);
    a declared ``nested`` or ``holdout`` protocol tests on volumes never used for selection, so
    the runs' own word wins over the mapping.

    Args:
        split: the reported split.
        protocol: the protocol mapping the caller passed.
        declared: the protocol the runs declare (see
            :func:`~minivess_kedro.reporting.design.declared_protocol`), or ``None``.
    """
    if split == "val" or declared == "previous":
        return True
    if declared is not None:
        return False
    splits = protocol.get("splits")
    flag = protocol.get(SELECTION_KEY, splits.get(SELECTION_KEY) if isinstance(splits, Mapping) else None)
    return _truthy(flag)


def term_on_epoch(history: pd.DataFrame) -> float:
    """First epoch with ``late_term_active == 1`` (late-term losses); NaN for other runs."""
    if "late_term_active" not in history.columns:
        return np.nan
    active = history[pd.to_numeric(history["late_term_active"]) == 1]
    return float(active["epoch"].min()) if len(active) else np.nan


#: The param holding the first epoch a run could select (the model's lineage record).
SELECTION_START_PARAM = "lineage.training.selection_start_epoch"


def selection_start(run: RunRecord) -> float:
    """The first epoch ``run``'s checkpoint could come from (``training.selection_start``, one
    rule for every loss of a study); NaN for a run trained before it was recorded."""
    value = run.params.get(SELECTION_START_PARAM)
    return float(value) if value is not None else np.nan


def kept_checkpoint(history: pd.DataFrame, select_from: float = np.nan) -> tuple[float, float]:
    """(epoch, val DSC) of the checkpoint the training kept; NaN when never validated.

    The rule of training: the first epoch of the highest validation DSC among the epochs from
    ``select_from`` (when known), for a late-term loss (history with ``late_term_active``) only
    among the epochs with the term on.
    """
    if "val_dsc" not in history.columns:
        return np.nan, np.nan
    eligible = history
    if not np.isnan(select_from):
        eligible = eligible[pd.to_numeric(eligible["epoch"]) >= select_from]
    if "late_term_active" in history.columns:
        eligible = eligible[pd.to_numeric(eligible["late_term_active"]) == 1]
    dsc = pd.to_numeric(eligible["val_dsc"])
    if dsc.isna().all():
        return np.nan, np.nan
    best = eligible.loc[dsc.idxmax()]
    return float(best["epoch"]), float(best["val_dsc"])


def run_table(runs: Sequence[RunRecord], reference: str = "") -> pd.DataFrame:
    """One row per run: id, loss, fold, seed, epochs trained, late term on, best epoch and its val DSC,
    profile, commit.

    ``term_on_epoch`` is the first epoch with the late topological term on (NA for losses without
    one); ``selection_start`` the first epoch the run could select (NA when not recorded);
    ``best_epoch`` the epoch whose checkpoint was kept (see :func:`kept_checkpoint`). Rows are
    ordered by loss (``reference`` first, then alphabetically), fold and seed.
    """
    rows = []
    for run in sorted(runs, key=lambda r: (r.loss != reference, r.loss, r.fold_idx, r.seed)):
        epoch, dsc = kept_checkpoint(run.history, selection_start(run))
        commit = run.tags.get("git_commit", "")
        rows.append(
            {
                "run_id": run.run_id,
                "loss": run.loss,
                "fold": int(run.fold_idx),
                "seed": int(run.seed),
                "epochs": len(run.history),
                "term_on_epoch": term_on_epoch(run.history),
                "selection_start": selection_start(run),
                "best_epoch": epoch,
                "best_val_dsc": dsc,
                "compute_profile": run.tags.get("compute_profile", ""),
                "git_commit": commit[:12] + ("-dirty" if "dirty" in commit else ""),
            }
        )
    table = pd.DataFrame(rows)
    for column in ("term_on_epoch", "selection_start", "best_epoch"):
        table[column] = table[column].astype("Int64")
    return table


def consistency_caveats(runs: Sequence[RunRecord]) -> list[str]:
    """Caveats about runs that differ where a fair comparison needs them equal."""
    caveats = []
    for tag in CONSISTENCY_TAGS:
        values = {run.tags[tag] for run in runs if tag in run.tags}
        if len(values) > 1:
            caveats.append(f"The runs differ in tag {tag!r}: {sorted(values)}.")
    dirty = [run.run_id for run in runs if "dirty" in run.tags.get("git_commit", "")]
    if dirty:
        caveats.append(f"Runs {dirty} were trained from code with uncommitted changes (git_commit '-dirty').")
    never_on = [
        run.run_id for run in runs if "late_term_active" in run.history.columns and np.isnan(term_on_epoch(run.history))
    ]
    if never_on:
        caveats.append(
            f"Runs {never_on} have a late topological term that never switched on (activate_at too late for "
            "max_epochs): they trained as their base loss alone, not as the loss they are labelled with."
        )
    return caveats
