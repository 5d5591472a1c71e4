"""Weighted sums of losses (vessel_compound, topo_compound, cbdice_cldice)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from .base import LateTermStats, SegmentationLoss


def _has_late_term(loss: nn.Module) -> bool:
    return bool(getattr(loss, "has_late_term", False))


class CompoundLoss(SegmentationLoss):
    """``L = sum_i lambda_i L_i`` over named sub-losses.

    A compound with a late-term loss among its terms (``has_late_term``: ``warp``, ``topo``) is a
    :class:`LateTermCompoundLoss` instead, which has the late-term interface
    (``set_training_progress`` ...); :func:`compound_loss` picks the class from the terms.

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


class LateTermCompoundLoss(CompoundLoss):
    """A compound with at least one late-term loss among its terms.

    ``set_training_progress`` is passed on to every term that has it. The compound's late term is
    active when every such term's is, and its first active epoch is the latest of theirs (the
    checkpoint is then selected with all of them on). :meth:`pop_term_stats` reports the sum of
    ``lambda_i * (term i's weighted late term)`` against the rest of the compound, per call.
    """

    has_late_term = True

    def __init__(self, terms: Mapping[str, tuple[float, nn.Module]]) -> None:
        super().__init__(terms)
        self.term_stats = LateTermStats()
        self.last_late_term = 0.0  # the weighted late terms of the last call (for a parent compound)

    @property
    def _late_terms(self) -> list[nn.Module]:
        return [loss for loss in self.terms.values() if _has_late_term(loss)]

    @property
    def term_active(self) -> bool:
        """Whether every late term is switched on."""
        return all(loss.term_active for loss in self._late_terms)

    def set_training_progress(self, fraction: float) -> None:
        """Tell every term that takes it how far training is (0 = start, 1 = end)."""
        for loss in self.terms.values():
            if hasattr(loss, "set_training_progress"):
                loss.set_training_progress(fraction)

    def first_active_epoch(self, max_epochs: int) -> int:
        """The first epoch at which every late term is on."""
        return max(loss.first_active_epoch(max_epochs) for loss in self._late_terms)

    def pop_term_stats(self) -> dict[str, float]:
        """Means of ``late_term`` (the compound's weighted late terms) and ``late_term_ratio`` (over
        the rest of the compound) since the last pop, calls with a late term on only; resets them
        (and the terms' own, which this compound does not report)."""
        for loss in self._late_terms:
            loss.pop_term_stats()
        return self.term_stats.pop()

    def compute(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Weighted sum of the sub-losses, recording the weighted late terms while any is on."""
        total, late, any_active = logits.new_zeros(()), 0.0, False
        for name, loss in self.terms.items():
            if self.weights[name] != 0.0:
                total = total + self.weights[name] * loss(input=logits, target=target)
                if _has_late_term(loss) and loss.term_active:
                    late, any_active = late + self.weights[name] * loss.last_late_term, True
        self.last_late_term = late
        if any_active:
            self.term_stats.add(total.detach() - late, torch.as_tensor(late, device=total.device))
        return total


def compound_loss(terms: Mapping[str, tuple[float, nn.Module]]) -> CompoundLoss:
    """``sum_i lambda_i L_i``: a :class:`LateTermCompoundLoss` when a term has a late term (so that
    training tells it its progress and selects with the term on), else a :class:`CompoundLoss`."""
    late = any(_has_late_term(loss) for _, loss in terms.values())
    return (LateTermCompoundLoss if late else CompoundLoss)(terms)
