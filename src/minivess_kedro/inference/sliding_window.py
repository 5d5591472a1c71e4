"""Sliding-window prediction of whole volumes (MONAI ``sliding_window_inference``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from monai.inferers import sliding_window_inference
from torch import nn


@dataclass(frozen=True)
class SlidingWindowConfig:
    """Window settings.

    Attributes:
        roi_size: window size ``H x W x D`` (the training patch).
        sw_batch_size: windows per forward pass.
        overlap: overlap between windows, in [0, 1).
        mode: blending, ``gaussian`` or ``constant``.
        sw_device: where the windows run (``None``: the model's device).
        device: where the whole-volume output is stitched (``cpu`` keeps GPU memory bounded on
            large volumes; ``None``: the input's device).
    """

    roi_size: tuple[int, int, int]
    sw_batch_size: int = 1
    overlap: float = 0.25
    mode: str = "gaussian"
    sw_device: str | None = None
    device: str | None = None


@torch.no_grad()
def predict_logits(model: nn.Module, image: torch.Tensor, config: SlidingWindowConfig) -> torch.Tensor:
    """Predicts a whole volume.

    Args:
        model: the network (switched to eval mode by the caller).
        image: ``B x C x H x W x D`` normalised intensities.
        config: window settings.

    Returns:
        Logits ``B x classes x H x W x D`` in float32, on ``config.device`` (or the input's).
    """
    # MONAI pads sides shorter than the window (MiniVess depths go down to 5) and crops back.
    logits = sliding_window_inference(
        inputs=image,
        roi_size=config.roi_size,
        sw_batch_size=config.sw_batch_size,
        predictor=model,
        overlap=config.overlap,
        mode=config.mode,
        sw_device=config.sw_device,
        device=config.device,
    )
    return logits.float()
