"""Example slices: which volumes to show, their middle slices, and the figure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from minivess_kedro.reporting.figures import new_figure, placeholder
from minivess_kedro.reporting.records import ExampleSlices, RunRecord, report_split, with_postprocessing
from minivess_kedro.reporting.report_settings import ReportSettings


@dataclass(frozen=True)
class ExampleChoice:
    """A volume to show in the example figure (load its image, label and prediction, then
    :func:`example_from_volumes`).

    Attributes:
        rank: ``best`` or ``worst``.
        run_id, loss, fold_idx: the run whose prediction to show.
        volume_id: the volume.
        dsc: its DSC in that run.
    """

    rank: str
    run_id: str
    loss: str
    fold_idx: int
    volume_id: str
    dsc: float


def pick_examples(runs: Sequence[RunRecord], settings: ReportSettings) -> list[ExampleChoice]:
    """The best and the worst volume (by DSC) of the loss with the highest mean DSC.

    Uses the report's split (test, or val without a test set) and ``settings.postprocessing``;
    the mean DSC of a loss is the mean over its folds of the per-fold means.

    Returns:
        ``[best, worst]`` (one element when the loss scored a single volume).

    Raises:
        ValueError: if no run has a ``dsc`` column or rows for the post-processing.
    """
    split = report_split(runs)
    rows = []
    for run in runs:
        table = with_postprocessing(run.volume_metrics)
        table = table[(table["split"] == split) & (table["postprocessing"] == settings.postprocessing)]
        if "dsc" not in table.columns:
            raise ValueError(f"{run.label}: volume_metrics has no 'dsc' column.")
        rows.append(table[["id", "dsc"]].assign(run_id=run.run_id, loss=run.loss, fold_idx=int(run.fold_idx)))
    scores = pd.concat(rows, ignore_index=True).dropna(subset=["dsc"])
    if scores.empty:
        raise ValueError(f"no run has DSC values on split {split!r} with post-processing {settings.postprocessing!r}.")
    best_loss = scores.groupby(["loss", "fold_idx"])["dsc"].mean().groupby("loss").mean().idxmax()
    of_loss = scores[scores["loss"] == best_loss].sort_values(["dsc", "fold_idx", "id"], ascending=[False, True, True])
    picks = (
        [("best", of_loss.iloc[0]), ("worst", of_loss.iloc[-1])] if len(of_loss) > 1 else [("best", of_loss.iloc[0])]
    )
    return [
        ExampleChoice(rank, str(r["run_id"]), str(r["loss"]), int(r["fold_idx"]), str(r["id"]), float(r["dsc"]))
        for rank, r in picks
    ]


def middle_slice(volume: np.ndarray, axis: int = 2) -> np.ndarray:
    """The middle slice of a 3D ``H x W x D`` volume along ``axis`` (z by default)."""
    volume = np.asarray(volume)
    if volume.ndim != 3:
        raise ValueError(f"middle_slice needs a 3D volume, got shape {volume.shape}.")
    return np.take(volume, volume.shape[axis] // 2, axis=axis)


def example_from_volumes(
    choice: ExampleChoice, image: np.ndarray, reference: np.ndarray, prediction: np.ndarray
) -> ExampleSlices:
    """An :class:`ExampleSlices` from the chosen volume's 3D image, label and prediction."""
    shapes = {np.shape(image), np.shape(reference), np.shape(prediction)}
    if len(shapes) != 1:
        raise ValueError(f"volume {choice.volume_id!r}: image, reference and prediction shapes differ: {shapes}.")
    return ExampleSlices(
        volume_id=choice.volume_id,
        loss=choice.loss,
        fold_idx=choice.fold_idx,
        dsc=choice.dsc,
        image=middle_slice(image),
        reference=middle_slice(reference),
        prediction=middle_slice(prediction),
    )


def _errors(reference: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """RGB map: agreement on vessel white, false positives red, false negatives blue."""
    ref, pred = reference > 0, prediction > 0
    rgb = np.zeros((*ref.shape, 3))
    rgb[ref & pred] = 1.0
    rgb[pred & ~ref] = (1.0, 0.2, 0.2)
    rgb[ref & ~pred] = (0.2, 0.4, 1.0)
    return rgb


def _display_range(image: np.ndarray) -> tuple[float, float]:
    """1st-99th percentile of the image: microscopy intensities have a few very bright voxels."""
    low, high = np.percentile(np.asarray(image, dtype=np.float64), (1, 99))
    return float(low), float(max(high, low + 1e-12))


def examples_figure(examples: Sequence[ExampleSlices]) -> Figure:
    """Image, ground truth, prediction and errors of each example, highest DSC first."""
    if not examples:
        return placeholder("No example slices were given.", "Example slices")
    ordered = sorted(examples, key=lambda e: -e.dsc)
    fig = new_figure(figsize=(13, 3.4 * len(ordered)))
    axes = fig.subplots(len(ordered), 4, squeeze=False)
    for row, ex in zip(axes, ordered, strict=True):
        panels = (ex.image, ex.reference, ex.prediction, _errors(ex.reference, ex.prediction))
        titles = ("image", "ground truth", "prediction", "errors (red FP, blue FN)")
        ranges = (_display_range(ex.image), (0, 1), (0, 1), (0, 1))
        for ax, panel, title, (vmin, vmax) in zip(row, panels, titles, ranges, strict=True):
            ax.imshow(panel, cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        row[0].set_title(f"{ex.volume_id} · {ex.loss}, fold {ex.fold_idx} · DSC {ex.dsc:.3f}\nimage", fontsize=9)
    fig.suptitle("Example middle slices (highest volume DSC first)")
    return fig
