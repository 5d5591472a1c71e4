"""The training loop: epochs, validation, early stopping, checkpoints, resume."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from minivess_kedro.inference import SlidingWindowConfig
from minivess_kedro.training.checkpoint import load_checkpoint, resumable_checkpoint, save_checkpoint
from minivess_kedro.training.config import FitConfig
from minivess_kedro.training.data import (
    LoaderSettings,
    PatchLoader,
    VolumeItem,
    build_training_dataset,
    build_validation_dataset,
)
from minivess_kedro.training.device import autocast_dtype, load_scaler_state
from minivess_kedro.training.distributed import (
    DistributedContext,
    broadcast_from_main,
    gather_lists,
    mean_across,
    sync_buffers,
    wrap_model,
)
from minivess_kedro.training.schedule import warmup_cosine
from minivess_kedro.training.seeding import capture_rng_state, restore_rng_state, seed_everything
from minivess_kedro.training.selection import late_term_epoch, selection_start_epoch
from minivess_kedro.training.steps import StepSettings, train_one_epoch
from minivess_kedro.training.validation import score_volumes, summarize_scores
from minivess_kedro.training.validation_windows import Window, choose_windows, score_windows, windows_per_volume

logger = logging.getLogger(__name__)
EpochCallback = Callable[[int, dict[str, float]], None]


@dataclass
class FitResult:
    """What a training run produced.

    Attributes:
        history: one record per epoch (``epoch``, ``lr``, train and validation metrics).
        best_epoch: epoch of the best validation DSC (-1 if never validated).
        best_val_dsc: that DSC.
        best_model: the model state dict of the best epoch (CPU tensors).
        stopped_early: patience ran out before ``max_epochs``.
        resumed_from_epoch: first epoch of this session when resumed, else ``None``.
        already_complete: nothing to do: the run had finished before.
        late_term_epoch: first epoch with the loss's late topological term on (``warp``,
            ``topo``); the best epoch is chosen among epochs from there on. ``None`` for a
            loss without a late term.
    """

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_val_dsc: float = float("-inf")
    best_model: dict[str, torch.Tensor] = field(default_factory=dict)
    stopped_early: bool = False
    resumed_from_epoch: int | None = None
    already_complete: bool = False
    late_term_epoch: int | None = None


@dataclass
class _State:
    epoch: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_val_dsc: float = float("-inf")
    completed: bool = False
    stopped_early: bool = False


class Trainer:
    """Trains one model on one fold with one loss.

    Args:
        model: the network (moved to ``device``).
        loss_fn: called as ``loss_fn(logits, labels)``; told its progress through
            ``set_training_progress(fraction)`` when it has that method. A loss with a late term
            (``has_late_term``: warp, topo) is selected only among epochs with the term on, and
            reports the term's size (``pop_term_stats``) into the history.
        config: optimisation settings.
        device: where to train.
        checkpoint_dir: ``last.pt`` (every epoch) and ``best.pt`` (best validation DSC) go here.
        settings: everything that defines the run; a resumed checkpoint must carry the same.
        restart: ignore (archive) an existing checkpoint folder instead of resuming it.
        distributed: this process's place in a DDP job (default: the only process). Rank 0 alone
            reads and writes checkpoints and hands the resume point to the others; every process
            trains on its share of each epoch and scores a share of the validation volumes.
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: nn.Module,
        config: FitConfig,
        device: torch.device,
        checkpoint_dir: str | Path,
        settings: dict,
        restart: bool = False,
        distributed: DistributedContext | None = None,
    ) -> None:
        self.model, self.loss_fn, self.config, self.device = model.to(device), loss_fn.to(device), config, device
        self.checkpoint_dir, self.settings, self.restart = Path(checkpoint_dir), settings, restart
        self.distributed = distributed or DistributedContext()
        self.network = wrap_model(self.model, self.distributed, device)  # what the training steps call
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        self.scheduler = warmup_cosine(self.optimizer, config.warmup_epochs, config.max_epochs)
        self.autocast = autocast_dtype(device, config.amp)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.autocast == torch.float16)
        self.steps = StepSettings(
            self.autocast,
            config.grad_accumulation,
            config.grad_clip,
            show_progress=self.distributed.is_main,
            distributed=self.distributed,
        )
        self.late_term_epoch = late_term_epoch(loss_fn, config.max_epochs)
        # Validations before select_from never count as an improvement, so that patience runs from
        # the best selectable epoch: the study's start (config.select_from), and never before this
        # loss's own late term is on (a term that never comes on gates nothing).
        self.select_from = max(config.select_from, selection_start_epoch("own", loss_fn, (), config.max_epochs))

    def _checkpoint(self, state: _State) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": state.epoch,
            "history": state.history,
            "best_epoch": state.best_epoch,
            "best_val_dsc": state.best_val_dsc,
            "completed": state.completed,
            "stopped_early": state.stopped_early,
            "rng": capture_rng_state(),
            "settings": self.settings,
        }

    def _restore(self, checkpoint: dict) -> _State:
        self.model.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.scheduler.load_state_dict(checkpoint["scheduler"])
        if not load_scaler_state(self.scaler, checkpoint["scaler"]):
            logger.warning(
                "The checkpoint was trained under another precision (loss scaler %s, this run %s): the "
                "loss scaler starts afresh",
                "fp16" if checkpoint["scaler"] else "off",
                "fp16" if self.scaler.is_enabled() else "off",
            )
        restore_rng_state(checkpoint["rng"])
        state = _State(
            epoch=checkpoint["epoch"],
            history=list(checkpoint["history"]),
            best_epoch=checkpoint["best_epoch"],
            best_val_dsc=checkpoint["best_val_dsc"],
            completed=checkpoint["completed"],
            stopped_early=checkpoint["stopped_early"],
        )
        if not state.completed and 0 <= state.best_epoch < self.select_from:
            # Written before selection waited for the late term: its best epoch cannot count.
            logger.warning(
                "Resumed best epoch %d precedes the first selectable epoch %d: forgotten",
                state.best_epoch,
                self.select_from,
            )
            state.best_epoch, state.best_val_dsc = -1, float("-inf")
        return state

    def _best_model(self) -> dict[str, torch.Tensor]:
        best = self.checkpoint_dir / "best.pt"
        if self.distributed.is_main and best.exists():
            return load_checkpoint(best)["model"]
        return {k: v.detach().cpu() for k, v in self.model.state_dict().items()}

    def fit(
        self,
        train_items: Sequence[VolumeItem],
        val_items: Sequence[VolumeItem],
        loader: LoaderSettings,
        window: SlidingWindowConfig,
        on_epoch_end: EpochCallback | None = None,
    ) -> FitResult:
        """Trains until ``max_epochs`` or early stopping, resuming from ``last.pt`` when present.

        Args:
            train_items: the fold's training volumes (random patches of ``loader.patch_size``).
            val_items: the fold's validation volumes, scored on seeded windows of ``window``'s
                size (or whole by sliding window, ``config.val_windows``).
            loader: patch size, batch size and loader workers of this process.
            window: the validation window and its batch size.
            on_epoch_end: ``on_epoch_end(epoch, record)`` is called after each epoch's checkpoint
                is on disk; on resume, it is first called for every epoch already in the
                checkpoint, so a new tracking run receives the whole curve.
        """
        context = self.distributed
        patches = PatchLoader(build_training_dataset(train_items, loader), loader, context.rank, context.world_size)
        validation = build_validation_dataset(val_items)
        val_volumes = [validation[i] for i in range(len(validation))]
        val_spacings = [item.spacing for item in val_items]
        self.val_windows = self._validation_windows(train_items, val_items, loader, window)
        seed_everything(self.config.seed, self.config.deterministic)
        checkpoint = self._resume_point()
        state = self._restore(checkpoint) if checkpoint else _State()
        result = FitResult(
            resumed_from_epoch=state.epoch if checkpoint else None,
            already_complete=state.completed,
            late_term_epoch=self.late_term_epoch,
        )
        self._warn_short_late_term()
        for record in state.history if on_epoch_end else ():
            on_epoch_end(int(record["epoch"]), record)
        if checkpoint:
            logger.info("Resuming %s at epoch %d (completed: %s)", self.checkpoint_dir, state.epoch, state.completed)
        while not state.completed:
            improved = self._run_epoch(state, patches, val_volumes, val_spacings, loader, window)
            if self.distributed.is_main:
                checkpoint = self._checkpoint(state)
                if improved:
                    save_checkpoint(self.checkpoint_dir / "best.pt", checkpoint)
                save_checkpoint(self.checkpoint_dir / "last.pt", checkpoint)
            if on_epoch_end:
                on_epoch_end(int(state.history[-1]["epoch"]), state.history[-1])
        result.history, result.best_epoch, result.best_val_dsc = state.history, state.best_epoch, state.best_val_dsc
        result.stopped_early, result.best_model = state.stopped_early, self._best_model()
        return result

    def _validation_windows(
        self,
        train_items: Sequence[VolumeItem],
        val_items: Sequence[VolumeItem],
        loader: LoaderSettings,
        window: SlidingWindowConfig,
    ) -> list[list[Window]] | None:
        """The windows each validation volume is scored on every epoch (``None``: whole volumes).

        Drawn from the run's seed and the volume's place in the fold, so that every process of a
        DDP job and every resume scores the same windows.
        """
        train_patches = len(train_items) * loader.samples_per_volume
        count = windows_per_volume(self.config.val_windows, train_patches, len(val_items))
        if count is None:
            return None
        return [
            choose_windows(item.image.shape, window.roi_size, count, (self.config.seed, index))
            for index, item in enumerate(val_items)
        ]

    def _warn_short_late_term(self) -> None:
        """One warning when the late term will be on for fewer than ``patience`` epochs."""
        first, config = self.late_term_epoch, self.config
        if first is None or not self.distributed.is_main or config.max_epochs - first >= config.patience:
            return
        if first >= config.max_epochs:
            logger.warning(
                "The loss's late term is never on in %d epochs (activate_at too late): the run trains "
                "and selects on the base loss alone",
                config.max_epochs,
            )
        else:
            logger.warning(
                "The loss's late term will be active for only %d epochs (from epoch %d of %d), fewer "
                "than the early-stopping patience (%d)",
                config.max_epochs - first,
                first,
                config.max_epochs,
                config.patience,
            )

    def _resume_point(self) -> dict | None:
        """The checkpoint to resume from, read by rank 0 and handed to every process (so that the
        optimiser states agree, and no other machine needs the checkpoint folder)."""
        checkpoint, error = None, None
        if self.distributed.is_main:
            try:
                checkpoint = resumable_checkpoint(self.checkpoint_dir, self.settings, self.restart)
            except ValueError as err:  # every process must learn of it, or the others wait forever
                error = err
        checkpoint, error = broadcast_from_main((checkpoint, error), self.distributed)
        if error is not None:
            raise error
        return checkpoint

    def _run_epoch(self, state: _State, patches: PatchLoader, val_volumes, val_spacings, loader, window) -> bool:
        """Trains and validates one epoch, updating ``state``; True when validation improved."""
        epoch, config, improved = state.epoch, self.config, False
        if hasattr(self.loss_fn, "set_training_progress"):
            self.loss_fn.set_training_progress(epoch / config.max_epochs)
        record: dict[str, float] = {"epoch": epoch, "lr": self.optimizer.param_groups[0]["lr"]}
        context = self.distributed
        # Epochs count from 0 everywhere (MLflow steps, the history, the summary); "3 of 10" is progress.
        description = f"epoch {epoch} ({epoch + 1} of {config.max_epochs})"
        record |= self._train(epoch, patches, description)
        self.scheduler.step()
        sync_buffers(self.model, context)  # one set of BatchNorm statistics for validation and checkpoints
        last_epoch = epoch + 1 == config.max_epochs
        if (epoch + 1) % config.val_every == 0 or last_epoch:
            topology = (epoch + 1) % config.metrics_every == 0 or last_epoch
            share = slice(context.rank, None, context.world_size)
            if self.val_windows is None:
                scores = score_volumes(
                    self.model,
                    self.loss_fn,
                    val_volumes[share],
                    val_spacings[share],
                    window,
                    self.device,
                    topology,
                    self.autocast,
                )
            else:
                scores = score_windows(
                    self.model,
                    self.loss_fn,
                    val_volumes[share],
                    self.val_windows[share],
                    window.roi_size,
                    window.sw_batch_size,
                    self.device,
                    topology,
                    self.autocast,
                )
            record |= summarize_scores(gather_lists(scores, context))
            improved = epoch >= self.select_from and record["val_dsc"] > state.best_val_dsc
            if improved:
                state.best_val_dsc, state.best_epoch = record["val_dsc"], epoch
        state.history.append(record)
        state.epoch = epoch + 1
        if "val_dsc" in record:  # patience is judged at validations only
            state.stopped_early = state.best_epoch >= 0 and epoch - state.best_epoch >= config.patience
        state.completed = last_epoch or state.stopped_early
        logger.info(
            "%s: loss %.4f, val DSC %s (best %.4f at epoch %d)",
            description,
            record["train_loss"],
            f"{record.get('val_dsc', float('nan')):.4f}",
            state.best_val_dsc,
            state.best_epoch,
        )
        return improved

    def _train(self, epoch: int, patches: PatchLoader, description: str) -> dict[str, float]:
        """Trains one epoch; the values averaged across processes, with the late term's size
        (``late_term_active``, and while on ``late_term`` and ``late_term_ratio``) for a loss that has one."""
        context, late = self.distributed, self.late_term_epoch is not None
        if late:
            self.loss_fn.pop_term_stats()  # drops what the last validation recorded: training steps only
        seed = self.config.seed * 100_003 + epoch
        batches = patches.epoch(seed)
        trained = train_one_epoch(
            self.network, self.loss_fn, batches, self.optimizer, self.scaler, self.device, self.steps, description
        )
        if late:
            trained |= self.loss_fn.pop_term_stats()
        # Dice/F1 are TorchMetrics states, already pooled across processes; the rest is averaged.
        averaged = mean_across({k: v for k, v in trained.items() if k not in ("train_dice", "train_f1")}, context)
        values = {key: averaged.get(key, value) for key, value in trained.items()}
        if late:
            values["late_term_active"] = float(self.loss_fn.term_active)
        return values
