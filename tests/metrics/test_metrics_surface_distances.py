"""Border maps and directed border distances: closed forms, brute force and the EDT path."""

from __future__ import annotations

import numpy as np
import pytest
from metrics_shapes import (
    box_border_coords,
    box_mask,
    distance_to_box_border,
)
from scipy import ndimage
from scipy.spatial.distance import cdist

from minivess_kedro.metrics import (
    border_map,
    compute_hausdorff_distance,
    compute_masd,
    compute_nsd,
    compute_surface_distances,
    evaluate_pair,
)
from minivess_kedro.metrics.surface_distances import scaled_norm, surface_distances
from minivess_kedro.tools.edt_reference import edt_surface_distances

F32_SPACING = tuple(float(s) for s in np.float32([0.7, 0.7, 5.0]))  # as read from a header


# ---------------------------------------------------------------- border map


def test_border_of_a_box_inside_the_image_is_its_six_faces() -> None:
    mask = box_mask((12, 12, 12), ((2, 8), (3, 9), (4, 10)))
    border = border_map(mask)
    assert border.sum() == 7**3 - 5**3
    assert not border[3:8, 4:9, 5:10].any()


def test_voxels_on_the_image_edge_are_border_voxels() -> None:
    full = np.ones((6, 7, 8), dtype=bool)
    assert border_map(full).sum() == 6 * 7 * 8 - 4 * 5 * 6
    slab = box_mask((6, 7, 8), ((0, 5), (0, 6), (3, 4)))  # touches four image faces
    assert border_map(slab).sum() == slab.sum()  # two layers thick: all border


def test_one_voxel_mask_is_its_own_border() -> None:
    mask = np.zeros((5, 5, 5), dtype=bool)
    mask[0, 4, 2] = True
    assert np.array_equal(border_map(mask), mask)
    assert not border_map(np.zeros((5, 5, 5), dtype=bool)).any()


# ---------------------------------------------------------------- closed forms

BOX_PAIRS = [
    # (shape, pred box, ref box): bars ("square tubes"), nested, disjoint, touching the edge
    ((24, 20, 10), ((4, 12), (5, 11), (0, 9)), ((6, 14), (5, 11), (0, 9))),
    ((24, 20, 10), ((0, 23), (0, 19), (0, 9)), ((5, 15), (4, 12), (2, 7))),
    ((24, 20, 10), ((2, 4), (2, 4), (1, 2)), ((15, 22), (10, 18), (6, 9))),
    ((24, 20, 10), ((7, 7), (9, 9), (4, 4)), ((3, 18), (2, 16), (1, 8))),
    ((30, 8, 6), ((0, 29), (2, 5), (1, 4)), ((0, 29), (3, 7), (0, 5))),
]


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), F32_SPACING, (0.3, 1.1, 2.0)])
@pytest.mark.parametrize(("shape", "pred_box", "ref_box"), BOX_PAIRS)
def test_box_distances_match_the_closed_form(shape, pred_box, ref_box, spacing) -> None:
    pred, ref = box_mask(shape, pred_box), box_mask(shape, ref_box)
    expected_pr = distance_to_box_border(box_border_coords(pred_box), ref_box, spacing)
    expected_rp = distance_to_box_border(box_border_coords(ref_box), pred_box, spacing)

    got = compute_surface_distances(pred, ref, spacing)
    np.testing.assert_allclose(got.pred_to_ref, expected_pr, rtol=1e-12, atol=0)
    np.testing.assert_allclose(got.ref_to_pred, expected_rp, rtol=1e-12, atol=0)

    masd = (expected_pr.mean() + expected_rp.mean()) / 2
    hd95 = max(np.percentile(expected_pr, 95), np.percentile(expected_rp, 95))
    tau = 2.0
    nsd = ((expected_pr <= tau).sum() + (expected_rp <= tau).sum()) / (expected_pr.size + expected_rp.size)
    assert compute_masd(pred, ref, spacing) == pytest.approx(masd, rel=1e-12)
    assert compute_hausdorff_distance(pred, ref, spacing) == pytest.approx(hd95, rel=1e-12)
    assert compute_nsd(pred, ref, spacing, tau=tau) == pytest.approx(nsd, rel=1e-12)


@pytest.mark.parametrize("offset", [(0, 0, 1), (3, 0, 0), (1, 2, 2), (-4, 3, -1), (7, -7, 2)])
def test_one_voxel_pair_at_a_known_offset(offset) -> None:
    spacing = (0.5, 0.8, 3.0)
    pred = np.zeros((20, 20, 8), dtype=bool)
    ref = np.zeros_like(pred)
    pred[9, 9, 3] = True
    ref[9 + offset[0], 9 + offset[1], 3 + offset[2]] = True
    d = float(np.sqrt(sum((o * s) ** 2 for o, s in zip(offset, spacing, strict=True))))
    result = evaluate_pair(pred, ref, spacing, nsd_tau=d)
    assert result["masd"] == pytest.approx(d, rel=1e-12)
    assert result["hd95"] == pytest.approx(d, rel=1e-12)
    assert result["nsd"] == 1.0  # tau is inclusive
    assert evaluate_pair(pred, ref, spacing, nsd_tau=d * (1 - 1e-9))["nsd"] == 0.0
    assert result["dsc"] == 0.0
    voxel = evaluate_pair(pred, ref, spacing, distance_units="voxel")
    assert voxel["masd"] == pytest.approx(float(np.linalg.norm(offset)), rel=1e-12)


