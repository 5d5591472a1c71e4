"""Training checkpoints: written atomically, read back without unpickling code."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from minivess_kedro.framework.dotted_keys import dotted_keys


def save_checkpoint(path: str | os.PathLike, checkpoint: dict[str, Any]) -> Path:
    """Writes ``checkpoint`` (tensors, numbers, strings, lists, dicts) to ``path`` through a
    temporary file and a rename: a crash mid-write leaves the previous checkpoint intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    try:
        torch.save(checkpoint, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Reads a checkpoint with ``weights_only=True``: only tensors and plain containers, no code.

    Raises:
        ValueError: an unreadable or non-checkpoint file, naming it.
    """
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        raise ValueError(f"{path}: not a readable checkpoint ({type(err).__name__}: {err})") from err


class CheckpointMismatchError(ValueError):
    """A checkpoint folder that belongs to a run with other settings."""


def settings_difference(old: dict, new: dict) -> list[str]:
    """``key: old -> new`` for every setting that differs (nested keys dotted)."""
    before, after = dotted_keys(old), dotted_keys(new)
    return [
        f"{k}: {before.get(k)!r} -> {after.get(k)!r}"
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    ]


def archive_folder(folder: Path) -> Path:
    """Moves ``folder`` aside to ``<folder>.previous-<n>`` (never deletes a past run's work)."""
    index = 1
    while (target := folder.with_name(f"{folder.name}.previous-{index}")).exists():
        index += 1
    folder.rename(target)
    return target


def resumable_checkpoint(folder: str | os.PathLike, settings: dict, restart: bool = False) -> dict[str, Any] | None:
    """The ``last.pt`` checkpoint to resume from, if it belongs to a run with these settings.

    Args:
        folder: the run's checkpoint folder.
        settings: everything that defines the run (parameters, loss, fold, dataset fingerprint).
        restart: start afresh; an existing folder is archived, not deleted.

    Returns:
        The checkpoint, or ``None`` for a fresh start.

    Raises:
        CheckpointMismatchError: ``last.pt`` was written with other settings and ``restart`` is
            off; the message lists the differences and the way out.
    """
    folder = Path(folder)
    last = folder / "last.pt"
    if not last.exists():
        return None
    if restart:
        archive_folder(folder)
        return None
    checkpoint = load_checkpoint(last)
    differences = settings_difference(checkpoint.get("settings", {}), settings)
    if differences:
        raise CheckpointMismatchError(
            f"{last} belongs to a run with other settings ({'; '.join(differences[:8])}). "
            "Rerun with --params training.restart=true to start afresh (the old checkpoints are kept "
            f"in {folder.name}.previous-N), or restore the settings to resume it."
        )
    return checkpoint
