"""The uniform call contract shared by every loss of the study.

Every loss is called as ``loss(logits, target)`` (or by keyword, ``loss(input=logits,
target=labels)``) with 2-channel logits ``B x 2 x H x W x D`` (channel 1 = vessel) and an integer
label map ``B x 1 x H x W x D``, and returns a scalar tensor. The base class checks the shapes once
and computes the loss in float32 with autocast disabled: mixed precision is the usual source of
NaNs in 3D segmentation losses (sums over ~1e5 voxels, logs of small probabilities).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.functional import one_hot as _one_hot

NUM_CHANNELS = 2


def check_inputs(logits: torch.Tensor, target: torch.Tensor) -> None:
    """Raise a ``ValueError`` unless logits are ``B x 2 x H x W x D``, labels ``B x 1 x H x W x D``.

    Shapes are checked before any work, so a wrong call fails loudly and cheaply.
    """
    if logits.ndim != 5 or logits.shape[1] != NUM_CHANNELS:
        raise ValueError(f"logits must have shape B x {NUM_CHANNELS} x H x W x D, got {tuple(logits.shape)}")
    expected = (logits.shape[0], 1, *logits.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(
            f"target must be a label map of shape {expected} (B x 1 x H x W x D) matching the "
            f"logits {tuple(logits.shape)}, got {tuple(target.shape)}"
        )


def one_hot(target: torch.Tensor) -> torch.Tensor:
    """One-hot encode a label map.

    Args:
        target: integer label map ``B x 1 x H x W x D`` with values in {0, 1}.

    Returns:
        float32 one-hot tensor ``B x 2 x H x W x D``.
    """
    labels = target[:, 0].long()
    return _one_hot(labels, NUM_CHANNELS).permute(0, 4, 1, 2, 3).float()


class SegmentationLoss(nn.Module):
    """Base class: validates the inputs and runs :meth:`compute` in float32 without autocast.

    Subclasses implement ``compute(logits, target)``; they receive float32 (or float64) logits
    ``B x 2 x H x W x D`` and the untouched label map ``B x 1 x H x W x D``.
    """

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            input: logits ``B x 2 x H x W x D`` (any float dtype, autocast or not).
            target: label map ``B x 1 x H x W x D`` with values in {0, 1}.

        Returns:
            A scalar tensor, float32 (float64 for float64 logits).
        """
        check_inputs(input, target)
        # float64 stays float64 (gradient checks); every lower precision is raised to float32.
        logits = input if input.dtype == torch.float64 else input.float()
        with torch.autocast(device_type=input.device.type, enabled=False):
            return self.compute(logits, target)

    def compute(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Compute the loss on float32 logits (implemented by subclasses)."""
        raise NotImplementedError


class TrainingProgressMixin:
    """A term that switches on late in training (the warping and TopoNet losses).

    The trainer calls :meth:`set_training_progress` with the fraction of training done; the
    term is active when that fraction is >= ``activate_at``. A fresh loss starts at progress 0.
    """

    activate_at: float
    progress: float

    def _init_progress(self, activate_at: float) -> None:
        if not 0.0 <= activate_at <= 1.0:
            raise ValueError(f"activate_at must lie in [0, 1], got {activate_at}")
        self.activate_at = float(activate_at)
        self.progress = 0.0

    def set_training_progress(self, fraction: float) -> None:
        """Tell the loss how far training is (0 = start, 1 = end)."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"training progress must lie in [0, 1], got {fraction}")
        self.progress = float(fraction)

    @property
    def term_active(self) -> bool:
        """Whether the late-training term is currently switched on."""
        return self.progress >= self.activate_at
