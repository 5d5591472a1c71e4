"""Early stopping and checkpoint selection with a late topological term (warp, topo)."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math

import pytest

from minivess_kedro.training import FitConfig, load_checkpoint
from minivess_kedro.training import loop as loop_module
from tests.training.conftest import run_training

# Patience 1 on a validation DSC that falls every epoch: without the late-term rule the run
# stops at epoch 1 with epoch 0 as its best, long before the term (on from epoch 3) is on.
CONFIG = FitConfig(max_epochs=6, warmup_epochs=1, patience=1, metrics_every=100, seed=7)
WARP_HALFWAY = {"activate_at": 0.5}  # epoch / 6 >= 0.5 from epoch 3


class FallingDsc:
    """Validation ``k`` of a run scores ``0.9 - 0.1 k`` whatever the model does (the rest is real)."""

    def __init__(self) -> None:
        self.start_at(0)

    def start_at(self, epoch: int) -> None:
        """The next validation is the one of ``epoch`` (a new run from 0, a resumed one later)."""
        self.scores = (0.9 - 0.1 * k for k in itertools.count(epoch))


@pytest.fixture
def falling_dsc(monkeypatch) -> FallingDsc:
    script, original = FallingDsc(), loop_module.summarize_scores
    monkeypatch.setattr(
        loop_module, "summarize_scores", lambda records: original(records) | {"val_dsc": next(script.scores)}
    )
    return script


def test_late_term_run_trains_patience_epochs_with_the_term_on_and_selects_among_them(
    tiny_fold, tmp_path, falling_dsc
) -> None:
    result = run_training(tiny_fold, tmp_path, CONFIG, loss="warp", loss_kwargs=WARP_HALFWAY)

    assert result.late_term_epoch == 3
    # Epochs 0-2 score better but never count; epoch 3 is the best with the term on, epoch 4
    # exhausts the patience of 1.
    assert result.best_epoch == 3 and result.stopped_early and len(result.history) == 5
    assert result.best_val_dsc == pytest.approx(0.6)
    active = [r for r in result.history if r["late_term_active"] == 1.0]
    assert [r["epoch"] for r in active] == [3, 4] and len(active) >= CONFIG.patience
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["best_epoch"] == 3 and best["epoch"] == 4  # written after epoch 3
    for record in result.history[:3]:
        assert record["late_term_active"] == 0.0
        assert "late_term_ratio" not in record and "late_term" not in record
    for record in active:
        # lambda 1e-4 times a cross-entropy of order ln 2, over a Dice of order 0.5: ~1e-4.
        assert 1e-6 < record["late_term_ratio"] < 1e-2
        assert record["late_term"] > 0.0 and math.isfinite(record["late_term"])


def test_loss_without_late_term_still_stops_at_the_old_epoch(tiny_fold, tmp_path, falling_dsc) -> None:
    result = run_training(tiny_fold, tmp_path, CONFIG)

    assert result.late_term_epoch is None
    assert result.stopped_early and result.best_epoch == 0 and len(result.history) == 2
    assert not any(key.startswith("late_term") for record in result.history for key in record)


def test_a_loss_without_late_term_under_the_studys_start_is_selected_like_warp(
    tiny_fold, tmp_path, falling_dsc
) -> None:
    """``selection_start: late_term``: dice_ce selects and stops under warp's rule (epochs 3-4), so
    the two differ in the loss alone, not in training length or the epochs they could select."""
    warp = run_training(tiny_fold, tmp_path / "warp", CONFIG, loss="warp", loss_kwargs=WARP_HALFWAY)
    falling_dsc.start_at(0)
    config = dataclasses.replace(CONFIG, select_from=warp.late_term_epoch)
    dice = run_training(tiny_fold, tmp_path / "dice", config)

    assert dice.late_term_epoch is None
    assert (dice.best_epoch, len(dice.history), dice.stopped_early) == (warp.best_epoch, len(warp.history), True)
    assert dice.best_epoch == 3 and dice.best_val_dsc == pytest.approx(0.6)  # not epoch 0's 0.9
    assert load_checkpoint(tmp_path / "dice" / "best.pt")["best_epoch"] == 3


def test_a_short_late_term_is_announced_once(tiny_fold, tmp_path, caplog) -> None:
    config = FitConfig(max_epochs=2, warmup_epochs=0, patience=15, metrics_every=100, seed=7)
    with caplog.at_level(logging.WARNING, logger="minivess_kedro.training.loop"):
        result = run_training(tiny_fold, tmp_path, config, loss="warp", loss_kwargs=WARP_HALFWAY)

    warnings = [m for m in caplog.messages if "late term" in m]
    assert len(warnings) == 1 and "active for only 1 epochs (from epoch 1 of 2)" in warnings[0]
    assert result.late_term_epoch == 1 and result.best_epoch == 1  # the only epoch with the term on


def _without_timings(history: list[dict[str, float]]) -> list[dict[str, float]]:
    return [{k: v for k, v in record.items() if k not in ("seconds", "data_wait_fraction")} for record in history]


def test_late_term_run_resumes_to_the_uninterrupted_result(tiny_fold, tmp_path, falling_dsc) -> None:
    straight = run_training(tiny_fold, tmp_path / "straight", CONFIG, loss="warp", loss_kwargs=WARP_HALFWAY)

    def interrupt(epoch, record):
        if epoch == 3:
            raise KeyboardInterrupt  # after the first epoch with the term on is the best

    falling_dsc.start_at(0)
    with pytest.raises(KeyboardInterrupt):
        run_training(
            tiny_fold, tmp_path / "resumed", CONFIG, loss="warp", loss_kwargs=WARP_HALFWAY, on_epoch_end=interrupt
        )
    falling_dsc.start_at(4)
    resumed = run_training(tiny_fold, tmp_path / "resumed", CONFIG, loss="warp", loss_kwargs=WARP_HALFWAY)

    assert resumed.resumed_from_epoch == 4
    assert _without_timings(resumed.history) == _without_timings(straight.history)  # late_term_* included
    assert (resumed.best_epoch, resumed.stopped_early) == (straight.best_epoch, straight.stopped_early) == (3, True)
    for name, tensor in straight.best_model.items():
        assert (resumed.best_model[name] == tensor).all(), name
