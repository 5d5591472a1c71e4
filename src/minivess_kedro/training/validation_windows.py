"""The per-epoch validation signal on a fixed, seeded sample of windows of each validation volume.

At MiniVess size (512 x 512 x ~100) one whole-volume sliding-window pass over a fold's validation
volumes costs tens of training epochs on a CPU and several on a GPU (``bench/real_size.py``). The
loop therefore scores, every epoch, the same windows of each validation volume: tiles of the
volume's non-overlapping window grid drawn once, uniformly without replacement, from the run's seed
(nnU-Net's pseudo-Dice idea, on tiles rather than foreground-centred crops). Pooling the voxel
counts of uniformly drawn tiles estimates the volume's own counts without bias, so the pooled DSC
follows the whole-volume DSC that the selection used to read; with as many windows as tiles it is
the whole volume (no blending). The evaluation pipeline still scores the chosen checkpoint on the
whole validation and test volumes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from monai.data.utils import dense_patch_slices
from torch import nn

from minivess_kedro.metrics.centreline import cldice_from_skeletons, skeleton
from minivess_kedro.metrics.overlap import dsc_of_masks

Window = tuple[slice, slice, slice]


def padded_shape(shape: Sequence[int], roi_size: Sequence[int]) -> tuple[int, int, int]:
    """The volume's shape once padded (at the end) to at least one window per axis."""
    return tuple(max(int(n), int(r)) for n, r in zip(shape, roi_size, strict=True))


def window_grid(shape: Sequence[int], roi_size: Sequence[int]) -> list[Window]:
    """Non-overlapping windows covering a volume of ``shape`` (padded to the window first).

    The last window of an axis ends at the border, overlapping its neighbour when the size is not
    a multiple of the window, as MONAI's sliding window places it at overlap 0.
    """
    return [tuple(s) for s in dense_patch_slices(padded_shape(shape, roi_size), roi_size, roi_size)]


def choose_windows(
    shape: Sequence[int], roi_size: Sequence[int], count: int | None, seed: int | Sequence[int]
) -> list[Window]:
    """``count`` windows of the grid drawn uniformly without replacement (all of them when
    ``count`` is ``None`` or at least the grid's size), in grid order.

    Args:
        shape: the volume's ``H x W x D``.
        roi_size: the window.
        count: windows to keep.
        seed: seed of the draw (the same seed gives the same windows on every machine and resume).
    """
    grid = window_grid(shape, roi_size)
    if count is None or count >= len(grid):
        return grid
    chosen = np.random.default_rng(seed).choice(len(grid), size=count, replace=False)
    return [grid[i] for i in sorted(chosen.tolist())]


def windows_per_volume(setting: int | str, train_patches: int, val_volumes: int) -> int | None:
    """The windows each validation volume contributes per epoch.

    Args:
        setting: a count, ``"auto"`` (as many windows in all as half the epoch's training patches:
            a window's forward pass costs about a third of a training step's forward and backward,
            so validation costs about a sixth of the epoch) or ``"whole"`` (``None``: every tile).
        train_patches: training patches per epoch (volumes x ``samples_per_volume``).
        val_volumes: validation volumes of the fold.
    """
    if setting == "whole":
        return None
    if setting == "auto":
        return max(1, round(train_patches / (2 * max(val_volumes, 1))))
    return int(setting)


def _pad_to(tensor: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """``C x H x W x D`` zero-padded at the end of each spatial axis to ``shape``."""
    pad = []
    for have, want in reversed(list(zip(tensor.shape[1:], shape, strict=True))):
        pad += [0, want - have]
    return torch.nn.functional.pad(tensor, pad) if any(pad) else tensor


def _inside(window: Window, shape: Sequence[int]) -> Window:
    """The part of a window (in window coordinates) that lies in the unpadded volume."""
    return tuple(slice(0, max(0, min(s.stop, n) - s.start)) for s, n in zip(window, shape, strict=True))


def score_windows(
    model: nn.Module,
    loss_fn: nn.Module,
    volumes: Sequence[dict],
    windows: Sequence[Sequence[Window]],
    roi_size: Sequence[int],
    sw_batch_size: int,
    device: torch.device,
    topology_metrics: bool = False,
    autocast_dtype: torch.dtype | None = None,
) -> list[dict[str, float]]:
    """Scores the chosen windows of every validation volume.

    Args:
        model: the network.
        loss_fn: the training loss, averaged over the windows (float32).
        volumes: preprocessed items with ``image`` and ``label`` of shape ``1 x H x W x D``.
        windows: the windows of each volume (:func:`choose_windows`).
        roi_size: the window size (padding target of short volumes).
        sw_batch_size: windows per forward pass.
        device: where the windows run.
        topology_metrics: also compute clDice from the windows' skeletons, pooled per volume.
        autocast_dtype: autocast dtype of the forward passes (``None``: float32).

    Returns:
        One record per volume: ``val_loss``, ``val_dsc`` (voxel counts pooled over its windows,
        padding excluded) and with ``topology_metrics`` ``val_cldice``.
    """
    model.eval()
    records = []
    for item, chosen in zip(volumes, windows, strict=True):
        shape = tuple(item["image"].shape[1:])
        image = _pad_to(torch.as_tensor(item["image"]), padded_shape(shape, roi_size))
        label = _pad_to(torch.as_tensor(item["label"]), padded_shape(shape, roi_size))
        loss_sum, preds, refs = 0.0, [], []
        for start in range(0, len(chosen), sw_batch_size):
            batch = chosen[start : start + sw_batch_size]
            images = torch.stack([image[(slice(None), *w)] for w in batch]).to(device)
            labels = torch.stack([label[(slice(None), *w)] for w in batch]).long().to(device)
            with torch.no_grad():
                with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
                    logits = model(images)
                loss_sum += float(loss_fn(logits.float(), labels)) * len(batch)
            masks = logits.argmax(dim=1).cpu().numpy().astype(bool)
            for mask, ref, window in zip(masks, labels[:, 0].cpu().numpy().astype(bool), batch, strict=True):
                inside = _inside(window, shape)
                preds.append(mask[inside])
                refs.append(ref[inside])
        pred = np.concatenate([p.ravel() for p in preds])
        ref = np.concatenate([r.ravel() for r in refs])
        record = {"val_loss": loss_sum / len(chosen), "val_dsc": dsc_of_masks(pred, ref)}
        if topology_metrics:
            skel_pred = np.concatenate([skeleton(p).ravel() for p in preds])
            skel_ref = np.concatenate([skeleton(r).ravel() for r in refs])
            record["val_cldice"] = cldice_from_skeletons(pred, ref, skel_pred, skel_ref)
        records.append(record)
    return records
