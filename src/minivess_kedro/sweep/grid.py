"""The grid of a study: which losses on which folds."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True, order=True)
class Cell:
    """One run of the study: one loss on one fold."""

    loss: str
    fold_idx: int

    @property
    def name(self) -> str:
        return f"{self.loss}-fold{self.fold_idx}"


def _items(value: str | Sequence) -> list[str]:
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [item.strip() for item in items if str(item).strip()]


def parse_grid(losses: str | Sequence[str], folds: str | Sequence[int], valid_losses: Sequence[str]) -> list[Cell]:
    """Every loss x fold, loss-major, without repeats.

    Raises:
        ValueError: an unknown loss (the valid ones listed), a fold that is not a non-negative
            integer, or an empty grid.
    """
    names = list(dict.fromkeys(_items(losses)))
    unknown = [name for name in names if name not in valid_losses]
    if unknown:
        raise ValueError(f"unknown losses {unknown}; valid: {', '.join(valid_losses)}")
    indices = []
    for fold in _items(folds):
        if not fold.isdigit():
            raise ValueError(f"fold {fold!r} is not a fold index 0, 1, ...")
        indices.append(int(fold))
    cells = [Cell(loss, fold) for loss in names for fold in dict.fromkeys(indices)]
    if not cells:
        raise ValueError("the grid is empty: give at least one loss and one fold")
    return cells


def load_grid_file(path: str | os.PathLike, valid_losses: Sequence[str]) -> list[Cell]:
    """A YAML grid: ``losses: [dice_ce, cbdice]`` and ``folds: [0, 1, 2]``.

    Raises:
        ValueError: unreadable file or missing keys, naming the file.
    """
    path = Path(path)
    try:
        grid = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"{path}: cannot read the grid ({err})") from err
    missing = [key for key in ("losses", "folds") if key not in grid]
    if missing:
        raise ValueError(f"{path}: the grid needs {missing} (e.g. losses: [dice_ce, cbdice], folds: [0, 1, 2])")
    return parse_grid(grid["losses"], grid["folds"], valid_losses)
