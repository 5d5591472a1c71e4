"""TopoSculpt (Zhang et al. 2025, arXiv 2509.03938): per-volume test-time refinement of the
network towards a Betti-number prior, written from ../shared/specs/losses.md.

A copy of the trained network is fine-tuned on one volume to reduce
``lambda_A A + lambda_Z Z + lambda_cl clDice(p, p0) + lambda_mse MSE(p, p0)``, where ``p0`` is the
frozen initial prediction and, on ``f = 1 - p`` inside the bounding box of ``p0 >= 0.5``,
``A`` sums ``1 - persistence`` over the ``b0 - 1`` longest finite 0-dimensional bars (the
components the prior keeps) and ``Z`` the persistence of every other bar (spurious components).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from minivess_kedro.inference import SlidingWindowConfig, predict_logits
from minivess_kedro.topology.persistence import persistence_pairs_0d
from minivess_kedro.topology.soft_skeleton import soft_skeleton


@dataclass(frozen=True)
class TopoSculptSettings:
    """Budget and weights (defaults of the spec).

    Attributes:
        betti_prior: expected number of vessel components (b0) in the volume.
        num_its: optimisation steps.
        learning_rate: Adam learning rate.
        lambda_a, lambda_z, lambda_cl, lambda_mse: term weights.
        switch_step: at this step ``lambda_z`` is multiplied by 1e4 and ``lambda_cl``,
            ``lambda_mse`` by 0.1.
        early_every, late_every: bars recomputed every N steps before / after ``switch_step``.
        skeleton_iter: soft-skeleton iterations of the clDice term.
        max_box_voxels: largest bounding box fine-tuned in one piece (every step is a forward and
            backward pass over it); a larger one is refused before any step.
    """

    betti_prior: int = 1
    num_its: int = 100
    learning_rate: float = 1e-3
    lambda_a: float = 1.0
    lambda_z: float = 1.0
    lambda_cl: float = 1000.0
    lambda_mse: float = 1000.0
    switch_step: int = 50
    early_every: int = 2
    late_every: int = 5
    skeleton_iter: int = 3
    max_box_voxels: int = 4_000_000


def _box(mask: np.ndarray, multiple: int, shape: Sequence[int]) -> tuple[slice, ...] | None:
    """Bounding box of ``mask``, grown to sides that are multiples of ``multiple`` (the network's
    stride product) where the volume allows."""
    coords = np.argwhere(mask)
    if coords.size == 0:
        return None
    box = []
    for low, high, size in zip(coords.min(0), coords.max(0) + 1, shape, strict=True):
        side = min(size, math.ceil((high - low) / multiple) * multiple)
        start = int(min(max(0, (low + high - side) // 2), size - side))
        box.append(slice(start, start + side))
    return tuple(box)


def _pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[slice, ...]]:
    pads = [(-s) % multiple for s in x.shape[2:]]
    flat = [p for pad in reversed(pads) for p in (0, pad)]
    return torch.nn.functional.pad(x, flat), tuple(slice(0, s) for s in x.shape[2:])


def _bars(f: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Birth/death voxels of the kept (longest) and the other finite bars of ``f``."""
    births, deaths = persistence_pairs_0d(f)
    persistence = f[tuple(deaths.T)] - f[tuple(births.T)]
    order = np.argsort(-persistence, kind="stable")
    kept, other = order[:keep], order[keep:]
    return births[kept], deaths[kept], births[other], deaths[other]


def _soft_cldice(p: torch.Tensor, p0: torch.Tensor, iterations: int) -> torch.Tensor:
    skeleton_p, skeleton_0 = soft_skeleton(p, iterations), soft_skeleton(p0, iterations)
    precision = ((skeleton_p * p0).sum() + 1.0) / (skeleton_p.sum() + 1.0)
    sensitivity = ((skeleton_0 * p).sum() + 1.0) / (skeleton_0.sum() + 1.0)
    return 1.0 - 2.0 * precision * sensitivity / (precision + sensitivity)


def toposculpt(
    model: nn.Module,
    image: torch.Tensor,
    window: SlidingWindowConfig,
    settings: TopoSculptSettings,
    stride_product: int = 8,
) -> np.ndarray:
    """Refines the prediction of one volume.

    Args:
        model: the trained network (left unchanged: a copy is fine-tuned).
        image: ``1 x 1 x H x W x D`` normalised image on the model's device.
        window: sliding-window settings for the initial and final whole-volume predictions.
        settings: budget and weights.
        stride_product: the network's total down-sampling (crops are multiples of it).

    Returns:
        The refined ``H x W x D`` uint8 mask; the initial prediction unchanged when it is empty
        (no bounding box, nothing to sculpt).
    """
    model.eval()
    with torch.no_grad():
        p0_full = torch.softmax(predict_logits(model, image, window), dim=1)[:, 1:2].to(image.device)
    box = _box(p0_full[0, 0].cpu().numpy() >= 0.5, stride_product, image.shape[2:])
    if box is None:
        return (p0_full[0, 0] >= 0.5).cpu().numpy().astype(np.uint8)
    voxels = math.prod(s.stop - s.start for s in box)
    if voxels > settings.max_box_voxels:
        raise ValueError(
            f"toposculpt: the prediction's bounding box has {voxels} voxels, above max_box_voxels="
            f"{settings.max_box_voxels} (each of the num_its steps is a forward and backward pass over it); "
            "raise evaluation.toposculpt.max_box_voxels on a large GPU or leave toposculpt out"
        )
    tuned = copy.deepcopy(model)
    tuned.train()
    optimizer = torch.optim.Adam(tuned.parameters(), lr=settings.learning_rate)
    crop, valid = _pad_to_multiple(image[(slice(None), slice(None), *box)], stride_product)
    p0 = p0_full[(slice(None), slice(None), *box)]
    weights = {"a": settings.lambda_a, "z": settings.lambda_z, "cl": settings.lambda_cl, "mse": settings.lambda_mse}
    bars = None
    for step in range(settings.num_its):
        if step == settings.switch_step:
            weights["z"] *= 1e4
            weights["cl"] *= 0.1
            weights["mse"] *= 0.1
        p = torch.softmax(tuned(crop).float(), dim=1)[(slice(None), slice(1, 2), *valid)]
        f = 1.0 - p[0, 0]
        every = settings.early_every if step < settings.switch_step else settings.late_every
        if bars is None or step % every == 0:
            bars = _bars(f.detach().cpu().numpy(), max(settings.betti_prior - 1, 0))
        kept_b, kept_d, other_b, other_d = (torch.as_tensor(a, device=f.device) for a in bars)
        a_term = (1.0 - (f[tuple(kept_d.T)] - f[tuple(kept_b.T)])).sum() if len(kept_b) else f.new_zeros(())
        z_term = (f[tuple(other_d.T)] - f[tuple(other_b.T)]).sum() if len(other_b) else f.new_zeros(())
        loss = (
            weights["a"] * a_term
            + weights["z"] * z_term
            + weights["cl"] * _soft_cldice(p, p0, settings.skeleton_iter)
            + weights["mse"] * torch.mean((p - p0) ** 2)
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    tuned.eval()
    with torch.no_grad():
        logits = predict_logits(tuned, image, window)
    return logits.argmax(dim=1)[0].cpu().numpy().astype(np.uint8)
