"""Validation on whole volumes: sliding-window logits, loss, DSC; clDice and MASD on request."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from minivess_kedro.inference import SlidingWindowConfig, predict_logits
from minivess_kedro.metrics import compute_cldice, compute_dsc, compute_masd, volume_diagonal


def score_volumes(
    model: nn.Module,
    loss_fn: nn.Module,
    volumes: Sequence[dict],
    spacings: Sequence[Sequence[float]],
    window: SlidingWindowConfig,
    device: torch.device,
    topology_metrics: bool = False,
    autocast_dtype: torch.dtype | None = None,
) -> list[dict[str, float]]:
    """Predicts every validation volume whole and scores it.

    Args:
        model: the network.
        loss_fn: the training loss (evaluated in float32 on the whole volume).
        volumes: preprocessed items with ``image`` and ``label`` of shape ``1 x H x W x D``.
        spacings: voxel size of each volume (micrometres), for MASD.
        window: sliding-window settings.
        device: where the windows run.
        topology_metrics: also compute clDice and MASD (CPU, slower: every N epochs).
        autocast_dtype: autocast dtype of the forward passes (``None``: float32).

    Returns:
        One record per volume: ``val_loss`` and ``val_dsc`` (DSC of the vessel class), and with
        ``topology_metrics`` ``val_cldice`` and ``val_masd_um`` (an empty prediction counts as
        the volume's diagonal, the worst possible distance). DDP processes each score a share of
        the volumes and pool the records before :func:`summarize_scores`.
    """
    model.eval()
    records = []
    for item, spacing in zip(volumes, spacings, strict=True):
        image = torch.as_tensor(item["image"])[None].to(device)
        label = torch.as_tensor(item["label"])[None].long().to(device)
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            logits = predict_logits(model, image, window)
        with torch.no_grad():
            record = {"val_loss": float(loss_fn(logits.float().to(device), label))}
        pred = logits.argmax(dim=1)[0].cpu().numpy().astype(bool)
        ref = label[0, 0].cpu().numpy().astype(bool)
        record["val_dsc"] = compute_dsc(pred, ref)
        if topology_metrics:
            record["val_cldice"] = compute_cldice(pred, ref)
            masd = compute_masd(pred, ref, spacing)
            record["val_masd_um"] = volume_diagonal(ref.shape, spacing) if math.isnan(masd) else masd
        records.append(record)
    return records


def summarize_scores(records: Sequence[dict[str, float]]) -> dict[str, float]:
    """The mean of every score over the volumes."""
    return {key: float(np.mean([record[key] for record in records])) for key in records[0]}
