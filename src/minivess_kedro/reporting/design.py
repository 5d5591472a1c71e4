"""The study design, derived from the runs themselves: protocol, folds, seeds, volumes, NSD tolerance.

Each run says under which protocol it was split and trained (tag ``protocol``, else param
``splitting.protocol``): ``nested`` (k outer folds, each volume tested exactly once by the fold
whose model never saw it), ``holdout`` (every fold tested on the same fixed test volumes) or
``previous`` (no test set: the validation fold is reported and the checkpoints were selected on
it). Runs without either are older runs: the protocol is inferred from their tables (test rows:
``holdout``; validation rows only: ``previous``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from minivess_kedro.metrics.tolerance import nsd_scoring, tolerance_range
from minivess_kedro.reporting.records import RunRecord

#: The protocols a study can run under.
PROTOCOLS: tuple[str, ...] = ("nested", "holdout", "previous")


@dataclass(frozen=True)
class StudyDesign:
    """What was run and what the reported numbers are over.

    Attributes:
        protocol: ``nested``, ``holdout`` or ``previous``.
        declared: whether the runs said so (tag or param) rather than it being inferred.
        folds: the folds run, sorted.
        seeds: the training seeds run, sorted.
        n_volumes: distinct volumes reported.
        nsd_tau: how the tables scored NSD (:func:`~minivess_kedro.metrics.tolerance.nsd_scoring`:
            the fixed tolerance as text, or ``auto`` at each volume's own; ``None`` when not recorded).
        nsd_tau_range: the smallest and largest tolerance of the reported volumes' rows, in the
            tables' distance unit (``None`` when not recorded).
        num_folds: the folds of the study's splits, from the models' records (``None`` when not
            recorded); more than ``len(folds)`` means some outer folds were not run.
    """

    protocol: str
    declared: bool
    folds: tuple[int, ...]
    seeds: tuple[int, ...]
    n_volumes: int
    nsd_tau: str | None = None
    num_folds: int | None = None
    nsd_tau_range: tuple[float, float] | None = None

    @property
    def nested(self) -> bool:
        """Whether each volume was tested by exactly one fold."""
        return self.protocol == "nested"


def declared_protocol(runs: Sequence[RunRecord]) -> str | None:
    """The protocol the runs declare (tag ``protocol``, else param ``splitting.protocol``), if any.

    Raises:
        ValueError: on an unknown protocol, or runs that declare different ones.
    """
    found = {run.tags.get("protocol", run.params.get("splitting.protocol")) for run in runs} - {None}
    if len(found) > 1:
        raise ValueError(f"the runs declare different protocols {sorted(found)}; report them separately.")
    protocol = next(iter(found), None)
    if protocol is not None and protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r} in the runs' tags or params; expected one of {PROTOCOLS}.")
    return protocol


def _scored_rows(runs: Sequence[RunRecord], split: str, reported: pd.DataFrame) -> pd.DataFrame:
    """The runs' volume-table rows of the reported split and volumes (the runs agree on how NSD was scored)."""
    ids = set(reported["id"].astype(str))
    tables = [run.volume_metrics for run in runs if "nsd_tau" in run.volume_metrics.columns]
    if not tables:
        return pd.DataFrame()
    rows = pd.concat(tables, ignore_index=True)
    return rows[(rows["split"] == split) & rows["id"].astype(str).isin(ids)]


def study_design(runs: Sequence[RunRecord], split: str, reported: pd.DataFrame) -> StudyDesign:
    """The design of a study from its runs.

    Args:
        runs: validated, comparable runs.
        split: the reported split (``test`` or ``val``).
        reported: values rows of the reported split and post-processing (``id`` column).

    Returns:
        The :class:`StudyDesign`.

    Raises:
        ValueError: on an unknown or mixed declared protocol; ``nested``/``holdout`` runs without
            test rows; ``previous`` runs with test rows.
    """
    protocol = declared_protocol(runs)
    if protocol is not None and (protocol == "previous") != (split == "val"):
        raise ValueError(
            f"the runs declare protocol {protocol!r} but their tables have "
            f"{'no test rows' if split == 'val' else 'test rows'}: re-evaluate them or check the protocol tag."
        )
    if protocol == "nested":
        _check_tested_once(runs)
    recorded = {run.params.get("lineage.splitting.num_folds") for run in runs} - {None}
    scored = _scored_rows(runs, split, reported)
    return StudyDesign(
        protocol=protocol or ("holdout" if split == "test" else "previous"),
        declared=protocol is not None,
        folds=tuple(sorted({int(run.fold_idx) for run in runs})),
        seeds=tuple(sorted({int(run.seed) for run in runs})),
        n_volumes=int(reported["id"].nunique()),
        nsd_tau=nsd_scoring(scored),
        num_folds=int(float(recorded.pop())) if len(recorded) == 1 else None,
        nsd_tau_range=tolerance_range(scored),
    )


def _check_tested_once(runs: Sequence[RunRecord]) -> None:
    """Under ``nested`` each volume is tested by one fold: per loss and seed, the folds' test
    volumes must be disjoint (else the runs come from different splits).

    Raises:
        ValueError: naming the loss, seed and the volumes tested by two folds.
    """
    tested: dict[tuple[str, int, str], int] = {}
    for run in runs:
        table = run.volume_metrics
        for volume in sorted(set(table.loc[table["split"] == "test", "id"].astype(str))):
            other = tested.setdefault((run.loss, int(run.seed), volume), int(run.fold_idx))
            if other != int(run.fold_idx):
                raise ValueError(
                    f"nested protocol, but volume {volume!r} is tested by folds {other} and {run.fold_idx} of loss "
                    f"{run.loss!r} (seed {run.seed}): the runs come from different splits; rerun them on one split."
                )
