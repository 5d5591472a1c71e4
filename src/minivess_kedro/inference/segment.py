"""A whole raw volume in, its vessel mask out: the preprocessing of training, then the windows."""

from __future__ import annotations

import numpy as np
import torch
from monai.transforms import NormalizeIntensity
from torch import nn

from minivess_kedro.inference.sliding_window import SlidingWindowConfig, predict_logits

_NORMALISE = NormalizeIntensity(nonzero=True)  # as in training: z-score on non-zero voxels


def normalised_image(image: np.ndarray) -> torch.Tensor:
    """``H x W x D`` raw intensities as the ``1 x 1 x H x W x D`` network input of training."""
    return torch.as_tensor(_NORMALISE(torch.as_tensor(np.asarray(image, dtype=np.float32))))[None, None]


def segment_volume(
    model: nn.Module, image: np.ndarray, window: SlidingWindowConfig, device: torch.device | str = "cpu"
) -> tuple[np.ndarray, np.ndarray]:
    """Segments one raw volume.

    Args:
        model: the trained network, or an ensemble whose ``outputs_probabilities`` is true (its
            blended output is already the probability); put in eval mode here.
        image: ``H x W x D`` raw intensities.
        window: sliding-window settings (window = training patch).
        device: where the windows run; the whole-volume output is stitched on ``window.device``.

    Returns:
        ``(mask, probability)``: the argmax vessel mask ``H x W x D`` (uint8) and the vessel
        probability ``H x W x D`` (float32).
    """
    model.eval()
    output = predict_logits(model, normalised_image(image).to(device), window)
    probabilities = output if getattr(model, "outputs_probabilities", False) else torch.softmax(output, dim=1)
    probability = probabilities[0, 1].cpu().numpy().astype(np.float32)
    mask = output.argmax(dim=1)[0].cpu().numpy().astype(np.uint8)  # the argmax of logits is that of softmax
    return mask, probability
