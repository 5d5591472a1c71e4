"""The training loop: determinism, resume after an interruption, early stopping, checkpoints."""

from __future__ import annotations

import logging
import math

import pytest

from minivess_kedro.training import CheckpointMismatchError, FitConfig, load_checkpoint
from tests.training.conftest import run_training

CONFIG = FitConfig(max_epochs=3, warmup_epochs=1, metrics_every=2, seed=7)
LOSS_KEYS = ("train_loss", "train_dice", "val_loss", "val_dsc", "lr")


def _curves(history) -> list[tuple]:
    return [tuple(record[k] for k in LOSS_KEYS) for record in history]


def test_two_seeded_runs_give_the_same_losses(tiny_fold, tmp_path) -> None:
    first = run_training(tiny_fold, tmp_path / "a", CONFIG)
    second = run_training(tiny_fold, tmp_path / "b", CONFIG)

    assert _curves(first.history) == _curves(second.history)
    assert all(math.isfinite(v) for record in first.history for v in record.values())
    assert [r["epoch"] for r in first.history] == [0, 1, 2]
    assert "val_cldice" in first.history[1] and "val_cldice" in first.history[2]  # every 2 epochs and at the end
    assert "val_cldice" not in first.history[0]
    assert "val_masd_um" not in first.history[2]  # windows have no whole surface to measure


def test_resume_after_interruption_reproduces_the_uninterrupted_history(tiny_fold, tmp_path) -> None:
    straight = run_training(tiny_fold, tmp_path / "straight", CONFIG)

    def interrupt(epoch, record):
        if epoch == 1:
            raise KeyboardInterrupt  # Ctrl-C after epoch 1's checkpoint is on disk

    with pytest.raises(KeyboardInterrupt):
        run_training(tiny_fold, tmp_path / "resumed", CONFIG, on_epoch_end=interrupt)
    assert load_checkpoint(tmp_path / "resumed" / "last.pt")["epoch"] == 2

    replayed = []
    resumed = run_training(tiny_fold, tmp_path / "resumed", CONFIG, on_epoch_end=lambda e, r: replayed.append(e))

    assert resumed.resumed_from_epoch == 2
    assert _curves(resumed.history) == _curves(straight.history)
    assert replayed == [0, 1, 2]  # the earlier epochs are replayed to the new tracking run
    for name, tensor in straight.best_model.items():
        assert (resumed.best_model[name] == tensor).all(), name


def test_finished_run_is_not_retrained(tiny_fold, tmp_path) -> None:
    first = run_training(tiny_fold, tmp_path, CONFIG)
    again = run_training(tiny_fold, tmp_path, CONFIG)
    assert again.already_complete and again.history == first.history
    assert again.best_epoch == first.best_epoch


def test_other_settings_refuse_to_resume_and_restart_archives(tiny_fold, tmp_path) -> None:
    run_training(tiny_fold, tmp_path / "run", CONFIG, settings={"loss": "dice_ce", "lr": 1e-3})
    with pytest.raises(CheckpointMismatchError, match=r"lr: 0.001 -> 0.01.*training.restart=true"):
        run_training(tiny_fold, tmp_path / "run", CONFIG, settings={"loss": "dice_ce", "lr": 1e-2})

    fresh = run_training(tiny_fold, tmp_path / "run", CONFIG, settings={"loss": "dice_ce", "lr": 1e-2}, restart=True)
    assert fresh.resumed_from_epoch is None and len(fresh.history) == 3
    archived = tmp_path / "run.previous-1"
    assert load_checkpoint(archived / "last.pt")["settings"]["lr"] == 1e-3  # the old run is kept, not deleted


def test_best_checkpoint_holds_the_best_validation_epoch(tiny_fold, tmp_path, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="minivess_kedro.training.loop"):
        result = run_training(tiny_fold, tmp_path, CONFIG)
    # The console numbers epochs as the history, the summary and MLflow's steps do.
    last_line = caplog.messages[-1]
    assert last_line.startswith("epoch 2 (3 of 3): loss ")
    assert last_line.endswith(f"at epoch {result.best_epoch})")
    best = load_checkpoint(tmp_path / "best.pt")
    dscs = [r["val_dsc"] for r in result.history]
    assert best["best_epoch"] == result.best_epoch == dscs.index(max(dscs))
    assert best["best_val_dsc"] == pytest.approx(max(dscs))
    for key in ("model", "optimizer", "scheduler", "scaler", "rng", "history", "epoch"):
        assert key in best


def test_early_stopping_after_patience(tiny_fold, tmp_path) -> None:
    # lr 0: the model never changes, so validation never improves after epoch 0.
    config = FitConfig(max_epochs=10, warmup_epochs=0, patience=2, learning_rate=1e-12, seed=7)
    result = run_training(tiny_fold, tmp_path, config)
    assert result.stopped_early and len(result.history) == 3 and result.best_epoch == 0


def test_topological_losses_are_told_their_progress(tiny_fold, tmp_path) -> None:
    seen = []

    class Spy:
        def __init__(self, inner):
            self.inner = inner

        def __call__(self, logits, target):
            return self.inner(logits, target)

        def set_training_progress(self, fraction):
            seen.append(fraction)
            self.inner.set_training_progress(fraction)

        def to(self, device):  # the trainer moves the loss with the model
            self.inner.to(device)
            return self

    from minivess_kedro.losses import build_loss  # noqa: PLC0415
    from minivess_kedro.training import Trainer  # noqa: PLC0415

    spy = Spy(build_loss("warp"))
    original = Trainer.__init__

    def patched(self, model, loss_fn, *args, **kwargs):
        original(self, model, spy, *args, **kwargs)

    Trainer.__init__ = patched
    try:
        run_training(tiny_fold, tmp_path, CONFIG, loss="warp")
    finally:
        Trainer.__init__ = original
    assert seen == [0.0, 1 / 3, 2 / 3]
