"""Class-balanced Dice loss (``class_balanced``, L7)."""

from __future__ import annotations

import torch

from .base import SegmentationLoss, one_hot


class ClassBalancedDiceLoss(SegmentationLoss):
    """Dice with per-sample inverse-frequency class weights.

    Per sample: ``n_c`` = voxel count of class ``c`` in the target, ``N = sum_c n_c``,
    ``w_c = N / (n_c C + eps)`` normalised to sum 1,
    ``Dice_c = (2 sum P_c Y_c + eps) / (sum P_c + sum Y_c + eps)``;
    ``L = 1 - mean_b sum_c w_c Dice_c``. A class absent from a sample gets (almost) all the
    weight, so on an empty target the loss asks for an empty prediction.

    Args:
        eps: smoothing of the weights and of the Dice ratio.
    """

    def __init__(self, *, eps: float = 1e-5) -> None:
        super().__init__()
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps}")
        self.eps = float(eps)

    def compute(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Logits ``B x 2 x H x W x D``, labels ``B x 1 x H x W x D`` -> scalar."""
        probs = torch.softmax(logits, dim=1)
        labels = one_hot(target)
        spatial = tuple(range(2, probs.ndim))
        counts = labels.sum(dim=spatial)  # B x C
        n_classes = counts.shape[1]
        weights = counts.sum(dim=1, keepdim=True) / (counts * n_classes + self.eps)
        weights = weights / weights.sum(dim=1, keepdim=True)
        intersection = (probs * labels).sum(dim=spatial)
        denominator = probs.sum(dim=spatial) + counts + self.eps
        dice = (2.0 * intersection + self.eps) / denominator
        return 1.0 - (weights * dice).sum(dim=1).mean()
