"""TopoNet loss (``topo``, L12; Hu et al., NeurIPS 2019, as used in CoLeTra, Lipman 2025)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from minivess_kedro.topology.persistence import topo_maps

from . import host
from .base import NUM_CHANNELS, SegmentationLoss, TrainingProgressMixin, one_hot


class TopoNetLoss(TrainingProgressMixin, SegmentationLoss):
    """``L = weighted CE + lambda_topo MSE_critical``, the MSE switched on late in training.

    Weighted CE: ``-mean over samples and voxels of sum_c w_c Y_c log(P_c + 1e-15)``, not
    normalised by the weight sum. MSE_critical: mean over all voxels of
    ``(p * W - R)^2`` with ``W`` the persistence-critical voxels and ``R`` their reference
    probabilities (:func:`~minivess_kedro.topology.persistence.topo_maps`). The persistence runs on
    the CPU (gudhi); it is skipped while the term is inactive.

    Args:
        lambda_topo: weight of the critical-voxel MSE.
        activate_at: training progress from which the term is on (see ``set_training_progress``).
        topo_size: side of the cubes on which persistence is computed.
        weight: class weights ``(background, vessel)`` of the cross-entropy.
        pers_thd: persistence below which a surplus predicted component is left alone.
    """

    def __init__(
        self,
        *,
        lambda_topo: float = 1e-4,
        activate_at: float = 0.7,
        topo_size: int = 50,
        weight: Sequence[float] = (0.05, 0.95),
        pers_thd: float = 0.03,
    ) -> None:
        super().__init__()
        self._init_progress(activate_at)
        if topo_size < 1:
            raise ValueError(f"topo_size must be a positive integer, got {topo_size}")
        if len(weight) != NUM_CHANNELS:
            raise ValueError(f"weight needs one value per class ({NUM_CHANNELS}), got {weight}")
        self.lambda_topo = float(lambda_topo)
        self.topo_size = int(topo_size)
        self.pers_thd = float(pers_thd)
        weights = torch.tensor([float(w) for w in weight]).view(1, NUM_CHANNELS, 1, 1, 1)
        self.register_buffer("weight", weights, persistent=False)  # follows .to(device), not saved

    def compute(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Logits ``B x 2 x H x W x D``, labels ``B x 1 x H x W x D`` -> scalar."""
        probs = torch.softmax(logits, dim=1)
        labels = one_hot(target)
        ce = -(self.weight * labels * torch.log(probs + 1e-15)).sum(dim=1).mean()
        if not self.term_active:
            return self._without_term(ce)
        if self.lambda_topo == 0.0:
            return self._with_term(ce, ce.new_zeros(()))
        p = probs[:, 1]
        p_np, y_np = host.to_numpy(p), host.to_numpy(labels[:, 1])
        maps = [topo_maps(ps, ys, self.topo_size, self.pers_thd) for ps, ys in zip(p_np, y_np, strict=True)]
        weight_map = host.to_device(np.stack([w for w, _ in maps]), like=p)
        ref_map = host.to_device(np.stack([r for _, r in maps]), like=p)
        mse = ((p * weight_map - ref_map) ** 2).mean()
        return self._with_term(ce, self.lambda_topo * mse)
