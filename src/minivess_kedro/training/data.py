"""Datasets and loaders of one fold, from in-memory volumes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from monai.data import CacheDataset, DataLoader
from monai.data.utils import set_rnd
from torch.utils.data import Dataset, DistributedSampler, RandomSampler, Sampler, Subset, get_worker_info

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
    """Cached preprocessed volumes with their crop indices, each listed ``samples_per_volume``
    times (one random crop per listing) without caching it more than once.

    The cache is handed to the random steps without a copy (``copy_cache=False``): none of them
    writes into its input (tested), and a deep copy of a 512 x 512 x 100 volume costs 0.1 s a sample.
    """
    cached = CacheDataset(
        [item.as_dict() for item in items],
        transform=training_transform(settings.patch_size),
        cache_rate=settings.cache_rate,
        num_workers=None,
        progress=False,
        copy_cache=False,
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


class _SeededSamples(Sampler):
    """One epoch's samples as ``(index, epoch seed)``: the order of :func:`epoch_loader`'s sampler
    for that seed, with the seed handed to the worker that loads each sample."""

    def __init__(self, dataset: Dataset, rank: int, world_size: int) -> None:
        self.dataset, self.rank, self.world_size, self.seed = dataset, rank, world_size, 0

    def _order(self) -> Sampler:
        if self.world_size > 1:
            return DistributedSampler(self.dataset, self.world_size, self.rank, shuffle=True, seed=self.seed)
        return RandomSampler(self.dataset, generator=torch.Generator().manual_seed(self.seed + 7919 * self.rank))

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return ((index, self.seed) for index in self._order())

    def __len__(self) -> int:
        return len(self._order())


class _EpochSeeded(Dataset):
    """Reseeds the random transforms of this worker when a new epoch's first sample arrives, so
    that a persistent worker draws epoch e's crops from e's seed whatever it drew before (a resumed
    run draws what the uninterrupted one did). Each DDP process (``rank``) and each of its workers
    gets its own stream."""

    def __init__(self, dataset: Dataset, rank: int = 0) -> None:
        self.dataset, self.rank, self.seed = dataset, rank, None

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]) -> dict:
        index, seed = key
        if seed != self.seed:
            info = get_worker_info()
            worker = info.id if info else 0
            set_rnd(self.dataset, seed=(seed * 1_000_003 + self.rank * 1_009 + worker) % 2**32)
            self.seed = seed
        return self.dataset[index]


class PatchLoader:
    """The training patches of every epoch of one run, from :meth:`epoch` (``seed``).

    Without loader workers, each epoch is a new :func:`epoch_loader`. With workers, one
    ``DataLoader`` with persistent workers serves every epoch: workers are started once per run,
    not once per epoch, and keep their share of the cache; each epoch's patches come from its
    seed as above.
    """

    def __init__(self, dataset: Subset, settings: LoaderSettings, rank: int = 0, world_size: int = 1) -> None:
        self.dataset, self.settings, self.rank, self.world_size = dataset, settings, rank, world_size
        self.loader: DataLoader | None = None
        if settings.num_workers > 0:
            self.sampler = _SeededSamples(dataset, rank, world_size)
            samples = len(self.sampler)
            self.loader = DataLoader(
                _EpochSeeded(dataset, rank),
                batch_size=settings.batch_size,
                sampler=self.sampler,
                drop_last=samples >= 2 * settings.batch_size,
                num_workers=settings.num_workers,
                persistent_workers=True,
                pin_memory=torch.cuda.is_available(),
                generator=torch.Generator().manual_seed(7919 * rank),  # not the global RNG
            )

    def epoch(self, seed: int) -> DataLoader:
        """The batches of the epoch seeded by ``seed``."""
        if self.loader is None:
            return epoch_loader(self.dataset, self.settings, seed, self.rank, self.world_size)
        self.sampler.seed = seed
        return self.loader


def build_validation_dataset(items: Sequence[VolumeItem]) -> CacheDataset:
    """Whole preprocessed validation volumes, cached."""
    return CacheDataset([item.as_dict() for item in items], transform=validation_transform(), progress=False)