def test_parallel_plates_spanning_the_image() -> None:
    """One-voxel plates across the whole image (every voxel on the edge): d = gap * sz."""
    spacing = F32_SPACING
    pred = np.zeros((16, 12, 9), dtype=bool)
    ref = np.zeros_like(pred)
    pred[:, :, 2] = True
    ref[:, :, 5] = True
    d = 3 * spacing[2]
    result = evaluate_pair(pred, ref, spacing, nsd_tau=1.0)
    assert result["masd"] == pytest.approx(d, rel=1e-12)
    assert result["hd95"] == pytest.approx(d, rel=1e-12)
    assert result["nsd"] == 0.0
    assert result["n_border_pred"] == result["n_border_ref"] == 16 * 12


# ---------------------------------------------------------------- against oracles


def _random_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    shape = tuple(int(n) for n in rng.integers(6, 28, size=3))
    sigma = rng.uniform(0.6, 2.5)
    a = ndimage.gaussian_filter(rng.standard_normal(shape), sigma) > rng.uniform(0, 0.3)
    b = ndimage.gaussian_filter(rng.standard_normal(shape), sigma) > rng.uniform(0, 0.3)
    a[0, 0, 0] = b[-1, -1, -1] = True  # never empty, always touching the image edge
    return a, b


@pytest.mark.parametrize("seed", range(12))
def test_kdtree_path_equals_full_volume_edt_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pred, ref = _random_pair(rng)
    spacing = (F32_SPACING, (1.0, 1.0, 1.0), (0.7, 0.7, 5.0), (0.31, 0.62, 1.7))[seed % 4]
    fast = surface_distances(pred, ref, spacing)
    slow = edt_surface_distances(pred, ref, spacing)
    assert np.array_equal(fast.pred_to_ref, slow.pred_to_ref)
    assert np.array_equal(fast.ref_to_pred, slow.ref_to_pred)


@pytest.mark.parametrize("seed", range(4))
def test_directed_distances_equal_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    pred, ref = _random_pair(rng)
    spacing = (0.4, 0.9, 2.2)
    coords_p = np.argwhere(border_map(pred)) * spacing
    coords_r = np.argwhere(border_map(ref)) * spacing
    got = compute_surface_distances(pred, ref, spacing)
    np.testing.assert_allclose(got.pred_to_ref, cdist(coords_p, coords_r).min(1), rtol=1e-12)
    np.testing.assert_allclose(got.ref_to_pred, cdist(coords_r, coords_p).min(1), rtol=1e-12)


def _special_pairs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    shape = (20, 18, 9)
    box = box_mask(shape, ((3, 12), (4, 11), (2, 6)))
    voxel = np.zeros(shape, dtype=bool)
    voxel[16, 2, 7] = True
    grown = ndimage.binary_dilation(box, ndimage.generate_binary_structure(3, 1))
    edge = box_mask(shape, ((0, 19), (0, 5), (0, 8)))  # touches five image faces
    return {
        "identical (every border voxel shared)": (box, box.copy()),
        "disjoint (no shared voxel)": (
            box_mask(shape, ((0, 2), (0, 2), (0, 2))),
            box_mask(shape, ((15, 19), (14, 17), (6, 8))),
        ),
        "one-voxel target": (box, voxel),
        "one-voxel query": (voxel, box),
        "grown by one voxel": (grown, box),
        "touching the image edges": (edge, box),
    }


@pytest.mark.parametrize("spacing", [F32_SPACING, (1.0, 1.0, 1.0)])
@pytest.mark.parametrize("case", list(_special_pairs()))
def test_special_configurations_equal_the_edt_path(case: str, spacing) -> None:
    pred, ref = _special_pairs()[case]
    fast = surface_distances(pred, ref, spacing)
    slow = edt_surface_distances(pred, ref, spacing)
    assert np.array_equal(fast.pred_to_ref, slow.pred_to_ref)
    assert np.array_equal(fast.ref_to_pred, slow.ref_to_pred)


def test_equidistant_neighbours_resolve_to_the_smallest_float() -> None:
    """Offsets (5, 0) and (3, 4) are equally far in reals but not in floats at 0.7 um."""
    scale = np.array([0.7, 0.7, 5.0])
    straight, diagonal = scaled_norm(np.array([[5, 0, 0], [3, 4, 0]]), scale)
    assert straight != diagonal  # the case is only meaningful if the floats differ
    pred = np.zeros((20, 20, 5), dtype=bool)
    ref = np.zeros_like(pred)
    pred[8, 8, 2] = True
    ref[13, 8, 2] = ref[11, 12, 2] = True
    got = surface_distances(pred, ref, (0.7, 0.7, 5.0))
    assert got.pred_to_ref[0] == min(straight, diagonal)
    slow = edt_surface_distances(pred, ref, (0.7, 0.7, 5.0))
    assert got.pred_to_ref[0] == slow.pred_to_ref[0]


def test_shared_border_voxels_are_at_distance_zero_and_keep_raster_order() -> None:
    pred = box_mask((10, 10, 10), ((2, 6), (2, 6), (2, 6)))
    ref = box_mask((10, 10, 10), ((2, 7), (2, 6), (2, 6)))
    got = compute_surface_distances(pred, ref, (1.0, 1.0, 1.0))
    coords = np.argwhere(border_map(pred))  # C order
    shared = border_map(ref)[tuple(coords.T)]
    assert np.all(got.pred_to_ref[shared] == 0)
    assert np.all(got.pred_to_ref[~shared] > 0)
    assert shared.sum() == border_map(pred).sum() - 3 * 3  # interior of the x = 6 face


def test_empty_masks_give_empty_or_infinite_directed_distances() -> None:
    empty = np.zeros((6, 6, 6), dtype=bool)
    one = empty.copy()
    one[1:3, 1:3, 1:3] = True
    got = compute_surface_distances(empty, one, (1.0, 1.0, 1.0))
    assert got.n_border_pred == 0 and got.n_border_ref == 8
    assert np.all(np.isinf(got.ref_to_pred))
