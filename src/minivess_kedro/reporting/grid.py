"""Grid completeness: every loss compared over the same (fold, seed) cells.

A loss run on folds 0-2 and another on folds 0-1 would be compared over different volumes and
different training draws; the loss table and headlines would mix them silently. The report
refuses such a grid with one error listing every missing cell, or, when asked, restricts every
table to the cells all losses share and says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

Cell = tuple[int, int]


def _cells(values: pd.DataFrame) -> dict[str, set[Cell]]:
    """``{loss: {(fold, seed), ...}}`` of values rows."""
    pairs = values[["loss", "fold_idx", "seed"]].drop_duplicates()
    found: dict[str, set[Cell]] = {}
    for loss, fold, seed in pairs.itertuples(index=False):
        found.setdefault(str(loss), set()).add((int(fold), int(seed)))
    return found


def missing_cells(values: pd.DataFrame, losses: Sequence[str]) -> dict[str, list[Cell]]:
    """Per loss, the (fold, seed) cells some other loss has and it lacks (sorted; complete: ``{}``)."""
    cells = _cells(values)
    every = set().union(*cells.values()) if cells else set()
    return {loss: sorted(every - cells.get(loss, set())) for loss in losses if every - cells.get(loss, set())}


def shared_cells(values: pd.DataFrame, losses: Sequence[str]) -> set[Cell]:
    """The (fold, seed) cells every loss of ``losses`` has."""
    cells = _cells(values)
    return set.intersection(*(cells.get(loss, set()) for loss in losses)) if losses else set()


def check_grid(values: pd.DataFrame, losses: Sequence[str], restrict: bool) -> tuple[pd.DataFrame, str | None]:
    """The values to report on, and a note when they were restricted to the shared cells.

    Args:
        values: values rows of the losses (``loss``, ``fold_idx``, ``seed``).
        losses: the reported losses.
        restrict: restrict to the shared cells instead of raising.

    Returns:
        ``(values, note)``: unchanged and ``None`` for a complete grid.

    Raises:
        ValueError: the grid is incomplete and ``restrict`` is false (one error listing each
            loss's missing cells), or no cell is shared by every loss.
    """
    missing = missing_cells(values, losses)
    if not missing:
        return values, None
    listed = "; ".join(
        f"{loss}: " + ", ".join(f"fold {fold} seed {seed}" for fold, seed in cells) for loss, cells in missing.items()
    )
    shared = shared_cells(values, losses)
    if not restrict:
        raise ValueError(
            f"incomplete grid: the losses were not all run on the same (fold, seed) cells; missing {listed}. Run the "
            "missing cells (kedro sweep resumes a grid), or set reporting.restrict_to_shared_cells: true to compare "
            "on the cells every loss has."
        )
    if not shared:
        raise ValueError(f"incomplete grid and no (fold, seed) cell shared by every loss; missing {listed}.")
    keep = [(int(f), int(s)) in shared for f, s in zip(values["fold_idx"], values["seed"], strict=True)]
    cells = ", ".join(f"fold {fold} seed {seed}" for fold, seed in sorted(shared))
    note = (
        f"**Incomplete grid: every table uses only the (fold, seed) cells all losses share** ({cells}); left out: "
        f"{listed}. Promotion is refused on an incomplete grid."
    )
    return values[keep].reset_index(drop=True), note
