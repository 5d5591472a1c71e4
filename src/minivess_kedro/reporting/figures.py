"""The report's figures, drawn on matplotlib ``Figure`` objects (no pyplot, no display).

Figures are created with ``matplotlib.figure.Figure`` and an Agg canvas rather than ``pyplot``:
they are not registered with pyplot's figure manager, so nothing is left open whoever calls this
(a Kedro node, a test, a notebook), and no display is needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from minivess_kedro.reporting.metric_info import metric_label
from minivess_kedro.reporting.records import RunRecord
from minivess_kedro.reporting.values import fold_means, volume_means

BASELINE_COLOUR = "0.55"


def new_figure(**kwargs: Any) -> Figure:
    """A ``Figure`` on an Agg canvas, laid out with constrained layout."""
    figure = Figure(layout="constrained", **kwargs)
    FigureCanvasAgg(figure)
    return figure


def placeholder(text: str, title: str) -> Figure:
    """A small figure that says why the real one could not be drawn."""
    fig = new_figure(figsize=(6, 2))
    ax = fig.subplots()
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    return fig


def colours(losses: Sequence[str]) -> dict[str, tuple]:
    """A distinct colour per loss (tab20 holds the study's 13 losses)."""
    from matplotlib import colormaps  # noqa: PLC0415 - keeps module import light

    cmap = colormaps["tab20" if len(losses) > 10 else "tab10"]
    return {loss: cmap(i % cmap.N) for i, loss in enumerate(losses)}


def display_name(loss: str, kind: str, reference: str) -> str:
    """Axis label of a loss or baseline: baselines and the reference are marked."""
    if kind == "baseline":
        return f"{loss}\n(baseline)"
    return f"{loss}\n(reference)" if loss == reference else loss


def _box_axis(ax: Axes, per_volume: pd.DataFrame, entries: list[tuple[str, str]], colour: dict, unit: str) -> None:
    rng = np.random.default_rng(0)  # fixed jitter: the same data give the same figure
    groups = [per_volume[per_volume["loss"] == loss] for loss, _ in entries]
    data = [group["value"].to_numpy() for group in groups]
    boxes = ax.boxplot(data, patch_artist=True, showfliers=False, widths=0.6, medianprops={"color": "black"})
    for i, ((loss, kind), patch, group) in enumerate(zip(entries, boxes["boxes"], groups, strict=True)):
        face = BASELINE_COLOUR if kind == "baseline" else colour[loss]
        patch.set(facecolor=face, alpha=0.45, hatch="//" if kind == "baseline" else None)
        x = i + 1.0 + rng.uniform(-0.15, 0.15, len(group))
        worst = group["nan_replaced"].to_numpy(dtype=bool)
        ax.scatter(x[~worst], data[i][~worst], s=10, color="black", alpha=0.7, zorder=3)
        # A replaced NaN distance sits at the volume diagonal: say so rather than let it pass as an outlier.
        ax.scatter(x[worst], data[i][worst], s=30, marker="x", color="red", zorder=4, label="worst case (empty mask)")
    if per_volume["nan_replaced"].any():
        ax.legend(handles=[h for h in ax.collections if h.get_label().startswith("worst")][:1], fontsize=7)
    metric = str(per_volume["metric"].iloc[0]) if len(per_volume) else ""
    ax.set_ylabel(metric_label(metric, unit))
    ax.grid(axis="y", alpha=0.3)


def metric_boxplots(
    values: pd.DataFrame, entries: list[tuple[str, str]], metrics: Sequence[str], reference: str, unit: str
) -> Figure:
    """Per-metric box + strip plots by loss, baselines hatched in grey.

    Args:
        values: values rows of the losses and baselines (one post-processing).
        entries: ``(loss, kind)`` in plotting order.
        metrics: one panel each.
        reference: the reference loss (marked on the axis).
        unit: distance unit for the distance axes.

    Returns:
        The figure; each point is one volume's value averaged over the folds that scored it.
    """
    ncols = 2 if len(entries) > 8 else 3
    nrows = math.ceil(len(metrics) / ncols)
    width = max(4.0, 0.45 * len(entries) + 1.0)
    fig = new_figure(figsize=(width * ncols, 3.6 * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    per_volume = volume_means(values)
    colour = colours([loss for loss, kind in entries if kind == "loss"])
    labels = [display_name(loss, kind, reference) for loss, kind in entries]
    for ax, metric in zip(axes, metrics, strict=False):
        _box_axis(ax, per_volume[per_volume["metric"] == metric], entries, colour, unit)
        ax.set_xticks(range(1, len(entries) + 1), labels, rotation=60, ha="right", fontsize=8)
    for ax in axes[len(metrics) :]:
        ax.axis("off")
    fig.suptitle("Per-volume values by loss (each point: one volume, averaged over folds)")
    return fig


def _curve(ax: Axes, runs: Sequence[RunRecord], column: str, colour: dict) -> bool:
    """Mean over folds of ``column`` per epoch, one line per loss; False if no run has it."""
    drawn = False
    for loss, line_colour in colour.items():
        frames = [r.history[["epoch", column]] for r in runs if r.loss == loss and column in r.history.columns]
        if not frames:
            continue
        curve = pd.concat(frames).dropna().groupby("epoch")[column].mean()
        if len(curve):
            ax.plot(curve.index, curve.to_numpy(), marker=".", markersize=3, color=line_colour, label=loss)
            drawn = True
    return drawn


def training_curves(runs: Sequence[RunRecord], losses: Sequence[str]) -> Figure:
    """Validation DSC and training loss vs epoch, mean over folds, one line per loss.

    Epochs without a value (validation every N epochs) are skipped; after early stopping the
    mean covers only the folds still training.
    """
    fig = new_figure(figsize=(13, 4.5))
    axes = fig.subplots(1, 2)
    colour = colours(losses)
    for ax, column, title in (
        (axes[0], "val_dsc", "validation DSC (mean over folds)"),
        (axes[1], "train_loss", "training loss (mean over folds; each loss on its own scale)"),
    ):
        if not _curve(ax, runs, column, colour):
            ax.text(0.5, 0.5, f"no '{column}' in any history", ha="center", va="center", transform=ax.transAxes)
        ax.set(xlabel="epoch", title=title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    if not handles:
        handles, labels = axes[1].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right center", fontsize=8)
    return fig


def _trade_off_axis(ax: Axes, values: pd.DataFrame, entries: list[tuple[str, str]], reference: str) -> None:
    colour = colours([loss for loss, kind in entries if kind == "loss"])
    per_fold = fold_means(values[values["kind"] == "loss"])
    markers = iter("XPDs^v<>")
    for loss, kind in entries:
        if kind == "baseline":
            mean = values[values["loss"] == loss].groupby("metric")["value"].mean()
            ax.scatter(
                mean["dsc"],
                mean["cldice"],
                marker=next(markers, "X"),
                s=70,
                color=BASELINE_COLOUR,
                label=f"{loss} (baseline)",
            )
            continue
        folds = per_fold[per_fold["loss"] == loss].pivot(index="fold_idx", columns="metric", values="value")
        ax.scatter(folds["dsc"], folds["cldice"], s=18, color=colour[loss], alpha=0.3)
        is_reference = loss == reference
        ax.scatter(
            folds["dsc"].mean(),
            folds["cldice"].mean(),
            s=90 if is_reference else 60,
            color=colour[loss],
            edgecolor="black",
            linewidth=2 if is_reference else 0.8,
            label=f"{loss} (reference)" if is_reference else loss,
        )
    ax.set(xlabel="DSC", ylabel="clDice")
    ax.grid(alpha=0.3)


def dsc_vs_cldice(values: pd.DataFrame, entries: list[tuple[str, str]], reference: str) -> Figure:
    """Trade-off scatter: mean DSC vs mean clDice, one point per loss (folds faint), baselines grey.

    With baselines, a second panel zooms on the losses (the baselines are usually far away).
    """
    with_baselines = any(kind == "baseline" for _, kind in entries)
    fig = new_figure(figsize=(13 if with_baselines else 8, 5.5))
    axes = fig.subplots(1, 2 if with_baselines else 1, squeeze=False).ravel()
    _trade_off_axis(axes[0], values, entries, reference)
    if with_baselines:
        axes[0].set_title("losses and baselines")
        _trade_off_axis(axes[1], values, [e for e in entries if e[1] == "loss"], reference)
        axes[1].set_title("losses only (zoomed)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize=8)
    fig.suptitle("DSC vs clDice (large: mean over folds; faint: one fold)")
    return fig
