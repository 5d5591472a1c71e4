"""Betti numbers on shapes with known topology; Euler characteristic against scikit-image."""

from __future__ import annotations

import numpy as np
import pytest
from metrics_shapes import ball, box_mask, torus
from scipy import ndimage
from skimage.measure import euler_number

from minivess_kedro.metrics import (
    BettiErrorMetric,
    BettiNumbers,
    betti_numbers,
    compute_betti_errors,
    euler_characteristic,
)


def test_solid_torus_has_one_loop() -> None:
    assert betti_numbers(torus((40, 40, 16), (19.5, 19.5, 7.5), 11, 4)) == BettiNumbers(1, 1, 0, 0)


def test_hollow_ball_has_one_cavity() -> None:
    shell = ball((30, 30, 30), (14.5,) * 3, 12) & ~ball((30, 30, 30), (14.5,) * 3, 8)
    assert betti_numbers(shell) == BettiNumbers(1, 0, 1, 2)


def test_cavity_open_to_the_image_edge_is_not_a_cavity() -> None:
    box = box_mask((10, 10, 10), ((0, 6), (2, 8), (2, 8)))
    box[0:3, 4:6, 4:6] = False  # a pit that reaches x = 0, outside the image
    assert betti_numbers(box).b2 == 0
    box[1:3, 4:6, 4:6] = True
    box[2, 4:6, 4:6] = False  # now enclosed
    assert betti_numbers(box).b2 == 1


def test_components_use_26_connectivity() -> None:
    mask = np.zeros((6, 6, 6), dtype=bool)
    mask[1, 1, 1] = mask[2, 2, 2] = True  # corner-touching: one component
    mask[4, 4, 4] = True
    assert betti_numbers(mask).b0 == 2
    assert betti_numbers(np.zeros((4, 4, 4), dtype=bool)) == BettiNumbers(0, 0, 0, 0)


def test_loop_touching_the_image_border_still_counts() -> None:
    ring = np.zeros((9, 9, 3), dtype=bool)
    ring[0:9, 0:9, 0] = True
    ring[1:8, 1:8, 0] = False  # a square ring on the image edge
    assert betti_numbers(ring) == BettiNumbers(1, 1, 0, 0)


@pytest.mark.parametrize("seed", range(8))
def test_euler_characteristic_equals_scikit_image(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(3, 25, size=3))
    if seed % 2:
        mask = rng.random(shape) < rng.uniform(0.1, 0.6)
    else:
        mask = ndimage.gaussian_filter(rng.standard_normal(shape), 1.0) > 0
    assert euler_characteristic(mask) == euler_number(mask, connectivity=3)


def test_betti_errors_of_a_broken_torus() -> None:
    ref = torus((40, 40, 16), (19.5, 19.5, 7.5), 11, 4)
    pred = ref.copy()
    pred[18:22, :20, :] = False  # one cut opens the loop
    pred[:, 18:22, :] &= np.arange(40)[:, None, None] < 19  # a second cut splits it
    errors = compute_betti_errors(pred, ref)
    assert (errors["betti0_pred"], errors["betti1_pred"]) == (2, 0)
    assert (errors["betti0_error"], errors["betti1_error"]) == (1, 1)
    assert errors["n_components_ref"] == 1
    metric = BettiErrorMetric(dimension=1)
    assert metric(pred, ref) == 1.0
    with pytest.raises(ValueError, match="dimension must be 0 or 1"):
        BettiErrorMetric(dimension=2)
