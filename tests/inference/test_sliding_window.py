"""Whole-volume prediction: volumes thinner than the window keep their shape and values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from minivess_kedro.inference import SlidingWindowConfig, predict_logits, segment_volume


class _Copy(torch.nn.Module):
    """Logits (-x, x): the 'vessel' channel wins where the input is positive."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([-x, x], dim=1)


@pytest.mark.parametrize("shape", [(20, 20, 5), (16, 16, 8), (40, 24, 12)])
def test_output_has_the_input_geometry_and_values(shape) -> None:
    image = torch.randn(1, 1, *shape)
    logits = predict_logits(_Copy(), image, SlidingWindowConfig(roi_size=(16, 16, 8), overlap=0.25))
    assert logits.shape == (1, 2, *shape) and logits.dtype == torch.float32
    torch.testing.assert_close(logits[:, 1:], image, atol=1e-5, rtol=1e-5)  # Gaussian blending of equal windows


def test_segment_volume_normalises_like_training() -> None:
    image = np.zeros((20, 20, 5), dtype=np.uint16)
    image[5:10, 5:10, :] = 900
    image[image == 0] = 100
    mask, probability = segment_volume(_Copy(), image, SlidingWindowConfig(roi_size=(16, 16, 8)))
    assert mask.dtype == np.uint8 and mask.shape == image.shape
    assert mask[5:10, 5:10].all() and not mask[:5].any()  # z-scored: bright lumen above the mean
    assert probability.shape == image.shape and probability.min() >= 0 and probability.max() <= 1
