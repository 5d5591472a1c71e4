"""The synthetic generator: deterministic, MiniVess-shaped, vessel-like, not solved by a threshold."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.filters import threshold_otsu
from skimage.measure import euler_number
from skimage.measure import label as connected_components

from minivess_kedro.data.synthetic import generate_volume

SHAPE = (96, 96, 24)


@pytest.fixture(scope="module")
def volumes():
    return [generate_volume(seed, SHAPE) for seed in range(6)]


def test_same_seed_same_volume() -> None:
    first, second = generate_volume(7, (48, 48, 12)), generate_volume(7, (48, 48, 12))
    np.testing.assert_array_equal(first.image, second.image)
    np.testing.assert_array_equal(first.label, second.label)
    assert first.spacing == second.spacing and first.metadata == second.metadata


def test_other_seed_other_volume() -> None:
    assert not np.array_equal(generate_volume(1, (48, 48, 12)).label, generate_volume(2, (48, 48, 12)).label)


def test_minivess_formats(volumes) -> None:
    for volume in volumes:
        assert volume.image.shape == volume.label.shape == SHAPE
        assert volume.image.dtype == np.uint16 and volume.label.dtype == np.uint8
        assert set(np.unique(volume.label)) <= {0, 1}
        in_plane, _, z = volume.spacing
        assert volume.spacing[0] == volume.spacing[1] and z > in_plane  # anisotropic, coarser in z
        assert volume.metadata["seed"] in range(6) and volume.metadata["synthetic"] is True


def test_explicit_spacing_is_kept() -> None:
    assert generate_volume(3, (32, 32, 8), spacing=(0.5, 0.5, 4.0)).spacing == (0.5, 0.5, 4.0)


def test_vessel_fraction_is_minivess_like(volumes) -> None:
    fractions = [v.label.mean() for v in volumes]
    assert 0.01 < np.mean(fractions) < 0.12  # MiniVess: a few percent (mv68: 5.4 %)
    assert all(f > 0 for f in fractions)


def test_vessels_are_brighter_than_background(volumes) -> None:
    for volume in volumes:
        inside = volume.image[volume.label == 1].astype(float).mean()
        outside = volume.image[volume.label == 0].astype(float).mean()
        assert inside > 1.3 * outside


def test_capillary_loops_exist(volumes) -> None:
    # b1 = b0 - chi for a 3D object without cavities: loops make chi smaller than b0.
    loops = [
        connected_components(v.label, connectivity=3).max() - euler_number(v.label, connectivity=3) for v in volumes
    ]
    assert max(loops) > 0


def test_otsu_threshold_does_not_solve_it(volumes) -> None:
    scores = []
    for volume in volumes:
        image, truth = volume.image.astype(float), volume.label.astype(bool)
        predicted = image > threshold_otsu(image)
        scores.append(2 * (predicted & truth).sum() / (predicted.sum() + truth.sum()))
    assert np.mean(scores) < 0.75


@pytest.mark.parametrize(
    ("shape", "spacing", "message"),
    [
        ((32, 32), None, "3 sides"),
        ((32, 32, 1), None, "at least 2"),
        ((32, 32, 8), (1.0, 0.0, 2.0), "positive"),
    ],
)
def test_bad_arguments_are_refused(shape, spacing, message) -> None:
    with pytest.raises(ValueError, match=message):
        generate_volume(0, shape, spacing)
