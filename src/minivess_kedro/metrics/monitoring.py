"""Training-time monitoring: foreground Dice and F1 from TorchMetrics, on the device.

Only the vessel class counts (``include_background=False``): a macro average with the
background would be dominated by the ~95 % background voxels and look good for any model.
These are cheap, per-step numbers for curves; the reported numbers come from ``evaluate_pair``.
"""

from __future__ import annotations

import warnings
from typing import Literal

import torch
from torchmetrics.classification import BinaryF1Score
from torchmetrics.functional.classification import binary_f1_score
from torchmetrics.functional.segmentation import dice_score
from torchmetrics.segmentation import DiceScore

AggregationLevel = Literal["global", "samplewise"]


def logits_to_labels(logits: torch.Tensor) -> torch.Tensor:
    """Hard labels from network logits.

    Args:
        logits: ``B x C x H x W x D`` with C = 2 (argmax over channels) or C = 1 (logit > 0).

    Returns:
        Integer labels ``B x H x W x D`` in {0, 1}.

    Raises:
        ValueError: if the tensor has fewer than 3 dimensions or C is not 1 or 2.
    """
    if logits.ndim < 3:
        raise ValueError(f"logits must be B x C x spatial, got shape {tuple(logits.shape)}.")
    channels = logits.shape[1]
    if channels == 2:
        return logits.argmax(dim=1)
    if channels == 1:
        return (logits[:, 0] > 0).long()
    raise ValueError(f"logits must have 1 or 2 channels (background, vessel), got {channels}.")


def target_to_labels(target: torch.Tensor, spatial_shape: torch.Size) -> torch.Tensor:
    """``B x 1 x H x W x D`` (or ``B x H x W x D``) integer targets as ``B x H x W x D`` long.

    Raises:
        ValueError: if the target does not match the spatial shape of the logits.
    """
    labels = target[:, 0] if target.ndim == len(spatial_shape) + 1 else target
    if labels.shape != spatial_shape:
        raise ValueError(
            f"target shape {tuple(target.shape)} does not match the logits' "
            f"B x spatial shape {tuple(spatial_shape)} (expected B x 1 x spatial)."
        )
    return labels.long()


def _dice_metric(aggregation_level: AggregationLevel) -> DiceScore:
    with warnings.catch_warnings():
        # TorchMetrics warns about its default average even when it is set explicitly.
        warnings.filterwarnings("ignore", message=".*defaults to `average=micro`.*")
        return DiceScore(
            num_classes=2,
            include_background=False,
            average="micro",
            aggregation_level=aggregation_level,
            input_format="index",
        )


def foreground_dice(
    logits: torch.Tensor, target: torch.Tensor, aggregation_level: AggregationLevel = "global"
) -> torch.Tensor:
    """Foreground Dice of one batch (TorchMetrics ``dice_score``, background excluded).

    Args:
        logits: ``B x C x H x W x D`` network output (C = 2 or 1).
        target: ``B x 1 x H x W x D`` integer labels in {0, 1}.
        aggregation_level: ``"global"`` pools all voxels of the batch; ``"samplewise"``
            averages per-sample Dice (samples with no vessel in either are skipped).

    Returns:
        Scalar tensor on the input's device.
    """
    preds = logits_to_labels(logits)
    labels = target_to_labels(target, preds.shape)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*defaults to `average=micro`.*")
        score = dice_score(
            preds,
            labels,
            num_classes=2,
            include_background=False,
            average="micro",
            input_format="index",
            aggregation_level=aggregation_level,
        )
    return score.nanmean() if score.ndim else score


def foreground_f1(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Foreground (vessel) F1 of one batch over all voxels (TorchMetrics ``binary_f1_score``).

    Args:
        logits: ``B x C x H x W x D`` network output (C = 2 or 1).
        target: ``B x 1 x H x W x D`` integer labels in {0, 1}.
    """
    preds = logits_to_labels(logits)
    return binary_f1_score(preds, target_to_labels(target, preds.shape))


class ForegroundDiceF1:
    """Running foreground Dice and F1 over an epoch, kept on the device.

    Args:
        device: where the metric states live (the training device).
        dice_aggregation: ``"global"`` (all voxels of the epoch pooled, then equal to F1) or
            ``"samplewise"`` (mean of per-sample Dice).

    Example:
        >>> monitor = ForegroundDiceF1(device="cpu")
        >>> monitor.update(logits, labels)  # every step
        >>> monitor.compute()  # {"dice": ..., "f1": ...} at the end of the epoch
        >>> monitor.reset()
    """

    def __init__(
        self,
        device: torch.device | str | None = None,
        dice_aggregation: AggregationLevel = "global",
    ) -> None:
        if dice_aggregation not in ("global", "samplewise"):
            raise ValueError(f"dice_aggregation must be 'global' or 'samplewise', got {dice_aggregation!r}.")
        self.dice = _dice_metric(dice_aggregation)
        self.f1 = BinaryF1Score(validate_args=False)  # its value checks (torch.unique) wait for the GPU every step
        if device is not None:
            self.to(device)

    def to(self, device: torch.device | str) -> ForegroundDiceF1:
        """Move the metric states to ``device``; returns ``self``."""
        self.dice = self.dice.to(device)
        self.f1 = self.f1.to(device)
        return self

    @torch.no_grad()
    def update(self, logits: torch.Tensor, target: torch.Tensor) -> None:
        """Accumulate one batch (``B x C x H x W x D`` logits, ``B x 1 x H x W x D`` labels)."""
        preds = logits_to_labels(logits)
        labels = target_to_labels(target, preds.shape)
        self.dice.update(preds, labels)
        self.f1.update(preds, labels)

    def compute(self) -> dict[str, float]:
        """Foreground Dice and F1 of everything since the last reset."""
        return {"dice": float(self.dice.compute()), "f1": float(self.f1.compute())}

    def reset(self) -> None:
        """Start a new epoch."""
        self.dice.reset()
        self.f1.reset()
