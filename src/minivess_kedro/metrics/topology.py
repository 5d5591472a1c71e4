"""Topology errors: Betti numbers of the foreground (beyond MetricsReloaded, reported alongside).

Foreground uses 26-connectivity (closed voxel cubes that touch at a corner are connected), so
the background uses the complementary 6-connectivity and the image outside is background.

* b0: number of 26-connected foreground components (``scipy.ndimage.label``);
* b2: number of cavities, i.e. 6-connected background components not connected to the outside;
* b1 (tunnels, loops) from the Euler characteristic: chi = b0 - b1 + b2.

The errors are |b0(P) - b0(R)| and |b1(P) - b1(R)|.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from minivess_kedro.metrics._base import VolumeMetric
from minivess_kedro.metrics._bbox import bounding_box
from minivess_kedro.metrics._validation import as_binary_mask, check_same_shape

_FULL_26 = np.ones((3, 3, 3), dtype=bool)
_CROSS_6 = ndimage.generate_binary_structure(3, 1)


@dataclass(frozen=True)
class BettiNumbers:
    """Betti numbers and Euler characteristic of a 3D binary mask.

    Attributes:
        b0: connected components (26-connectivity).
        b1: independent loops (tunnels).
        b2: cavities (enclosed background).
        euler: Euler characteristic b0 - b1 + b2.
    """

    b0: int
    b1: int
    b2: int
    euler: int


def _or_shift(x: np.ndarray, axis: int) -> np.ndarray:
    """``x[i] | x[i + 1]`` along ``axis`` (one shorter along that axis)."""
    lo = [slice(None)] * x.ndim
    hi = [slice(None)] * x.ndim
    lo[axis] = slice(None, -1)
    hi[axis] = slice(1, None)
    return x[tuple(lo)] | x[tuple(hi)]


def euler_characteristic(mask: np.ndarray) -> int:
    """Euler characteristic of the union of the closed foreground voxel cubes.

    chi = V - E + F - C, counting each vertex, edge, face and cube of the union once: a face
    exists where either of its 2 voxels is foreground, an edge where any of its 4, a vertex
    where any of its 8. Equal to ``skimage.measure.euler_number(mask, connectivity=3)`` (the
    tests check it) but works on booleans: on a 512 x 512 x 100 vessel volume about 0.1-0.3 s
    and 100 MiB instead of 1.9 s and 410 MiB, where scikit-image convolves an int64 copy.

    Args:
        mask: boolean array of shape ``(H, W, D)``.

    Returns:
        The Euler characteristic (0 for an empty mask).
    """
    padded = np.pad(mask, 1)  # the outside is background
    cubes = np.count_nonzero(padded)
    faces = edges = 0
    vertices = 0
    for axis in range(3):
        face = _or_shift(padded, axis)
        faces += np.count_nonzero(face)
        # An edge along axis a+2 is shared by the 4 voxels around it in the (a, a+1) plane.
        edge = _or_shift(face, (axis + 1) % 3)
        edges += np.count_nonzero(edge)
        if axis == 0:
            vertices = np.count_nonzero(_or_shift(edge, 2))
        del face, edge
    return int(vertices - edges + faces - cubes)


def betti_numbers(mask: np.ndarray) -> BettiNumbers:
    """Betti numbers of a boolean mask of shape ``(H, W, D)`` (all 0 for an empty mask)."""
    box = bounding_box(mask)
    if box is None:
        return BettiNumbers(0, 0, 0, 0)
    crop = mask[box]  # outside the box is background: same topology, less work
    _, b0 = ndimage.label(crop, structure=_FULL_26)
    # One background layer around the crop joins every outside-touching background region
    # into one component; the other 6-connected background components are cavities.
    _, n_background = ndimage.label(np.pad(~crop, 1, constant_values=True), structure=_CROSS_6)
    b2 = n_background - 1
    euler = euler_characteristic(crop)
    return BettiNumbers(b0=int(b0), b1=int(b0 + b2 - euler), b2=int(b2), euler=euler)


def compute_betti_errors(pred: np.ndarray, ref: np.ndarray) -> dict[str, int]:
    """Betti-number errors of a binary mask pair and the numbers themselves.

    Args:
        pred: binary prediction of shape ``(H, W, D)``.
        ref: binary reference of shape ``(H, W, D)``.

    Returns:
        ``betti0_error``, ``betti1_error``, ``betti{0,1,2}_{pred,ref}`` and
        ``n_components_{pred,ref}`` (equal to b0).

    Raises:
        ValueError: on non-binary, non-3D or differently shaped masks.
    """
    pred_b = as_binary_mask(pred, "pred")
    ref_b = as_binary_mask(ref, "ref")
    check_same_shape(pred_b, ref_b)
    return betti_error_table(betti_numbers(pred_b), betti_numbers(ref_b))


def betti_error_table(pred: BettiNumbers, ref: BettiNumbers) -> dict[str, int]:
    """Flat dictionary of Betti errors and numbers for a prediction/reference pair."""
    return {
        "betti0_error": abs(pred.b0 - ref.b0),
        "betti1_error": abs(pred.b1 - ref.b1),
        "betti0_pred": pred.b0,
        "betti0_ref": ref.b0,
        "betti1_pred": pred.b1,
        "betti1_ref": ref.b1,
        "betti2_pred": pred.b2,
        "betti2_ref": ref.b2,
        "n_components_pred": pred.b0,
        "n_components_ref": ref.b0,
    }


class BettiErrorMetric(VolumeMetric):
    """|b_k(P) - b_k(R)| per volume for ``dimension`` k in {0, 1}.

    Args:
        dimension: 0 (components) or 1 (loops).

    Raises:
        ValueError: if ``dimension`` is not 0 or 1.
    """

    def __init__(self, dimension: int = 0) -> None:
        super().__init__()
        if dimension not in (0, 1):
            raise ValueError(f"dimension must be 0 or 1, got {dimension!r}.")
        self.dimension = dimension

    def _compute(self, pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float]) -> float:
        return float(compute_betti_errors(pred, ref)[f"betti{self.dimension}_error"])
