"""Centerline cross-entropy (``centerline_ce``, L10; Acebes et al., MICCAI 2024)."""

from __future__ import annotations

import torch
from torch.nn.functional import cross_entropy

from minivess_kedro.topology.soft_skeleton import soft_skeleton

from .base import SegmentationLoss


class CenterlineCrossEntropyLoss(SegmentationLoss):
    """``L = lambda_ce CE + lambda_clce clCE`` (defaults 1, 1).

    ``clCE = mean(CE * softskel(Y_vessel)) + mean(CE * softskel(p))``: the per-voxel
    cross-entropy weighted by the soft skeleta of the target and of the prediction (means over all
    voxels). The predicted skeleton keeps its gradient. ``lambda_ce = 0`` gives the clCE term alone.

    Args:
        lambda_ce: weight of the mean cross-entropy.
        lambda_clce: weight of the centerline term.
        iter_: soft-skeleton iterations.
    """

    def __init__(self, *, lambda_ce: float = 1.0, lambda_clce: float = 1.0, iter_: int = 3) -> None:
        super().__init__()
        if iter_ < 0:
            raise ValueError(f"iter_ must be non-negative, got {iter_}")
        self.lambda_ce = float(lambda_ce)
        self.lambda_clce = float(lambda_clce)
        self.iter_ = int(iter_)

    def compute(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Logits ``B x 2 x H x W x D``, labels ``B x 1 x H x W x D`` -> scalar."""
        labels = target[:, 0].long()
        ce = cross_entropy(logits, labels, reduction="none")  # B x H x W x D
        total = self.lambda_ce * ce.mean()
        if self.lambda_clce != 0.0:
            p = torch.softmax(logits, dim=1)[:, 1:]
            with torch.no_grad():
                skel_true = soft_skeleton((labels > 0).float().unsqueeze(1), self.iter_)[:, 0]
            skel_pred = soft_skeleton(p, self.iter_)[:, 0]
            clce = (ce * skel_true).mean() + (ce * skel_pred).mean()
            total = total + self.lambda_clce * clce
        return total
