"""Helpers for the loss tests: small tube volumes, noisy logits, value-and-gradient."""

from __future__ import annotations

import numpy as np
import torch


def tube_labels(shape: tuple[int, ...], batch: int = 2, seed: int = 0) -> torch.Tensor:
    """``B x 1 x H x W x D`` int64 label map with one straight 3-voxel-thick tube per sample.

    Each tube runs along the first spatial axis at a random in-plane position; on axes too
    small for a 3-voxel cross-section it takes what fits.
    """
    rng = np.random.default_rng(seed)
    labels = np.zeros((batch, 1, *shape), dtype=np.int64)
    for b in range(batch):
        w0 = int(rng.integers(0, max(shape[1] - 3, 0) + 1))
        d0 = int(rng.integers(0, max(shape[2] - 3, 0) + 1))
        labels[b, 0, :, w0 : w0 + 3, d0 : d0 + 3] = 1
    return torch.from_numpy(labels)


def noisy_logits(labels: torch.Tensor, signal: float = 1.5, seed: int = 0) -> torch.Tensor:
    """``B x 2 x H x W x D`` float32 logits: the labels plus Gaussian noise (an imperfect model)."""
    gen = torch.Generator().manual_seed(seed)
    sign = labels.float() * 2.0 - 1.0
    noise = torch.randn((labels.shape[0], 2, *labels.shape[2:]), generator=gen)
    return torch.cat([-signal * sign, signal * sign], dim=1) + noise


def value_and_grad(loss: torch.nn.Module, logits: torch.Tensor, target: torch.Tensor):
    """The loss value and its gradient with respect to the logits."""
    logits = logits.detach().clone().requires_grad_(True)
    value = loss(logits, target)
    value.backward()
    return value.detach(), logits.grad
