"""What the training loop needs to know, as plain data (no Kedro, no MLflow)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FitConfig:
    """Optimisation and schedule of one training run.

    Attributes:
        max_epochs: upper bound on epochs.
        learning_rate: AdamW base rate.
        weight_decay: AdamW weight decay.
        warmup_epochs: linear warm-up epochs before the cosine.
        patience: stop after this many epochs without a better validation DSC.
        grad_clip: maximum gradient norm (``None``: no clipping).
        grad_accumulation: micro-batches per optimiser step.
        amp: mixed precision on CUDA (bf16 where supported, else fp16).
        val_every: validate every N epochs (and at the last).
        val_windows: what each validation scores of every validation volume: a count of seeded
            windows (the same every epoch), ``"auto"`` (half the epoch's training patches, shared
            over the validation volumes) or ``"whole"`` (whole-volume sliding window, the slowest;
            see :mod:`minivess_kedro.training.validation_windows`).
        metrics_every: also compute clDice (and, on whole volumes, MASD) every N epochs.
        seed: seed of initialisation, shuffling and augmentation.
        deterministic: ask torch for deterministic kernels.
        select_from: the first epoch whose checkpoint may be selected (and from which patience
            counts), the same for every loss of a study (see
            :mod:`minivess_kedro.training.selection`); a loss with a late term never selects
            before its term is on.
    """

    max_epochs: int = 100
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    warmup_epochs: int = 5
    patience: int = 15
    grad_clip: float | None = 1.0
    grad_accumulation: int = 1
    amp: bool = False
    val_every: int = 1
    val_windows: int | str = "auto"
    metrics_every: int = 5
    seed: int = 42
    deterministic: bool = True
    select_from: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.select_from < self.max_epochs:  # else no epoch could ever be selected
            raise ValueError(f"select_from={self.select_from} must lie in [0, max_epochs={self.max_epochs})")
