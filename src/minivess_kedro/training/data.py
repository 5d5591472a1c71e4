"""Datasets and loaders of one fold, from in-memory volumes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from monai.data import CacheDataset, DataLoader
from torch.utils.data import DistributedSampler, Subset

from minivess_kedro.training.transforms import training_transform, validation_transform


@dataclass(frozen=True)
class VolumeItem:
    """One volume of the fold.

    Attributes:
        volume_id: ``mvXX``.
        image: ``H x W x D`` intensities (any numeric dtype).
        label: ``H x W x D`` {0, 1} labels.
        spacing: voxel size in micrometres.
    """

    volume_id: str
    image: np.ndarray
    label: np.ndarray
    spacing: tuple[float, float, float]

    def as_dict(self) -> dict:
        return {"image": self.image[None], "label": self.label[None], "id": self.volume_id}


@dataclass(frozen=True)
class LoaderSettings:
    """How patches are drawn and batched (from the compute profile).

    Attributes:
        patch_size: ``H x W x D`` crop size.
        batch_size: patches per optimiser micro-step.
        num_workers: loader processes (0: in the main process).
        samples_per_volume: crops drawn from each training volume per epoch.
        cache_rate: share of the preprocessed volumes kept in memory.
    """

    patch_size: tuple[int, int, int]
    batch_size: int = 1
    num_workers: int = 0
    samples_per_volume: int = 4
    cache_rate: float = 1.0


def build_training_dataset(items: Sequence[VolumeItem], settings: LoaderSettings) -> Subset:
    """Cached preprocessed volumes, each listed ``samples_per_volume`` times (one random crop per
    listing) without caching it more than once."""
    cached = CacheDataset(
        [item.as_dict() for item in items],
        transform=training_transform(settings.patch_size),
        cache_rate=settings.cache_rate,
        num_workers=None,
        progress=False,
    )
    return Subset(cached, list(range(len(items))) * settings.samples_per_volume)


def epoch_loader(
    dataset: Subset, settings: LoaderSettings, seed: int, rank: int = 0, world_size: int = 1
) -> DataLoader:
    """The loader of one epoch, seeded by ``seed``: epoch e draws the same patches whether the run
    went straight through or resumed at e (the generator seeds the shuffle, the workers and the
    random transforms).

    With ``world_size`` > 1 (DDP), a ``DistributedSampler`` gives process ``rank`` its share of the
    epoch's shuffled samples, and the random crops of each process get their own seed.
    """
    generator = torch.Generator().manual_seed(seed + 7919 * rank)
    sampler = None
    if world_size > 1:
        sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
    samples = len(sampler) if sampler is not None else len(dataset)
    return DataLoader(
        dataset,
        batch_size=settings.batch_size,
        shuffle=sampler is None,
        sampler=sampler,
        drop_last=samples >= 2 * settings.batch_size,
        num_workers=settings.num_workers,
        generator=generator,
        pin_memory=torch.cuda.is_available(),
    )


def build_validation_dataset(items: Sequence[VolumeItem]) -> CacheDataset:
    """Whole preprocessed validation volumes, cached."""
    return CacheDataset([item.as_dict() for item in items], transform=validation_transform(), progress=False)
