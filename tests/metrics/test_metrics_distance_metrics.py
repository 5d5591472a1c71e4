"""MASD, HD95 and NSD on spheres and tubes with known distances; the metric classes."""

from __future__ import annotations

import numpy as np
import pytest
from metrics_shapes import ball, box_mask, tube_z

from minivess_kedro.metrics import (
    HausdorffDistanceMetric,
    MASDMetric,
    NSDMetric,
    compute_hausdorff_distance,
    compute_masd,
    compute_nsd,
    compute_surface_distances,
    hausdorff_from_distances,
)

ANISO = (0.5, 0.5, 1.5)


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), ANISO])
def test_concentric_spheres_are_their_radius_difference_apart(spacing) -> None:
    """Digital spheres: every border distance is within one voxel of r_outer - r_inner."""
    shape = (48, 48, 20) if spacing == ANISO else (40, 40, 40)
    centre = [(n - 1) / 2 for n in shape]
    inner, outer = ball(shape, centre, 6.0, spacing), ball(shape, centre, 10.0, spacing)
    got = compute_surface_distances(inner, outer, spacing)
    slack = float(np.linalg.norm(spacing))
    for directed in (got.pred_to_ref, got.ref_to_pred):
        assert np.all(np.abs(directed - 4.0) <= slack)
    assert compute_masd(inner, outer, spacing) == pytest.approx(4.0, abs=max(spacing))
    assert compute_nsd(inner, outer, spacing, tau=4.0 + slack) == 1.0
    assert compute_nsd(inner, outer, spacing, tau=4.0 - slack - 1e-9) == 0.0


def test_sphere_against_itself_is_perfect() -> None:
    sphere = ball((30, 30, 30), (14.5, 14.5, 14.5), 9.0)
    assert compute_masd(sphere, sphere, (1, 1, 1)) == 0.0
    assert compute_hausdorff_distance(sphere, sphere, (1, 1, 1)) == 0.0
    assert compute_nsd(sphere, sphere, (1, 1, 1), tau=0.0) == 1.0


def test_tube_shifted_by_whole_voxels_through_the_image_edges() -> None:
    """A tube along z spanning the image, shifted by 2 voxels in x (physical 2 * sx).

    Every border voxel of one tube that is not a border voxel of the other lies exactly
    2 * sx away from it along x or closer, and the largest distance is exactly 2 * sx.
    """
    spacing = (0.7, 0.7, 5.0)
    ref = tube_z((40, 40, 12), (19.0, 19.0), 6.0, spacing)
    pred = np.roll(ref, 2, axis=0)
    got = compute_surface_distances(pred, ref, spacing)
    assert got.pred_to_ref.max() == pytest.approx(2 * 0.7, rel=1e-12)
    assert got.ref_to_pred.max() == pytest.approx(2 * 0.7, rel=1e-12)
    assert hausdorff_from_distances(got, 100.0) == pytest.approx(1.4, rel=1e-12)
    # End caps touch the image: each cap is a whole disc of border voxels, so most voxels
    # of the overlapping caps are shared and at distance 0.
    assert np.count_nonzero(got.pred_to_ref == 0) >= 2 * np.count_nonzero(ref[:, :, 0] & pred[:, :, 0])


def test_hd_percentile_is_the_larger_directed_percentile_not_a_pooled_one() -> None:
    """A small box P in a corner of a large box R: the directed sets differ strongly."""
    ref = box_mask((14, 14, 14), ((0, 11), (0, 11), (0, 11)))
    pred = box_mask((14, 14, 14), ((1, 3), (1, 3), (1, 3)))
    got = compute_surface_distances(pred, ref, (1.0, 1.0, 1.0))
    expected = max(np.percentile(got.pred_to_ref, 95), np.percentile(got.ref_to_pred, 95))
    pooled = np.percentile(np.concatenate([got.pred_to_ref, got.ref_to_pred]), 95)
    assert expected != pytest.approx(pooled)
    assert compute_hausdorff_distance(pred, ref, (1, 1, 1)) == expected
    masd = (got.pred_to_ref.mean() + got.ref_to_pred.mean()) / 2
    pooled_mean = np.concatenate([got.pred_to_ref, got.ref_to_pred]).mean()
    assert masd != pytest.approx(pooled_mean)
    assert compute_masd(pred, ref, (1, 1, 1)) == pytest.approx(masd, rel=1e-15)


def test_metric_classes_keep_one_value_per_volume() -> None:
    a = ball((20, 20, 20), (9.5, 9.5, 9.5), 5.0)
    b = ball((20, 20, 20), (10.5, 9.5, 9.5), 5.0)
    empty = np.zeros_like(a)
    masd, hd, nsd = MASDMetric(), HausdorffDistanceMetric(percentile=100), NSDMetric(tau=0.5)
    for metric in (masd, hd, nsd):
        metric(a, a, (1, 1, 1))
        metric(a, b, (1, 1, 1))
        metric(a, empty, (1, 1, 1))
    assert masd.aggregate()[0] == 0.0 and np.isnan(masd.aggregate()[2])
    assert hd.aggregate()[1] == compute_hausdorff_distance(a, b, (1, 1, 1), percentile=100)
    assert nsd.aggregate().tolist()[::2] == [1.0, 0.0]
    masd.reset()
    assert masd.aggregate().shape == (0,)
