"""The training loader: crop centres from indices cached once per volume, the cache handed over
without a copy and never written, and persistent workers that draw each epoch from its seed."""

from __future__ import annotations

import os

import numpy as np
import torch
from monai.transforms import Compose, RandCropByPosNegLabeld
from torch.utils.data import Dataset

from minivess_kedro.training import LoaderSettings, build_training_dataset
from minivess_kedro.training.data import PatchLoader
from minivess_kedro.training.transforms import KEYS, augmentation, crop_indices, preprocessing
from tests.training.conftest import PATCH


def _patches(batches) -> list[np.ndarray]:
    return [batch["image"].numpy().copy() for batch in batches]


def test_crops_from_cached_indices_are_the_crops_of_the_label(tiny_fold) -> None:
    """The same seed gives the same patches as a crop that finds its centres in the label itself."""
    item = tiny_fold[0][0].as_dict()
    cached = Compose(preprocessing(PATCH) + crop_indices())(item)
    with_indices = Compose(augmentation(PATCH)).set_random_state(seed=5)
    scanning = RandCropByPosNegLabeld(keys=KEYS, label_key="label", spatial_size=list(PATCH), num_samples=1)
    without = Compose([scanning, *augmentation(PATCH)[2:]]).set_random_state(seed=5)
    plain = Compose(preprocessing(PATCH))(item)
    for _ in range(6):
        got, expected = with_indices(cached)[0], without(plain)[0]
        assert set(got) == {"image", "label", "id"}  # the indices stay in the cache, out of the batch
        np.testing.assert_array_equal(got["image"], expected["image"])
        np.testing.assert_array_equal(got["label"], expected["label"])


def test_the_uncopied_cache_is_never_written(tiny_fold) -> None:
    settings = LoaderSettings(patch_size=PATCH, batch_size=2, samples_per_volume=4)
    dataset = build_training_dataset(tiny_fold[0], settings)
    cache = dataset.dataset._cache
    before = [{key: np.asarray(value).copy() for key, value in entry.items() if key != "id"} for entry in cache]
    for seed in range(3):
        for _ in PatchLoader(dataset, settings).epoch(seed):
            pass
    for entry, saved in zip(cache, before, strict=True):
        for key, value in saved.items():
            np.testing.assert_array_equal(np.asarray(entry[key]), value, err_msg=key)


def test_persistent_workers_draw_each_epoch_from_its_seed(tiny_fold) -> None:
    """Epoch 5 of a loader that drew epoch 4 first equals epoch 5 of a fresh one (a resumed run)."""
    settings = LoaderSettings(patch_size=PATCH, batch_size=2, samples_per_volume=4, num_workers=2)
    dataset = build_training_dataset(tiny_fold[0], settings)
    straight = PatchLoader(dataset, settings)
    _patches(straight.epoch(4))
    after_four = _patches(straight.epoch(5))
    resumed = _patches(PatchLoader(dataset, settings).epoch(5))
    assert len(after_four) == 6
    for a, b in zip(after_four, resumed, strict=True):
        np.testing.assert_array_equal(a, b)
    other = _patches(straight.epoch(6))
    assert not all(np.array_equal(a, b) for a, b in zip(after_four, other, strict=True))


def test_each_ddp_process_draws_its_own_patches(tiny_fold) -> None:
    """Two processes of a DDP job with workers: the same epoch seed, different random draws."""
    settings = LoaderSettings(patch_size=PATCH, batch_size=1, samples_per_volume=4, num_workers=2)
    dataset = build_training_dataset(tiny_fold[0][:1], settings)  # one volume: every sample is its crop
    ranks = [_patches(PatchLoader(dataset, settings, rank=rank, world_size=2).epoch(3)) for rank in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 2
    assert not any(np.array_equal(a, b) for a, b in zip(*ranks, strict=True))


class _Pids(Dataset):
    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> dict:
        return {"pid": torch.tensor(os.getpid())}


def test_workers_start_once_per_run_not_once_per_epoch() -> None:
    settings = LoaderSettings(patch_size=PATCH, batch_size=2, num_workers=2)
    loader = PatchLoader(_Pids(), settings)
    pids = [{int(p) for batch in loader.epoch(seed) for p in batch["pid"]} for seed in range(3)]
    assert len(pids[0]) == 2 and pids[0] == pids[1] == pids[2] and os.getpid() not in pids[0]
