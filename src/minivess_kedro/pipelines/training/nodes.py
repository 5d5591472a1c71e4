"""Nodes of ``training``: load the fold, train (resuming when possible), record the run."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import pandas as pd
import torch

from minivess_kedro.data.splits import check_fold_is_current, split_design
from minivess_kedro.inference import SlidingWindowConfig
from minivess_kedro.io import NiftiVolume
from minivess_kedro.losses import LOSS_NAMES, build_loss
from minivess_kedro.models import build_dynunet
from minivess_kedro.pipelines.training.live_metrics import log_epoch_metrics
from minivess_kedro.pipelines.training.params import TrainingParams
from minivess_kedro.training import (
    FitConfig,
    LoaderSettings,
    Trainer,
    VolumeItem,
)
from minivess_kedro.training.distributed import (
    DistributedContext,
    check_replicas_agree,
    per_process_loader,
    start_process_group,
    stop_process_group,
)
from minivess_kedro.training.lineage import model_lineage
from minivess_kedro.training.seeding import seed_everything
from minivess_kedro.training.selection import selection_start_epoch

logger = logging.getLogger(__name__)
Loaders = dict[str, Callable[[], NiftiVolume]]


def load_fold_volumes(raw_images: Loaders, raw_labels: Loaders, ids: list[str], split: str) -> list[VolumeItem]:
    """The volumes of one split, loaded from the raw partitions.

    Raises:
        KeyError: ids of the split file that the raw data does not have (named, with the fix).
    """
    missing = sorted(set(ids) - (set(raw_images) & set(raw_labels)))
    if missing:
        raise KeyError(
            f"{split} ids {missing} of the fold are not in the raw data; rerun "
            "`kedro run --pipelines data_ingestion,splitting` with the same --env and --params"
        )
    items = []
    for volume_id in ids:
        image, label = raw_images[volume_id](), raw_labels[volume_id]()
        items.append(VolumeItem(volume_id, image.array, label.array, image.spacing))
    return items


def _defining_settings(params: TrainingParams) -> dict:
    """The training parameters that change the trained model (not where or how fast it runs)."""
    training = params.model_dump(mode="json", exclude={"restart", "checkpoint_dir", "experiment_phase"})
    training["compute"].pop("num_workers")
    training["compute"].pop("device")  # a run may resume on another machine
    return training


def _lineage_settings(loss: str, params: TrainingParams, select_from: int) -> dict:
    """What the model's lineage records of its training: the defining settings with only this
    loss's kwargs and the first epoch it could be selected at (a report compares it across
    losses), without the registry name and GPU request (bookkeeping, not the model)."""
    training = _defining_settings(params)
    training["loss_kwargs"] = params.loss_kwargs.get(loss, {})
    training["selection_start_epoch"] = select_from
    training.pop("registered_model_name")
    training["compute"].pop("gpus")
    return training


def study_selection_start(loss_fn: torch.nn.Module, params: TrainingParams) -> int:
    """The run's first selectable epoch under ``training.selection_start``, with every loss of
    the registry built from ``training.loss_kwargs`` (their late terms' ``activate_at``)."""
    late = params.selection_start == "late_term"  # only that rule reads the other losses' late terms
    study = [build_loss(name, **params.loss_kwargs.get(name, {})) for name in LOSS_NAMES] if late else []
    return selection_start_epoch(params.selection_start, loss_fn, study, params.max_epochs)


def _run_settings(loss: str, params: TrainingParams, fold_split: dict, fingerprint: dict) -> dict:
    """What defines the run: a checkpoint resumes only under the same settings."""
    training = _defining_settings(params)
    return {
        "loss": loss,
        "fold_idx": fold_split["fold_idx"],
        "protocol": fold_split.get("protocol"),
        "train_ids": fold_split["train"],
        "val_ids": fold_split["val"],
        "dataset_fingerprint": fingerprint["fingerprint"],
        "training": training,
    }


def loop_settings(params: TrainingParams) -> tuple[LoaderSettings, SlidingWindowConfig, FitConfig]:
    """The compute profile and training parameters as the loop's settings."""
    compute = params.compute
    loader = LoaderSettings(
        patch_size=compute.patch_size,
        batch_size=compute.batch_size,
        num_workers=compute.num_workers,
        samples_per_volume=params.samples_per_volume,
        cache_rate=params.cache_rate,
    )
    window = SlidingWindowConfig(
        roi_size=compute.patch_size,
        sw_batch_size=params.sliding_window.sw_batch_size,
        overlap=params.sliding_window.overlap,
        mode=params.sliding_window.mode,
    )
    fit = FitConfig(
        max_epochs=params.max_epochs,
        learning_rate=params.learning_rate,
        weight_decay=params.weight_decay,
        warmup_epochs=params.warmup_epochs,
        patience=params.patience,
        grad_clip=params.grad_clip,
        grad_accumulation=compute.grad_accumulation,
        amp=compute.amp,
        val_every=params.val_every,
        val_windows=params.val_windows,
        metrics_every=params.metrics_every,
        seed=params.seed,
        deterministic=params.deterministic,
    )
    return loader, window, fit


def train_model(
    raw_images: Loaders,
    raw_labels: Loaders,
    splits: dict,
    fold_split: dict,
    dataset_fingerprint: dict,
    loss: str,
    seed: int,
    params: dict,
) -> tuple[dict[str, torch.Tensor], pd.DataFrame, dict, dict, dict]:
    """Trains DynUNet on the fold's training volumes, selecting on its validation volumes.

    Resumes from ``<checkpoint_dir>/last.pt`` when a run with the same settings was interrupted,
    and returns at once when that run had finished. Under ``torchrun`` every process runs this
    node and trains a DDP replica (docs/training.md); only rank 0's outputs are saved.
    ``seed`` is the run's repeat index: it trains with ``training.seed + seed``.

    Returns:
        The best model state dict, the per-epoch history, the model config (JSON-ready), a
        summary (best epoch, best validation DSC, stopping reason, resume point) and the model's
        lineage (the ids it was trained and selected on, see ``minivess_kedro.training.lineage``).
    """
    params = TrainingParams.model_validate(params)
    loss_fn = build_loss(loss, **params.loss_kwargs.get(loss, {}))  # an unknown loss or kwarg fails here
    select_from = study_selection_start(loss_fn, params)
    lineage = model_lineage(
        loss,
        fold_split,
        seed,
        dataset_fingerprint["fingerprint"],
        split_design(splits),
        _lineage_settings(loss, params, select_from),
    )
    params = params.model_copy(update={"seed": params.seed + seed})
    check_fold_is_current(splits, fold_split)
    loader, window, fit = loop_settings(params)
    fit = dataclasses.replace(fit, select_from=select_from)
    context, device = start_process_group(params.compute.device)
    if params.compute.gpus >= 1 and device.type == "cpu":
        logger.warning(
            "Profile %r is made for %d GPU(s) but training runs on the CPU (torch sees no GPU: a CPU build "
            "of torch, or CUDA_VISIBLE_DEVICES empty); AMP is off and epochs will be slow. "
            "Use --env cpu, or install a CUDA build of torch.",
            params.compute.profile,
            params.compute.gpus,
        )
    try:
        loader = per_process_loader(loader, context)  # a bad global batch fails before any loading
        volumes = (raw_images, raw_labels, fold_split)
        trained = _train(volumes, dataset_fingerprint, loss, params, context, device, (loss_fn, loader, window, fit))
    except BaseException:
        stop_process_group()
        raise
    stop_process_group(finished=True)
    return (*trained, lineage)


def _train(
    volumes: tuple[Loaders, Loaders, dict],
    dataset_fingerprint: dict,
    loss: str,
    params: TrainingParams,
    context: DistributedContext,
    device: torch.device,
    fit_settings: tuple[torch.nn.Module, LoaderSettings, SlidingWindowConfig, FitConfig],
) -> tuple[dict[str, torch.Tensor], pd.DataFrame, dict, dict]:
    """The body of :func:`train_model`, once this process has its device and loader share."""
    raw_images, raw_labels, fold_split = volumes
    loss_fn, loader, window, fit = fit_settings
    train_items = load_fold_volumes(raw_images, raw_labels, fold_split["train"], "train")
    val_items = load_fold_volumes(raw_images, raw_labels, fold_split["val"], "val")
    seed_everything(params.seed, params.deterministic)
    model_config = params.model.to_config()
    model = build_dynunet(model_config)
    settings = _run_settings(loss, params, fold_split, dataset_fingerprint)
    trainer = Trainer(
        model, loss_fn, fit, device, params.checkpoint_dir, settings, restart=params.restart, distributed=context
    )
    result = trainer.fit(train_items, val_items, loader, window, on_epoch_end=log_epoch_metrics)
    digest = check_replicas_agree(trainer.model, context)
    config_record = {
        **model_config.to_dict(),
        "patch_size": list(params.compute.patch_size),
        "loss": loss,
        "loss_kwargs": params.loss_kwargs.get(loss, {}),
        "intensity_normalisation": "z-score on non-zero voxels",
    }
    summary = {
        "best_epoch": result.best_epoch,
        "best_val_dsc": result.best_val_dsc,
        "epochs": len(result.history),
        "stopped_early": result.stopped_early,
        "late_term_epoch": result.late_term_epoch,  # first epoch with warp's/topo's term on (None: no such term)
        "selection_start_epoch": trainer.select_from,  # the first epoch best.pt could come from
        "training_seed": params.seed,
        "resumed_from_epoch": result.resumed_from_epoch,
        "device": str(device),
        "processes": context.world_size,
        "final_weights_sha256": digest,
    }
    return result.best_model, pd.DataFrame(result.history), config_record, summary
