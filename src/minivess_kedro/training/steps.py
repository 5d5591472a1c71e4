"""One training epoch: mixed precision, gradient accumulation, clipping, foreground Dice/F1."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Sized
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from minivess_kedro.metrics.monitoring import ForegroundDiceF1
from minivess_kedro.training.distributed import any_process_fails
from minivess_kedro.training.launch import DistributedContext


@dataclass(frozen=True)
class StepSettings:
    """Per-step behaviour (from the compute profile and the training parameters).

    Attributes:
        autocast_dtype: autocast dtype, ``None`` for float32.
        grad_accumulation: micro-batches per optimiser step.
        grad_clip: maximum gradient norm (``None``: no clipping).
        show_progress: draw a progress bar (off on DDP ranks other than 0).
        distributed: this process's place in a DDP job (a non-finite loss on one process stops all).
    """

    autocast_dtype: torch.dtype | None = None
    grad_accumulation: int = 1
    grad_clip: float | None = 1.0
    show_progress: bool = True
    distributed: DistributedContext = field(default_factory=DistributedContext)


def train_one_epoch(
    model: nn.Module,
    loss_fn: nn.Module,
    batches: Iterable[dict],
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    device: torch.device,
    settings: StepSettings,
    description: str = "train",
) -> dict[str, float]:
    """Trains over ``batches`` once.

    Each batch holds ``image`` (``B x 1 x H x W x D``) and ``label`` (``B x 1 x H x W x D``).
    The loss is evaluated in float32 on the autocast logits (AMP is the usual source of NaNs).
    A ``DistributedDataParallel`` model all-reduces gradients only on the micro-batch that ends an
    accumulation group (and on the epoch's last one).

    Returns:
        ``train_loss`` (mean over batches), ``train_dice``, ``train_f1`` (foreground, pooled over
        the epoch), ``data_wait_fraction`` (share of the epoch spent waiting for batches),
        ``seconds``.

    Raises:
        FloatingPointError: a non-finite loss, with the step named (training cannot recover).
    """
    model.train()
    monitor = ForegroundDiceF1(device=device)
    total, count, waited = 0.0, 0, 0.0
    start = tick = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    last_step = len(batches) if isinstance(batches, Sized) else -1
    progress = tqdm(batches, desc=description, leave=False, disable=None if settings.show_progress else True)
    for step, batch in enumerate(progress, start=1):
        waited += time.perf_counter() - tick
        images = batch["image"].to(device, non_blocking=True)
        labels = batch["label"].to(device, non_blocking=True)
        syncs = step % settings.grad_accumulation == 0 or step == last_step
        with _gradient_sync(model, syncs):
            with torch.autocast(
                device.type, dtype=settings.autocast_dtype, enabled=settings.autocast_dtype is not None
            ):
                logits = model(images)
            loss = loss_fn(logits.float(), labels.long())
            # Decided together: a process that stopped alone would leave the others in the all-reduce.
            finite = bool(torch.isfinite(loss))
            if any_process_fails(not finite, settings.distributed, device):
                where = "" if finite else f" ({loss.item()} on this process)"
                raise FloatingPointError(f"{description}: non-finite loss at step {step}{where}")
            scaler.scale(loss / settings.grad_accumulation).backward()
        if step % settings.grad_accumulation == 0:
            _optimizer_step(model, optimizer, scaler, settings.grad_clip)
        total, count = total + loss.item(), count + 1
        monitor.update(logits.detach(), labels)
        progress.set_postfix(loss=f"{total / count:.4f}")
        tick = time.perf_counter()
    if count % settings.grad_accumulation:
        _optimizer_step(model, optimizer, scaler, settings.grad_clip)  # the epoch's last partial group
    scores = monitor.compute()
    elapsed = time.perf_counter() - start
    return {
        "train_loss": total / max(count, 1),
        "train_dice": float(scores["dice"]),
        "train_f1": float(scores["f1"]),
        "data_wait_fraction": waited / max(elapsed, 1e-9),
        "seconds": elapsed,
    }


def _gradient_sync(model: nn.Module, syncs: bool) -> contextlib.AbstractContextManager:
    """DDP's ``no_sync`` for micro-batches whose gradients are only accumulated locally."""
    if syncs or not isinstance(model, nn.parallel.DistributedDataParallel):
        return contextlib.nullcontext()
    return model.no_sync()


def _optimizer_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler, grad_clip: float | None
) -> None:
    if grad_clip is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
