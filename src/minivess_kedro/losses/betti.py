"""Fragmentation-matching loss (``betti``, L6): topology through spatial gradients."""

from __future__ import annotations

import torch

from .base import SegmentationLoss


def fragmentation(x: torch.Tensor) -> torch.Tensor:
    """Sum over the spatial axes of the mean absolute forward difference along that axis.

    Args:
        x: ``B x H x W x D`` map (probabilities or labels).

    Returns:
        Scalar; the mean runs over the whole tensor, batch included. An axis of size 1 has no
        forward difference and contributes 0 (a mean over nothing would be NaN).
    """
    total = x.new_zeros(())
    for axis in range(1, x.ndim):
        if x.shape[axis] > 1:
            total = total + torch.diff(x, dim=axis).abs().mean()
    return total


class BettiLoss(SegmentationLoss):
    """``L = lambda_betti * |frag(p) - frag(y)|`` with ``p`` the vessel softmax probability.

    A fragmentation proxy, not true Betti numbers: it matches the amount of edge in the
    prediction to that of the target. On its own it is expected to collapse (a blurred or
    shifted map can match the edge amount), which the study should show, not hide.

    Args:
        lambda_betti: weight of the term.
    """

    def __init__(self, *, lambda_betti: float = 1.0) -> None:
        super().__init__()
        self.lambda_betti = float(lambda_betti)

    def compute(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Logits ``B x 2 x H x W x D``, labels ``B x 1 x H x W x D`` -> scalar."""
        p = torch.softmax(logits, dim=1)[:, 1]
        y = (target[:, 0] > 0).float()
        return self.lambda_betti * (fragmentation(p) - fragmentation(y)).abs()
