"""A tiny fold for loop tests: synthetic volumes, a small network, two epochs."""

from __future__ import annotations

import pytest
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
from minivess_kedro.training.seeding import seed_everything

PATCH = (16, 16, 8)


@pytest.fixture(scope="session")
def tiny_fold() -> tuple[list[VolumeItem], list[VolumeItem]]:
    items = []
    for index in range(1, 5):
        volume = generate_volume(index, (24, 24, 6 + index))  # depth 7 < patch depth 8: padded
        items.append(VolumeItem(f"mv{index:02d}", volume.image, volume.label, volume.spacing))
    return items[:3], items[3:]


def run_training(
    fold,
    folder,
    config: FitConfig,
    loss: str = "dice_ce",
    on_epoch_end=None,
    settings=None,
    restart=False,
    loss_kwargs: dict | None = None,
):
    """Builds everything from the seed, as the training node does, and fits."""
    train_items, val_items = fold
    seed_everything(config.seed)
    model = build_dynunet(DynUNetConfig(filters=(4, 8, 16, 32)))
    loader = LoaderSettings(patch_size=PATCH, batch_size=2, samples_per_volume=2)
    trainer = Trainer(
        model,
        build_loss(loss, **(loss_kwargs or {})),
        config,
        torch.device("cpu"),
        folder,
        settings or {"loss": loss},
        restart=restart,
    )
    return trainer.fit(train_items, val_items, loader, SlidingWindowConfig(roi_size=PATCH), on_epoch_end=on_epoch_end)
