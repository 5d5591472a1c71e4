"""A DDP training process for the tests: two of these run the tiny fold with gloo on the CPU."""

from __future__ import annotations

import faulthandler
import json
import os
from pathlib import Path

import torch

from minivess_kedro.data.synthetic import generate_volume
from minivess_kedro.inference import SlidingWindowConfig
from minivess_kedro.losses import build_loss
from minivess_kedro.models import DynUNetConfig, build_dynunet
from minivess_kedro.training import (
    FitConfig,
    LoaderSettings,
    Trainer,
    VolumeItem,
)
from minivess_kedro.training.distributed import (
    DistributedContext,
    any_process_fails,
    check_replicas_agree,
    parameter_digest,
    per_process_loader,
    start_process_group,
    stop_process_group,
)
from minivess_kedro.training.seeding import seed_everything

PATCH = (16, 16, 8)
CONFIG = FitConfig(max_epochs=3, warmup_epochs=1, metrics_every=2, seed=7)
# Batch norm: its running statistics are buffers that each process updates with its own batches.
MODEL = DynUNetConfig(filters=(4, 8, 16, 32), norm_name="batch")


class SimulatedInterruptError(Exception):
    """Stands for Ctrl-C / a lost node after an epoch's checkpoint is on disk."""


def tiny_fold() -> tuple[list[VolumeItem], list[VolumeItem]]:
    items = []
    for index in range(1, 6):
        volume = generate_volume(index, (24, 24, 8))
        items.append(VolumeItem(f"mv{index:02d}", volume.image, volume.label, volume.spacing))
    return items[:3], items[3:]


def train(rank: int, world_size: int, port: int, folder: str, out: str, stop_after_epoch: int | None = None) -> None:
    """One process of a ``world_size``-process job (``torch.multiprocessing.spawn`` entry point).

    Writes ``<out>/rank<r>.json``: the history, the digest of the final weights and, when
    interrupted, the epoch it stopped after.
    """
    os.environ |= {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
    os.environ |= {"RANK": str(rank), "WORLD_SIZE": str(world_size), "LOCAL_RANK": str(rank)}
    torch.set_num_threads(1)
    faulthandler.enable(all_threads=True)  # a crash in C++ (gloo) still shows where Python was
    context, device = start_process_group("cpu")
    try:
        record = _fit_and_record(context, device, folder, stop_after_epoch)
        Path(out, f"rank{rank}.json").write_text(json.dumps(record))
    except BaseException:
        stop_process_group()
        raise
    stop_process_group(finished=True)  # the trainer and its DDP wrapper are gone by now


def _fit_and_record(context: DistributedContext, device: torch.device, folder: str, stop_after: int | None) -> dict:
    """Trains the tiny fold in this process; what :func:`train` writes as ``rank<r>.json``."""
    train_items, val_items = tiny_fold()
    seed_everything(CONFIG.seed)
    model = build_dynunet(MODEL)
    loader = per_process_loader(LoaderSettings(patch_size=PATCH, batch_size=4, samples_per_volume=2), context)
    trainer = Trainer(model, build_loss("dice_ce"), CONFIG, device, folder, {"loss": "dice_ce"}, distributed=context)

    def interrupt(epoch: int, record: dict) -> None:
        if epoch == stop_after:
            raise SimulatedInterruptError

    record: dict = {"rank": context.rank, "batch_size": loader.batch_size}
    try:
        result = trainer.fit(
            train_items, val_items, loader, SlidingWindowConfig(roi_size=PATCH), on_epoch_end=interrupt
        )
    except SimulatedInterruptError:
        return record | {"interrupted_after": stop_after}
    return record | {
        "history": result.history,
        "resumed_from_epoch": result.resumed_from_epoch,
        "digest": check_replicas_agree(trainer.model, context),
        "best_digest": parameter_digest(_as_module(result.best_model)),
        "rank1_failure_seen": any_process_fails(context.rank == 1, context, device),
    }


def _as_module(state: dict[str, torch.Tensor]) -> torch.nn.Module:
    model = build_dynunet(MODEL)
    model.load_state_dict(state)
    return model
