"""Weighted sums of losses (vessel_compound, topo_compound, cbdice_cldice)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from .base import SegmentationLoss


class CompoundLoss(SegmentationLoss):
    """``L = sum_i lambda_i L_i`` over named sub-losses.

    Args:
        terms: ``{name: (weight, loss)}``; each loss follows the uniform contract
            (``B x 2 x H x W x D`` logits, ``B x 1 x H x W x D`` labels -> scalar).
    """

    def __init__(self, terms: Mapping[str, tuple[float, nn.Module]]) -> None:
        super().__init__()
        if not terms:
            raise ValueError("a compound loss needs at least one term")
        self.weights = {name: float(weight) for name, (weight, _) in terms.items()}
        self.terms = nn.ModuleDict({name: loss for name, (_, loss) in terms.items()})

    def compute(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Weighted sum of the sub-losses; a term with weight 0 is not evaluated."""
        total = logits.new_zeros(())
        for name, loss in self.terms.items():
            if self.weights[name] != 0.0:
                total = total + self.weights[name] * loss(input=logits, target=target)
        return total

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={weight}" for name, weight in self.weights.items())
