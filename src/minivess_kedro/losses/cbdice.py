"""Centerline-boundary Dice (``cbdice``, L9; Shi et al., MICCAI 2024).

Written from ``shared/specs/losses.md``: the cbDice term weighs skeleton voxels by the local
vessel radius taken from a Euclidean distance transform, so that thin and thick vessels count
alike. The study trains it as the authors do, ``2 CE + 1 D + 1 cbDice`` with nnU-Net's sign
convention for the Dice (``D = -dc``), so the total is often negative.
"""

from __future__ import annotations

import torch
from torch.nn.functional import cross_entropy

from minivess_kedro.topology.soft_skeleton import soft_skeleton

from . import host
from .base import SegmentationLoss

SPATIAL = (1, 2, 3)


def _radius_maps(dist: torch.Tensor, skel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Radius-normalised maps of one mask.

    Args:
        dist: ``B x H x W x D`` distance transform of the binary mask (voxel units).
        skel: ``B x H x W x D`` bool, the binarised skeleton.

    Returns:
        ``(v, sv, s)``: ``min(Dist, R_max) / R_max``, ``R / R_max`` and the inverse-radius skeleton
        weight ``((R_max - R + R_min) / R_max)^2`` on the skeleton (0 elsewhere), where
        ``R = Dist`` on the skeleton and, per sample, ``R_max = max(max R, 1)``,
        ``R_min = max(min R, 1)``. Squared because the volumes are 3D.
    """
    radius = torch.where(skel, dist, torch.zeros_like(dist))
    r_max = radius.amax(dim=SPATIAL, keepdim=True).clamp(min=1.0)
    r_min = radius.amin(dim=SPATIAL, keepdim=True).clamp(min=1.0)
    v = torch.minimum(dist, r_max) / r_max
    sv = radius / r_max
    s = torch.where(skel, ((r_max - radius + r_min) / r_max) ** 2, torch.zeros_like(dist))
    return v, sv, s


def _combine(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """``B C`` where ``B != 0``, else ``A C`` where ``A != 0``, else 0."""
    return torch.where(b != 0, b * c, torch.where(a != 0, a * c, torch.zeros_like(c)))


def cbdice_term(p: torch.Tensor, y: torch.Tensor, iter_: int = 10, smooth: float = 1e-3) -> torch.Tensor:
    """The cbDice term, ``-2 w_prec w_sens / (w_prec + w_sens)`` (best -1; below -1 is possible).

    Args:
        p: ``B x H x W x D`` vessel probability (carries the gradient).
        y: ``B x H x W x D`` binary target, float.
        iter_: soft-skeleton iterations.
        smooth: ``s`` in the precision and sensitivity ratios (sums run over the whole batch).

    Returns:
        Scalar tensor.
    """
    with torch.no_grad():
        p_hard = (p > 0.5).float()
        skeletons = soft_skeleton(torch.stack([y, p_hard], dim=1), iter_)
        skel_y, skel_p_hard = skeletons[:, 0], skeletons[:, 1]
        # the 2B masks transformed one by one (cuCIM on GPU when installed, scipy on CPU)
        dist = host.distance_map(torch.cat([y, p_hard]))
        dist_y, dist_p = dist.split(y.shape[0])
    skel_p = skel_p_hard * p  # soft predicted skeleton, keeps the gradient of p
    v_y, sv_y, s_y = _radius_maps(dist_y, skel_y == 1)
    v_p, sv_p, s_p = _radius_maps(dist_p, skel_p.detach() > 0.5)
    q_v_y, q_sv_y, q_s_y = v_y * y, sv_y * y, s_y * skel_y
    q_v_p, q_sv_p, q_s_p = v_p * p, sv_p * p, s_p * skel_p
    w_prec = ((q_s_p * q_v_y).sum() + smooth) / (_combine(q_sv_p, q_sv_y, q_s_p).sum() + smooth)
    w_sens = ((q_s_y * q_v_p).sum() + smooth) / (_combine(q_sv_y, q_sv_p, q_s_y).sum() + smooth)
    return -2.0 * w_prec * w_sens / (w_prec + w_sens)


class CbDiceLoss(SegmentationLoss):
    """``L = lambda_ce CE + lambda_dice D + lambda_cbdice cbDice`` (defaults 2, 1, 1).

    CE: mean cross-entropy on the logits. ``D = -dc`` (nnU-Net's sign convention),
    ``dc = mean_b (2 sum p y + smooth_nr) / max(sum p + sum y + smooth_dr, 1e-8)`` on the vessel
    channel only. ``lambda_ce = lambda_dice = 0`` gives the cbDice term alone. The distance
    transform needs a round trip to the CPU unless cuCIM is installed; it is skipped when
    ``lambda_cbdice == 0``.

    Args:
        lambda_ce: weight of the cross-entropy.
        lambda_dice: weight of the (negative) soft Dice.
        lambda_cbdice: weight of the cbDice term.
        iter_: soft-skeleton iterations of the cbDice term.
        smooth: smoothing ``s`` of the cbDice ratios.
        smooth_nr: Dice numerator smoothing.
        smooth_dr: Dice denominator smoothing.
    """

    def __init__(
        self,
        *,
        lambda_ce: float = 2.0,
        lambda_dice: float = 1.0,
        lambda_cbdice: float = 1.0,
        iter_: int = 10,
        smooth: float = 1e-3,
        smooth_nr: float = 1e-5,
        smooth_dr: float = 1e-5,
    ) -> None:
        super().__init__()
        if iter_ < 0:
            raise ValueError(f"iter_ must be non-negative, got {iter_}")
        if smooth <= 0:
            raise ValueError(f"smooth must be positive, got {smooth}")
        self.lambda_ce = float(lambda_ce)
        self.lambda_dice = float(lambda_dice)
        self.lambda_cbdice = float(lambda_cbdice)
        self.iter_ = int(iter_)
        self.smooth = float(smooth)
        self.smooth_nr = float(smooth_nr)
        self.smooth_dr = float(smooth_dr)

    def compute(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Logits ``B x 2 x H x W x D``, labels ``B x 1 x H x W x D`` -> scalar."""
        labels = target[:, 0].long()
        p = torch.softmax(logits, dim=1)[:, 1]
        y = (labels > 0).float()
        total = logits.new_zeros(())
        if self.lambda_ce != 0.0:
            total = total + self.lambda_ce * cross_entropy(logits, labels)
        if self.lambda_dice != 0.0:
            intersection = (p * y).sum(dim=SPATIAL)
            denominator = (p.sum(dim=SPATIAL) + y.sum(dim=SPATIAL) + self.smooth_dr).clamp(min=1e-8)
            dc = ((2.0 * intersection + self.smooth_nr) / denominator).mean()
            total = total - self.lambda_dice * dc
        if self.lambda_cbdice != 0.0:
            total = total + self.lambda_cbdice * cbdice_term(p, y, self.iter_, self.smooth)
        return total
