"""Training-time foreground Dice/F1 (TorchMetrics), background excluded."""

from __future__ import annotations

import pytest
import torch

from minivess_kedro.metrics import ForegroundDiceF1, foreground_dice, foreground_f1


def _batch(seed: int = 0, fg: float = 0.05) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    labels = (torch.rand(2, 1, 16, 16, 8, generator=gen) < fg).long()
    noise = torch.rand(labels.shape, generator=gen) < 0.03
    pred = labels.bool() ^ noise
    logits = torch.cat([(~pred).float(), pred.float()], dim=1) * 4 - 2  # B x 2 x ...
    return logits, labels


def _numpy_dice(logits: torch.Tensor, labels: torch.Tensor) -> float:
    pred = logits.argmax(1).bool().numpy()
    ref = labels[:, 0].bool().numpy()
    return 2 * (pred & ref).sum() / (pred.sum() + ref.sum())


def test_foreground_dice_and_f1_equal_the_vessel_class_dice() -> None:
    logits, labels = _batch()
    expected = _numpy_dice(logits, labels)
    assert float(foreground_dice(logits, labels)) == pytest.approx(expected, rel=1e-6)
    assert float(foreground_f1(logits, labels)) == pytest.approx(expected, rel=1e-6)


def test_background_is_not_averaged_in() -> None:
    """Predicting nothing on a 5 %-vessel batch: ~0.97 with background, 0 without."""
    _, labels = _batch(fg=0.05)
    logits = torch.zeros(labels.shape[0], 2, *labels.shape[2:])
    logits[:, 0] = 1.0  # background everywhere
    assert float(foreground_dice(logits, labels)) == 0.0
    assert float(foreground_f1(logits, labels)) == 0.0


def test_single_channel_logits_are_thresholded_at_zero() -> None:
    logits, labels = _batch(seed=1)
    one_channel = logits[:, 1:] - logits[:, :1]
    assert float(foreground_dice(one_channel, labels)) == pytest.approx(_numpy_dice(logits, labels), rel=1e-6)


def test_monitor_accumulates_an_epoch_and_resets() -> None:
    batches = [_batch(seed) for seed in range(3)]
    monitor = ForegroundDiceF1(device="cpu")
    for logits, labels in batches:
        monitor.update(logits, labels)
    pooled_logits = torch.cat([b[0] for b in batches])
    pooled_labels = torch.cat([b[1] for b in batches])
    expected = _numpy_dice(pooled_logits, pooled_labels)
    values = monitor.compute()
    assert values["dice"] == pytest.approx(expected, rel=1e-6)
    assert values["f1"] == pytest.approx(expected, rel=1e-6)
    monitor.reset()
    monitor.update(*batches[0])
    assert monitor.compute()["dice"] == pytest.approx(_numpy_dice(*batches[0]), rel=1e-6)


def test_shape_errors_are_named() -> None:
    logits, labels = _batch()
    with pytest.raises(ValueError, match="1 or 2 channels"):
        foreground_dice(torch.zeros(2, 3, 4, 4, 4), labels)
    with pytest.raises(ValueError, match="does not match the logits"):
        foreground_f1(logits, labels[:, :, :8])
    with pytest.raises(ValueError, match="dice_aggregation must be"):
        ForegroundDiceF1(dice_aggregation="macro")
