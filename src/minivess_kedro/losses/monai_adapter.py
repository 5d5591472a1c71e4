"""Adapter that gives MONAI's losses the project's uniform call contract."""

from __future__ import annotations

import torch
from torch import nn

from .base import SegmentationLoss


class MonaiLoss(SegmentationLoss):
    """Wrap a MONAI loss built with ``to_onehot_y=True`` and a softmax activation.

    The wrapped loss is always called by keyword (``input=``, ``target=``): MONAI 1.6 swapped the
    positional order of the clDice losses, so a positional call can silently compare the labels
    with the logits.

    Args:
        loss: a MONAI loss taking logits ``B x 2 x H x W x D`` and labels ``B x 1 x H x W x D``.
    """

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def compute(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Call the MONAI loss by keyword on float32 logits."""
        return self.loss(input=logits, target=target)

    def extra_repr(self) -> str:
        return type(self.loss).__name__
