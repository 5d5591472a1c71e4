"""What the report is built from: finished runs and example slices, checked before any work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Post-processing value assumed for tables that have no ``postprocessing`` column.
NO_POSTPROCESSING = "none"


@dataclass(frozen=True)
class RunRecord:
    """One finished training + evaluation run (one loss x one fold x one seed).

    Attributes:
        run_id: MLflow run id.
        loss: loss name (``dice_ce``, ``cbdice`` ...).
        fold_idx: cross-validation fold.
        volume_metrics: per-volume table (:func:`minivess_kedro.metrics.build_volume_table`):
            ``id``, ``split`` (``val`` / ``test``), the metrics, ``diagonal``, and
            ``postprocessing`` (``none``, ``components``, ``toposculpt`` ...; taken as ``none``
            when the column is absent); one row per id x split x postprocessing.
        history: one row per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``val_dsc``, ``lr``
            ... (NaN where a value was not computed that epoch); may be empty.
        params: flat MLflow params.
        tags: MLflow tags (``protocol``, ``seed``, ``compute_profile``, ``git_commit``,
            ``dataset_fingerprint`` ...).
        seed: training seed of this loss x fold (several seeds of one cell are separate runs).
    """

    run_id: str
    loss: str
    fold_idx: int
    volume_metrics: pd.DataFrame
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    seed: int = 0

    @property
    def label(self) -> str:
        """``run <id> (loss <loss>, fold <k>)`` (``, seed <s>`` when not 0), for error messages."""
        seed = f", seed {self.seed}" if self.seed else ""
        return f"run {self.run_id!r} (loss {self.loss!r}, fold {self.fold_idx}{seed})"


@dataclass(frozen=True)
class ExampleSlices:
    """One volume's slice for the example figure (all arrays 2D, same shape).

    Attributes:
        volume_id: volume id (``mv07``).
        loss: loss of the run that predicted it.
        fold_idx: fold of that run.
        dsc: the volume's DSC in that run (shown in the figure; best and worst are told apart by it).
        image: image slice ``(H, W)``.
        reference: ground-truth slice ``(H, W)``, 0/1.
        prediction: predicted slice ``(H, W)``, 0/1.
    """

    volume_id: str
    loss: str
    fold_idx: int
    dsc: float
    image: np.ndarray
    reference: np.ndarray
    prediction: np.ndarray


def with_postprocessing(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with a ``postprocessing`` column (``none`` when it had none)."""
    if "postprocessing" in table.columns:
        return table
    return table.assign(postprocessing=NO_POSTPROCESSING)


def validate_runs(runs: Sequence[RunRecord], metrics: Sequence[str]) -> None:
    """Check the runs before any work.

    Raises:
        ValueError: no runs; a run that is not a :class:`RunRecord`; a volume table without
            ``id``/``split`` or one of ``metrics``; repeated id x split x postprocessing rows;
            a non-empty history without ``epoch``; two runs of the same loss, fold and seed.
    """
    if len(runs) == 0:
        raise ValueError("runs is empty: there is no finished run to report on.")
    seen: dict[tuple[str, int, int], str] = {}
    for i, run in enumerate(runs):
        if not isinstance(run, RunRecord):
            raise ValueError(f"runs[{i}] is a {type(run).__name__}, not a RunRecord.")
        table = run.volume_metrics
        missing = [c for c in ("id", "split", *metrics) if c not in table.columns]
        if missing:
            raise ValueError(f"{run.label}: volume_metrics lacks columns {missing}; it has {list(table.columns)}.")
        keys = with_postprocessing(table)[["id", "split", "postprocessing"]]
        repeated = keys[keys.duplicated()].drop_duplicates()
        if len(repeated):
            raise ValueError(f"{run.label}: volume_metrics repeats rows {repeated.to_dict('records')}.")
        if len(run.history) and "epoch" not in run.history.columns:
            raise ValueError(f"{run.label}: history has no 'epoch' column: {list(run.history.columns)}.")
        key = (run.loss, int(run.fold_idx), int(run.seed))
        if key in seen:
            seed = f" seed {run.seed}" if run.seed else ""
            raise ValueError(
                f"two runs of loss {run.loss!r} fold {run.fold_idx}{seed}: {seen[key]!r} and {run.run_id!r}; "
                "keep one (e.g. the latest FINISHED run) before building the report."
            )
        seen[key] = run.run_id


def validate_examples(examples: Sequence[ExampleSlices]) -> None:
    """Check that every example holds three 2D arrays of one shape.

    Raises:
        ValueError: naming the example and the offending shapes.
    """
    for i, example in enumerate(examples):
        if not isinstance(example, ExampleSlices):
            raise ValueError(f"examples[{i}] is a {type(example).__name__}, not an ExampleSlices.")
        shapes = {name: np.shape(getattr(example, name)) for name in ("image", "reference", "prediction")}
        if len(set(shapes.values())) != 1 or len(shapes["image"]) != 2:
            raise ValueError(
                f"example {example.volume_id!r} ({example.loss}): need three 2D arrays of one shape, got {shapes}."
            )


def report_split(runs: Sequence[RunRecord]) -> str:
    """The split the report is about: ``test`` when any run has test rows, else ``val``.

    Raises:
        ValueError: if some runs have test rows and others do not (their numbers would not be
            comparable), or if no run has test or val rows.
    """
    has_test = {run.run_id: bool((run.volume_metrics["split"] == "test").any()) for run in runs}
    if any(has_test.values()):
        lacking = [run.label for run in runs if not has_test[run.run_id]]
        if lacking:
            raise ValueError(
                f"some runs have test rows and these have none: {lacking}; re-evaluate them on the test set."
            )
        return "test"
    if all((run.volume_metrics["split"] == "val").any() for run in runs):
        return "val"
    splits = sorted({str(s) for run in runs for s in run.volume_metrics["split"].unique()})
    raise ValueError(f"the runs have neither 'test' rows nor 'val' rows for every run; splits found: {splits}.")


def table_distance_units(runs: Sequence[RunRecord], baselines: pd.DataFrame | None) -> str | None:
    """The ``distance_units`` the volume tables were computed with (``physical`` or ``voxel``).

    Returns:
        The one value found, or ``None`` when no table has a ``distance_units`` column.

    Raises:
        ValueError: if the tables mix units (their distances cannot be compared).
    """
    found: dict[str, str] = {}
    tables = [(run.label, run.volume_metrics) for run in runs]
    if baselines is not None:
        tables.append(("baselines", baselines))
    for name, table in tables:
        if "distance_units" in table.columns:
            for units in table["distance_units"].dropna().unique():
                found.setdefault(str(units), name)
    if len(found) > 1:
        raise ValueError(f"the volume tables mix distance units (first seen in): {found}; re-evaluate in one unit.")
    return next(iter(found), None)
