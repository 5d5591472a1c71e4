"""Training of one model on one fold: data, loop, checkpoints (no Kedro, no MLflow here)."""

from minivess_kedro.training.checkpoint import CheckpointMismatchError, load_checkpoint, save_checkpoint
from minivess_kedro.training.config import FitConfig
from minivess_kedro.training.data import (
    LoaderSettings,
    VolumeItem,
    build_training_dataset,
    build_validation_dataset,
)
from minivess_kedro.training.device import resolve_device
from minivess_kedro.training.loop import FitResult, Trainer

__all__ = [
    "CheckpointMismatchError",
    "FitConfig",
    "FitResult",
    "LoaderSettings",
    "Trainer",
    "VolumeItem",
    "build_training_dataset",
    "build_validation_dataset",
    "load_checkpoint",
    "resolve_device",
    "save_checkpoint",
]
