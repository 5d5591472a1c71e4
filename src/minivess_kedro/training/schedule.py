"""Learning-rate schedule: linear warm-up, then cosine annealing (torch's own schedulers)."""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, LRScheduler, SequentialLR


def warmup_cosine(optimizer: torch.optim.Optimizer, warmup_epochs: int, max_epochs: int) -> LRScheduler:
    """Per-epoch schedule: the rate grows linearly to its base value over ``warmup_epochs``, then
    follows a cosine to 0 at ``max_epochs``.

    Raises:
        ValueError: ``warmup_epochs`` outside ``[0, max_epochs)``.
    """
    if not 0 <= warmup_epochs < max_epochs:
        raise ValueError(f"warmup_epochs={warmup_epochs} must be in [0, max_epochs={max_epochs})")
    cosine = CosineAnnealingLR(optimizer, T_max=max_epochs - warmup_epochs)
    if warmup_epochs == 0:
        return cosine
    warmup = LinearLR(optimizer, start_factor=1.0 / (warmup_epochs + 1), end_factor=1.0, total_iters=warmup_epochs)
    return SequentialLR(optimizer, schedulers=[warmup, cosine], milestones=[warmup_epochs])
