"""The grid of a study: which losses on which folds, with which seeds."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml


def seed_suffix(seed: int | str) -> str:
    """``""`` for seed 0 (the study's first seed keeps the names it always had), else ``-seed<s>``.

    Used in run names (``cbdice-fold1-seed2``) and, through the ``seed_suffix`` config resolver,
    in the per-run folders (``fold_1-seed2``).
    """
    seed = int(seed)
    return "" if seed == 0 else f"-seed{seed}"


@dataclass(frozen=True, order=True)
class Cell:
    """One run of the study: one loss on one fold, trained with one seed."""

    loss: str
    fold_idx: int
    seed: int = 0

    @property
    def name(self) -> str:
        """``<loss>-fold<k>`` for seed 0, ``<loss>-fold<k>-seed<s>`` otherwise (the MLflow run name)."""
        return f"{self.loss}-fold{self.fold_idx}{seed_suffix(self.seed)}"


def _items(value: str | Sequence) -> list[str]:
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [item.strip() for item in items if str(item).strip()]


def _indices(value: str | Sequence, what: str) -> list[int]:
    indices = []
    for item in _items(value):
        if not item.isdigit():
            raise ValueError(f"{what} {item!r} is not a {what} index 0, 1, ...")
        indices.append(int(item))
    return list(dict.fromkeys(indices))


def parse_grid(
    losses: str | Sequence[str],
    folds: str | Sequence[int],
    valid_losses: Sequence[str],
    seeds: str | Sequence[int] = "0",
) -> list[Cell]:
    """Every loss x fold x seed, loss-major, then fold, then seed, without repeats.

    Raises:
        ValueError: an unknown loss (the valid ones listed), a fold or seed that is not a
            non-negative integer, or an empty grid.
    """
    names = list(dict.fromkeys(_items(losses)))
    unknown = [name for name in names if name not in valid_losses]
    if unknown:
        raise ValueError(f"unknown losses {unknown}; valid: {', '.join(valid_losses)}")
    fold_indices, seed_indices = _indices(folds, "fold"), _indices(seeds, "seed")
    cells = [Cell(loss, fold, seed) for loss in names for fold in fold_indices for seed in seed_indices]
    if not cells:
        raise ValueError("the grid is empty: give at least one loss, one fold and one seed")
    return cells


def load_grid_file(path: str | os.PathLike, valid_losses: Sequence[str]) -> list[Cell]:
    """A YAML grid: ``losses: [dice_ce, cbdice]``, ``folds: [0, 1, 2]`` and optional ``seeds: [0, 1]``.

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
    return parse_grid(grid["losses"], grid["folds"], valid_losses, grid.get("seeds", [0]))
