"""Warping loss (``warp``, L11; Hu, NeurIPS 2022, as used in CoLeTra, Lipman 2025)."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn.functional import cross_entropy

from minivess_kedro.topology.warping import critical_voxels

from . import host
from .base import SegmentationLoss, TrainingProgressMixin, one_hot


class WarpingLoss(TrainingProgressMixin, SegmentationLoss):
    """``L = Dice + lambda_warp CE_critical``, the CE term switched on late in training.

    Dice: mean over samples and both classes of
    ``1 - (2 sum P Y + smooth_nr) / (sum P + sum Y + smooth_dr)``. CE_critical, as the authors'
    code does it: torch cross-entropy applied to the masked softmax probabilities ``P * M`` with the
    masked target ``y * M`` (mean over all voxels), ``M`` the warping-critical voxels of
    :func:`~minivess_kedro.topology.warping.critical_voxels`. Finding ``M`` is a CPU round trip
    (distance transforms and the simple-point flips); it is skipped while the term is inactive.

    Args:
        lambda_warp: weight of the critical-voxel cross-entropy.
        activate_at: training progress from which the term is on (see ``set_training_progress``).
        smooth_nr: Dice numerator smoothing.
        smooth_dr: Dice denominator smoothing.
    """

    def __init__(
        self,
        *,
        lambda_warp: float = 1e-4,
        activate_at: float = 0.7,
        smooth_nr: float = 1.0,
        smooth_dr: float = 1.0,
    ) -> None:
        super().__init__()
        self._init_progress(activate_at)
        self.lambda_warp = float(lambda_warp)
        self.smooth_nr = float(smooth_nr)
        self.smooth_dr = float(smooth_dr)

    def compute(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Logits ``B x 2 x H x W x D``, labels ``B x 1 x H x W x D`` -> scalar."""
        probs = torch.softmax(logits, dim=1)
        labels = one_hot(target)
        spatial = tuple(range(2, probs.ndim))
        numerator = 2.0 * (probs * labels).sum(dim=spatial) + self.smooth_nr
        denominator = probs.sum(dim=spatial) + labels.sum(dim=spatial) + self.smooth_dr
        dice = (1.0 - numerator / denominator).mean()
        if not self.term_active:
            return self._without_term(dice)
        if self.lambda_warp == 0.0:
            return self._with_term(dice, dice.new_zeros(()))
        pred = host.to_numpy(probs.argmax(dim=1)).astype(bool)
        gt = host.to_numpy(target[:, 0] > 0)
        masks = np.stack([critical_voxels(p, g) for p, g in zip(pred, gt, strict=True)])
        critical = host.to_device(masks, like=logits)
        masked_target = (labels[:, 1] > 0) & critical
        ce = cross_entropy(probs * critical.unsqueeze(1), masked_target.long())
        return self._with_term(dice, self.lambda_warp * ce)
