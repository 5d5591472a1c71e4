"""Post-processing and classical baselines on planted, analytically known volumes."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

from minivess_kedro.baselines import FrangiSettings, fit_frangi_threshold, frangi_segmentation, otsu_segmentation
from minivess_kedro.metrics import compute_dsc
from minivess_kedro.postprocessing import ComponentSettings, clean_components

SPACING = (1.0, 1.0, 2.0)  # 2 um^3 voxels


def _tube() -> np.ndarray:
    mask = np.zeros((32, 32, 12), dtype=np.uint8)
    mask[14:18, 14:18, :] = 1  # 4 x 4 x 12 voxels = 384 um^3
    return mask


def test_planted_spurious_component_is_removed_and_the_vessel_kept() -> None:
    mask = _tube()
    mask[2:4, 2:4, 2:4] = 1  # 8 voxels = 16 um^3, far from the tube
    cleaned = clean_components(mask, SPACING, ComponentSettings(min_volume_um3=100, max_hole_um3=0))
    np.testing.assert_array_equal(cleaned, _tube())


def test_size_limit_is_physical_and_strict() -> None:
    mask = _tube()
    mask[2:4, 2:4, 2:4] = 1  # 16 um^3
    kept = clean_components(mask, SPACING, ComponentSettings(min_volume_um3=16, max_hole_um3=0))
    removed = clean_components(mask, SPACING, ComponentSettings(min_volume_um3=16.1, max_hole_um3=0))
    assert kept[2, 2, 2] == 1 and removed[2, 2, 2] == 0  # "smaller than 16 um^3" keeps exactly 16


def test_small_cavity_is_filled_but_not_a_large_one() -> None:
    mask = np.ones((10, 10, 10), dtype=np.uint8)
    mask[2, 2, 2] = 0  # 2 um^3 cavity
    mask[5:8, 5:8, 5:8] = 0  # 54 um^3 cavity
    cleaned = clean_components(mask, SPACING, ComponentSettings(min_volume_um3=0, max_hole_um3=10))
    assert cleaned[2, 2, 2] == 1 and cleaned[6, 6, 6] == 0


def test_otsu_solves_a_two_level_image_exactly() -> None:
    label = _tube()
    image = np.where(label, 900, 100).astype(np.uint16)
    assert compute_dsc(otsu_segmentation(image).astype(bool), label.astype(bool)) == 1.0


def test_frangi_threshold_is_fitted_on_training_volumes() -> None:
    rng = np.random.default_rng(0)
    labels = [_tube() for _ in range(2)]
    images = [(100 + 800 * lab.astype(np.float32) + rng.normal(0, 20, lab.shape)).astype(np.float32) for lab in labels]
    settings = FrangiSettings(sigmas=(1.0, 2.0))

    threshold = fit_frangi_threshold(zip(images, labels, strict=True), settings)
    dsc = compute_dsc(frangi_segmentation(images[0], threshold, settings).astype(bool), labels[0].astype(bool))

    assert threshold in settings.thresholds
    assert dsc > 0.5  # a bright tube is what vesselness is for
    worst = min(
        settings.thresholds, key=lambda t: compute_dsc(frangi_segmentation(images[0], t, settings) > 0, labels[0] > 0)
    )
    assert dsc >= compute_dsc(frangi_segmentation(images[0], worst, settings) > 0, labels[0] > 0)


def _noisy_tube(seed: int) -> tuple[np.ndarray, np.ndarray]:
    label = _tube()
    noise = np.random.default_rng(seed).normal(0, 20 + 40 * seed, label.shape)
    return (100 + 800 * label.astype(np.float32) + noise).astype(np.float32), label


def test_frangi_fit_holds_one_volume_at_a_time() -> None:
    """The fit reads a generator of volumes: each is released before the next one is made, and
    the threshold is the one fitted on the same volumes as a list."""
    settings = FrangiSettings(sigmas=(1.0,))
    alive: list[weakref.ref] = []

    def volumes():
        for seed in range(3):
            assert all(ref() is None for ref in alive), "an earlier volume is still held"
            image, label = _noisy_tube(seed)
            alive.append(weakref.ref(image))
            yield image, label
            del image, label

    streamed = fit_frangi_threshold(volumes(), settings)
    assert len(alive) == 3
    assert streamed == fit_frangi_threshold([_noisy_tube(seed) for seed in range(3)], settings)
    with pytest.raises(ValueError, match="no volumes"):
        fit_frangi_threshold([], settings)


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 2.0), (0.5, 0.5, 0.5)])
def test_empty_mask_stays_empty(spacing) -> None:
    assert clean_components(np.zeros((5, 5, 5), np.uint8), spacing, ComponentSettings()).sum() == 0
