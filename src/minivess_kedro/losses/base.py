"""The uniform call contract shared by every loss of the study.

Every loss is called as ``loss(logits, target)`` (or by keyword, ``loss(input=logits,
target=labels)``) with 2-channel logits ``B x 2 x H x W x D`` (channel 1 = vessel) and an integer
label map ``B x 1 x H x W x D``, and returns a scalar tensor. The base class checks the shapes once
and computes the loss in float32 with autocast disabled: mixed precision is the usual source of
NaNs in 3D segmentation losses (sums over ~1e5 voxels, logs of small probabilities).
"""

from __future__ import annotations

import contextlib
import math

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


def _autocast_off(device: torch.device) -> contextlib.AbstractContextManager:
    """Autocast disabled on ``device``; nothing to disable where autocast does not exist (meta)."""
    if not torch.amp.is_autocast_available(device.type):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, enabled=False)


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
        with _autocast_off(input.device):
            return self.compute(logits, target)

    def compute(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Compute the loss on float32 logits (implemented by subclasses)."""
        raise NotImplementedError


class LateTermStats:
    """Running means of a late term's size during one epoch (detached tensors, no graph).

    Each recorded call adds the base loss value and the weighted late term (``lambda * term``);
    :meth:`pop` returns the means and starts afresh. The ratio is the mean of the per-call ratios
    ``weighted / base`` (calls with a base <= 0 are left out of the ratio: it has no meaning there).
    The sums stay on the loss's device, so recording a call never waits for the GPU; only
    :meth:`pop` (once an epoch) reads them.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every recorded call."""
        self.calls = 0
        self.ratio_calls: torch.Tensor | float = 0.0
        self.term_sum: torch.Tensor | float = 0.0
        self.ratio_sum: torch.Tensor | float = 0.0

    def add(self, base: torch.Tensor, weighted: torch.Tensor) -> None:
        """Record one call's base loss value and weighted late term (0-dim tensors)."""
        base, weighted = base.detach(), weighted.detach()
        counted = base > 0.0
        self.calls += 1
        self.term_sum = self.term_sum + weighted
        self.ratio_calls = self.ratio_calls + counted
        self.ratio_sum = self.ratio_sum + torch.where(counted, weighted / base, torch.zeros_like(weighted))

    def pop(self) -> dict[str, float]:
        """``late_term`` (mean weighted term) and ``late_term_ratio`` since the last pop; resets.

        Returns ``{}`` when no call was recorded; the ratio is NaN when no call had a base > 0.
        """
        stats: dict[str, float] = {}
        if self.calls:
            ratio_calls = float(self.ratio_calls)
            ratio = float(self.ratio_sum) / ratio_calls if ratio_calls else math.nan
            stats = {"late_term": float(self.term_sum) / self.calls, "late_term_ratio": ratio}
        self.reset()
        return stats


def first_active_epoch(activate_at: float, max_epochs: int) -> int:
    """The first epoch ``e`` with ``e / max_epochs >= activate_at`` (``max_epochs``: never).

    The trainer's own comparison, epoch by epoch, so that float rounding (``0.7 * 10`` is
    ``7.000000000000001``) cannot move it by one epoch as ``ceil(activate_at * max_epochs)`` would.
    """
    if max_epochs < 1:
        raise ValueError(f"max_epochs must be a positive integer, got {max_epochs}")
    return next((e for e in range(max_epochs) if e / max_epochs >= activate_at), max_epochs)


class TrainingProgressMixin:
    """A term that switches on late in training (the warping and TopoNet losses).

    The trainer calls :meth:`set_training_progress` with the fraction of training done; the
    term is active when that fraction is >= ``activate_at``. A fresh loss starts at progress 0.
    While active, every call records the base value and the weighted term, so that the trainer
    can report how large the term is next to the base loss (:meth:`pop_term_stats`).
    """

    has_late_term = True
    activate_at: float
    progress: float

    def _init_progress(self, activate_at: float) -> None:
        if not 0.0 <= activate_at <= 1.0:
            raise ValueError(f"activate_at must lie in [0, 1], got {activate_at}")
        self.activate_at = float(activate_at)
        self.progress = 0.0
        self.term_stats = LateTermStats()
        self.last_late_term = 0.0

    def set_training_progress(self, fraction: float) -> None:
        """Tell the loss how far training is (0 = start, 1 = end)."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"training progress must lie in [0, 1], got {fraction}")
        self.progress = float(fraction)

    @property
    def term_active(self) -> bool:
        """Whether the late-training term is currently switched on."""
        return self.progress >= self.activate_at

    def first_active_epoch(self, max_epochs: int) -> int:
        """The first epoch whose progress ``epoch / max_epochs`` switches the term on."""
        return first_active_epoch(self.activate_at, max_epochs)

    def pop_term_stats(self) -> dict[str, float]:
        """Means of ``late_term`` (lambda * term) and ``late_term_ratio`` (lambda * term / base)
        over the calls since the last pop (only calls with the term active count); resets them."""
        return self.term_stats.pop()

    def _without_term(self, base: torch.Tensor) -> torch.Tensor:
        """The base loss alone (term off): nothing to record, the last late term is 0."""
        self.last_late_term = 0.0
        return base

    def _with_term(self, base: torch.Tensor, weighted: torch.Tensor) -> torch.Tensor:
        """``base + weighted``, recording both values (detached floats) for :meth:`pop_term_stats`."""
        self.last_late_term = weighted.detach()
        self.term_stats.add(base, self.last_late_term)
        return base + weighted
