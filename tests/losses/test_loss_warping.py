"""Simple points and warping-critical voxels of the ``warp`` loss."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from minivess_kedro.topology.simple_points import OFFSETS, is_simple
from minivess_kedro.topology.warping import critical_voxels, warp

_GRID = np.abs(np.indices((3, 3, 3)) - 1).sum(axis=0)  # Manhattan distance to the centre


def _neighbours(cube: np.ndarray) -> np.ndarray:
    """``3 x 3 x 3`` bool cube -> its 26 neighbours in the order of OFFSETS."""
    return cube[OFFSETS[:, 0] + 1, OFFSETS[:, 1] + 1, OFFSETS[:, 2] + 1]


def _simple_by_labelling(cube: np.ndarray) -> bool:
    """The textbook definition, by connected-component labelling of one neighbourhood."""
    foreground = cube.copy()
    foreground[1, 1, 1] = False
    _, n_foreground = ndimage.label(foreground, structure=np.ones((3, 3, 3)))
    background = ~cube & (_GRID <= 2)  # the 18-neighbourhood
    background[1, 1, 1] = False
    labels, _ = ndimage.label(background, structure=ndimage.generate_binary_structure(3, 1))
    touching = set(labels[(_GRID == 1) & background].tolist())  # 6-adjacent to the centre
    return n_foreground == 1 and len(touching) == 1


def test_simple_point_test_matches_labelling_on_random_neighbourhoods():
    rng = np.random.default_rng(0)
    cubes = np.concatenate([rng.random((600, 3, 3, 3)) < d for d in (0.2, 0.4, 0.6, 0.8)])
    got = is_simple(np.stack([_neighbours(c) for c in cubes]))
    want = np.array([_simple_by_labelling(c) for c in cubes])
    assert want.any() and not want.all()
    np.testing.assert_array_equal(got, want)


def _cube(*offsets: tuple[int, int, int]) -> np.ndarray:
    cube = np.zeros((3, 3, 3), dtype=bool)
    for o in offsets:
        cube[o[0] + 1, o[1] + 1, o[2] + 1] = True
    return cube


@pytest.mark.parametrize(
    ("cube", "simple"),
    [
        (_cube(), False),  # isolated voxel: flipping it removes or creates a component
        (np.ones((3, 3, 3), dtype=bool), False),  # interior voxel: flipping it makes a cavity
        (_cube((1, 0, 0)), True),  # end of a line
        (_cube((1, 0, 0), (-1, 0, 0)), False),  # middle of a line
        (_cube((1, 1, 1)), True),  # touching one corner
        (_cube((1, 1, 1), (-1, -1, -1)), False),  # joins two corners
        # Background faces linked only through a corner voxel: counting components in the full
        # 3 x 3 x 3 cube would call this simple; the 18-neighbourhood (the standard) does not.
        (_cube((1, 1, 0), (0, 0, 1), (0, 0, -1), (0, -1, 0), (-1, 0, 0)), False),
    ],
)
def test_known_simple_points(cube, simple):
    assert is_simple(_neighbours(cube)[None])[0] == simple


def _warp_one_at_a_time(volume, candidates, order):
    """The sequential definition, in the visiting order that ``warp`` documents."""
    warped = volume.copy()
    interior = np.zeros_like(volume)
    interior[1:-1, 1:-1, 1:-1] = True
    index = np.flatnonzero(candidates & interior)
    for i in index[np.lexsort((index, order.ravel()[index]))]:
        c = np.unravel_index(i, volume.shape)
        cube = warped[c[0] - 1 : c[0] + 2, c[1] - 1 : c[1] + 2, c[2] - 1 : c[2] + 2]
        if is_simple(_neighbours(cube)[None])[0]:
            warped[c] = ~warped[c]
    return warped


@pytest.mark.parametrize("seed", range(4))
def test_batched_warp_equals_one_at_a_time(seed):
    rng = np.random.default_rng(seed)
    volume = ndimage.binary_opening(rng.random((10, 9, 7)) < 0.55)
    candidates = rng.random(volume.shape) < 0.5
    order = np.round(rng.random(volume.shape) * 3)  # many ties
    np.testing.assert_array_equal(warp(volume, candidates, order), _warp_one_at_a_time(volume, candidates, order))


def _tube(shape=(16, 12, 10)) -> np.ndarray:
    tube = np.zeros(shape, dtype=bool)
    tube[2:14, 5:8, 4:7] = True
    return tube


def test_no_critical_voxel_for_a_perfect_or_a_thickened_prediction():
    tube = _tube()
    assert not critical_voxels(tube, tube).any()
    assert not critical_voxels(ndimage.binary_dilation(tube), tube).any()


def test_a_gap_breaking_the_tube_is_critical():
    tube = _tube()
    pred = tube.copy()
    pred[7:9] = False
    critical = critical_voxels(pred, tube)
    assert critical.any()
    assert not (critical & ~(tube & ~pred)).any()  # only voxels of the gap


def test_an_isolated_false_positive_blob_is_entirely_critical():
    tube = _tube()
    pred = tube.copy()
    pred[5:8, 1:3, 1:3] = True  # away from the tube
    critical = critical_voxels(pred, tube)
    np.testing.assert_array_equal(critical, pred & ~tube)


def test_border_voxels_are_never_flipped():
    volume = np.zeros((5, 5, 5), dtype=bool)
    volume[0, 2, 2] = volume[1, 2, 2] = True  # a bump on the border: simple, but not flipped
    candidates = volume.copy()
    warped = warp(volume, candidates, np.ones(volume.shape))
    assert warped[0, 2, 2]
    assert not warped[1, 2, 2]  # the interior end of the line is simple and goes
