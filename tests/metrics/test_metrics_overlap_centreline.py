"""DSC and clDice: analytic values, skeletons identical to scikit-image, the policy cells."""

from __future__ import annotations

import numpy as np
import pytest
from metrics_shapes import ball, box_mask, tube_z
from scipy import ndimage
from skimage.morphology import skeletonize

from minivess_kedro.metrics import (
    CentrelineDSCMetric,
    DSCMetric,
    cldice_from_skeletons,
    compute_cldice,
    compute_dsc,
    skeleton,
    skeletons,
)


def test_dsc_of_overlapping_boxes() -> None:
    pred = box_mask((10, 10, 10), ((0, 3), (0, 3), (0, 3)))  # 64 voxels
    ref = box_mask((10, 10, 10), ((2, 5), (0, 3), (0, 3)))  # 64 voxels, 32 shared
    assert compute_dsc(pred, ref) == pytest.approx(2 * 32 / 128, rel=1e-15)
    assert compute_dsc(pred, pred) == 1.0
    assert compute_dsc(pred, np.roll(pred, 5, axis=0)) == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_skeleton_is_bit_identical_to_scikit_image(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(10, 36, size=3))
    mask = ndimage.gaussian_filter(rng.standard_normal(shape), 1.5) > 0.1
    if seed % 2:  # sparse: one object far from the origin, so the bounding box is small
        mask[:] = False
        mask[-7:-2, 3:9, -6:] = True
    assert np.array_equal(skeleton(mask), skeletonize(mask))


def test_two_skeletons_computed_together_equal_each_alone() -> None:
    a = tube_z((30, 30, 12), (10, 12), 4.0)
    b = ball((30, 30, 12), (15, 15, 6), 5.0)
    skel_a, skel_b = skeletons(a, b)
    assert np.array_equal(skel_a, skeletonize(a)) and np.array_equal(skel_b, skeletonize(b))


def test_cldice_formula_on_given_skeletons() -> None:
    """S_P: 4 voxels, 3 in R (Tprec 3/4); S_R: 2 voxels, 1 in P (Tsens 1/2): clDice 0.6."""
    shape = (8, 8, 8)
    pred = np.zeros(shape, dtype=bool)
    ref = np.zeros(shape, dtype=bool)
    skel_pred = np.zeros(shape, dtype=bool)
    skel_ref = np.zeros(shape, dtype=bool)
    skel_pred[1, 1, 1:5] = True
    pred[1, 1, 1:5] = True
    ref[1, 1, 1:4] = True
    skel_ref[1, 1, 3] = skel_ref[5, 5, 5] = True
    ref[5, 5, 5] = True
    assert cldice_from_skeletons(pred, ref, skel_pred, skel_ref) == pytest.approx(0.6)


def test_cldice_of_a_tube_is_one_with_itself_and_with_a_thicker_tube() -> None:
    thin = tube_z((32, 32, 16), (15, 15), 3.0)
    thick = tube_z((32, 32, 16), (15, 15), 6.0)
    assert compute_cldice(thin, thin) == 1.0
    # Each centreline lies inside the other tube.
    assert compute_cldice(thin, thick) == 1.0
    assert compute_dsc(thin, thick) < 0.5


def test_cldice_is_zero_when_scikit_image_thins_a_mask_away() -> None:
    """Lee's thinning in scikit-image deletes some even-width tubes entirely (issue #3757).

    Skeletons stay identical to scikit-image's, so Tprec is 0/0 here; the policy gives the
    worst value, 0, where MetricsReloaded returns NaN.
    """
    even = tube_z((32, 32, 16), (15.5, 15.5), 3.0)
    assert even.any() and not skeletonize(even).any()
    assert compute_cldice(even, even) == 0.0
    assert compute_dsc(even, even) == 1.0


@pytest.mark.parametrize(
    ("pred_empty", "ref_empty", "expected"),
    [(True, True, 1.0), (True, False, 0.0), (False, True, 0.0)],
)
def test_cldice_empty_mask_policy(pred_empty: bool, ref_empty: bool, expected: float) -> None:
    tube = tube_z((16, 16, 8), (7, 7), 3.0)
    empty = np.zeros_like(tube)
    pred = empty if pred_empty else tube
    ref = empty if ref_empty else tube
    assert compute_cldice(pred, ref) == expected


def test_cldice_is_zero_when_skeletons_miss_the_other_mask() -> None:
    pred = tube_z((30, 30, 10), (7, 7), 3.0)
    ref = tube_z((30, 30, 10), (22, 22), 3.0)
    assert compute_cldice(pred, ref) == 0.0  # MetricsReloaded: 0/0 = NaN


def test_classes_match_functions() -> None:
    a = tube_z((20, 20, 8), (9, 9), 3.0)
    b = tube_z((20, 20, 8), (10, 9), 3.0)
    dsc, cl = DSCMetric(), CentrelineDSCMetric()
    assert dsc(a, b) == compute_dsc(a, b)
    assert cl(a, b) == compute_cldice(a, b)
    assert cl.aggregate().tolist() == [compute_cldice(a, b)]
