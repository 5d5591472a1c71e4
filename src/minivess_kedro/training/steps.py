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
        check_every: steps between two reads of the loss on the host (finiteness, progress bar);
            the epoch's end is always checked. Between reads the GPU runs ahead of the CPU.
    """

    autocast_dtype: torch.dtype | None = None
    grad_accumulation: int = 1
    grad_clip: float | None = 1.0
    show_progress: bool = True
    distributed: DistributedContext = field(default_factory=DistributedContext)
    check_every: int = 50


class _LossWatch:
    """The epoch's loss sum and its first non-finite step, kept on the device between host reads.

    The sum is float64, as the Python float it replaces: the epoch's mean loss is bit for bit the
    one a per-step ``loss.item()`` gave.
    """

    def __init__(self, device: torch.device) -> None:
        self.total = torch.zeros((), dtype=torch.float64, device=device)
        self.bad_step = torch.full((), -1, dtype=torch.long, device=device)
        self.bad_value = torch.zeros((), dtype=torch.float64, device=device)

    def add(self, loss: torch.Tensor, step: int) -> None:
        value = loss.detach().double()
        first_bad = (self.bad_step < 0) & ~torch.isfinite(value)
        self.bad_step = torch.where(first_bad, step, self.bad_step)
        self.bad_value = torch.where(first_bad, value, self.bad_value)
        self.total += value

    def check(self, settings: StepSettings, device: torch.device, description: str) -> None:
        """Raises on a non-finite loss of any process since the epoch began (one host read)."""
        bad_step = int(self.bad_step)
        if any_process_fails(bad_step >= 0, settings.distributed, device):
            where = f" at step {bad_step} ({float(self.bad_value)} on this process)" if bad_step >= 0 else ""
            raise FloatingPointError(f"{description}: non-finite loss{where}; stopped before saving the epoch")


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

    The loss is read on the host only every ``settings.check_every`` steps and at the epoch's end,
    so the GPU is never stalled waiting for the CPU to look at a number.

    Raises:
        FloatingPointError: a non-finite loss, with the first such step named (training cannot
            recover), raised at the next check and before the epoch's checkpoint is written.
    """
    model.train()
    monitor = ForegroundDiceF1(device=device)
    watch, count, waited = _LossWatch(device), 0, 0.0
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
            watch.add(loss, step)
            scaler.scale(loss / settings.grad_accumulation).backward()
        if step % settings.grad_accumulation == 0:
            _optimizer_step(model, optimizer, scaler, settings.grad_clip)
        count += 1
        monitor.update(logits.detach(), labels)
        if step % settings.check_every == 0:  # the same steps on every process: the check is collective
            watch.check(settings, device, description)
            progress.set_postfix(loss=f"{float(watch.total) / count:.4f}")
        tick = time.perf_counter()
    if count % settings.grad_accumulation:
        _optimizer_step(model, optimizer, scaler, settings.grad_clip)  # the epoch's last partial group
    watch.check(settings, device, description)
    scores = monitor.compute()
    elapsed = time.perf_counter() - start
    return {
        "train_loss": float(watch.total) / max(count, 1),
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
