"""Per-epoch validation on seeded windows: the draw, the pooled scores, the loop's use of them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from minivess_kedro.losses import build_loss
from minivess_kedro.metrics import compute_cldice, compute_dsc
from minivess_kedro.training import FitConfig, loop
from minivess_kedro.training.validation_windows import (
    choose_windows,
    score_windows,
    window_grid,
    windows_per_volume,
)
from tests.training.conftest import run_training

ROI = (16, 16, 8)


class FixedPrediction(nn.Module):
    """Returns the logits of a fixed mask for whatever window it is given (looked up by the
    window's intensities, which encode each voxel's position)."""

    def __init__(self, mask: np.ndarray) -> None:
        super().__init__()
        self.flat = torch.as_tensor(mask.ravel(), dtype=torch.float32)
        self.anchor = nn.Parameter(torch.zeros(()))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        index = image[:, 0].round().long().clamp(min=0)
        vessel = torch.where(image[:, 0] >= 0, self.flat[index], torch.zeros_like(image[:, 0]))
        return torch.stack([1 - vessel, vessel], dim=1) + 0 * self.anchor


def _positional_volume(shape, rng):
    image = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    label = (rng.random(shape) < 0.2).astype(np.uint8)
    pred = np.where(rng.random(shape) < 0.3, 1 - label, label).astype(np.uint8)  # 30 % of voxels wrong
    return {"image": image[None], "label": label[None]}, pred


def test_grid_tiles_the_volume_without_gaps_and_ends_at_the_border() -> None:
    grid = window_grid((40, 32, 5), ROI)  # 40 = 2.5 windows; depth 5 is padded to one window
    covered = np.zeros((40, 32, 8), dtype=int)
    for window in grid:
        assert tuple(s.stop - s.start for s in window) == ROI
        covered[window] += 1
    assert covered.min() == 1 and max(w[0].stop for w in grid) == 40
    assert len(grid) == 3 * 2 * 1


def test_the_draw_is_seeded_uniform_and_capped_by_the_grid() -> None:
    shape = (64, 64, 16)
    grid = window_grid(shape, ROI)
    assert choose_windows(shape, ROI, 5, (42, 0)) == choose_windows(shape, ROI, 5, (42, 0))
    assert choose_windows(shape, ROI, 5, (42, 0)) != choose_windows(shape, ROI, 5, (42, 1))
    assert len({str(w) for w in choose_windows(shape, ROI, 5, (42, 0))}) == 5
    assert choose_windows(shape, ROI, 10_000, 0) == grid == choose_windows(shape, ROI, None, 0)

    # Each tile is equally likely: over many draws every tile is kept about count/len(grid) of the time.
    def key(window):  # slices are not hashable before Python 3.12
        return tuple((s.start, s.stop) for s in window)

    counts = {key(w): 0 for w in grid}
    for seed in range(2000):
        for window in choose_windows(shape, ROI, 8, seed):
            counts[key(window)] += 1
    shares = np.array(list(counts.values())) / 2000
    assert np.allclose(shares, 8 / len(grid), atol=0.05)


@pytest.mark.parametrize(
    ("setting", "expected"), [("auto", 40 * 4 // (2 * 20)), ("whole", None), (7, 7), ("auto-one-volume", 80)]
)
def test_windows_per_volume(setting, expected) -> None:
    if setting == "auto-one-volume":
        assert windows_per_volume("auto", 160, 1) == expected
    else:
        assert windows_per_volume(setting, 40 * 4, 20) == expected
    assert windows_per_volume("auto", 1, 20) == 1  # never zero


def test_all_windows_score_exactly_the_whole_volume() -> None:
    rng = np.random.default_rng(3)
    item, pred = _positional_volume((40, 32, 5), rng)  # overlapping last tiles and a padded depth
    model = FixedPrediction(pred)
    windows = choose_windows((40, 32, 5), ROI, None, 0)
    [record] = score_windows(model, build_loss("dice_ce"), [item], [windows], ROI, 4, torch.device("cpu"), True)
    # The overlap of the last tiles counts twice; its share is small and the scores stay close.
    assert record["val_dsc"] == pytest.approx(compute_dsc(pred, item["label"][0]), abs=0.02)
    assert record["val_cldice"] == pytest.approx(compute_cldice(pred, item["label"][0]), abs=0.1)


def test_grid_aligned_volume_with_all_windows_is_the_whole_volume_dsc_exactly() -> None:
    rng = np.random.default_rng(4)
    item, pred = _positional_volume((32, 32, 8), rng)
    windows = choose_windows((32, 32, 8), ROI, None, 0)
    [record] = score_windows(
        FixedPrediction(pred), build_loss("dice_ce"), [item], [windows], ROI, 3, torch.device("cpu")
    )
    assert record["val_dsc"] == compute_dsc(pred, item["label"][0])
    assert set(record) == {"val_loss", "val_dsc"}


def test_a_sample_of_windows_estimates_the_whole_volume_dsc() -> None:
    rng = np.random.default_rng(5)
    item, pred = _positional_volume((128, 128, 16), rng)  # 64 tiles
    whole = compute_dsc(pred, item["label"][0])
    estimates = []
    for seed in range(20):
        windows = choose_windows((128, 128, 16), ROI, 8, seed)
        [record] = score_windows(
            FixedPrediction(pred), build_loss("dice_ce"), [item], [windows], ROI, 8, torch.device("cpu")
        )
        estimates.append(record["val_dsc"])
    assert np.mean(estimates) == pytest.approx(whole, abs=0.005)


def test_windows_and_whole_volumes_read_the_same_at_full_coverage(tiny_fold, tmp_path) -> None:
    whole = run_training(tiny_fold, tmp_path / "whole", FitConfig(max_epochs=2, warmup_epochs=1, val_windows="whole"))
    tiles = run_training(tiny_fold, tmp_path / "tiles", FitConfig(max_epochs=2, warmup_epochs=1, val_windows=100))
    # Same seed, same training: only the validation differs, and on these small volumes every
    # tile is scored, so both read nearly the same DSC (sliding window blends overlapping windows).
    for a, b in zip(whole.history, tiles.history, strict=True):
        assert a["train_loss"] == b["train_loss"]
        assert a["val_dsc"] == pytest.approx(b["val_dsc"], abs=0.1)
    assert "val_masd_um" in whole.history[-1] and "val_masd_um" not in tiles.history[-1]
    assert "val_cldice" in tiles.history[-1]


def test_the_loop_scores_the_same_windows_every_epoch(tiny_fold, tmp_path, monkeypatch) -> None:
    seen = []

    def spy(model, loss_fn, volumes, windows, *args, **kwargs):
        seen.append([list(w) for w in windows])
        return [{"val_loss": 0.0, "val_dsc": 0.5} for _ in volumes]

    monkeypatch.setattr(loop, "score_windows", spy)
    run_training(tiny_fold, tmp_path, FitConfig(max_epochs=3, warmup_epochs=1, val_windows=2))
    assert len(seen) == 3 and seen[0] == seen[1] == seen[2]
    assert [len(w) for w in seen[0]] == [2]  # one validation volume, two windows
