"""Centreline DSC (clDice) on skeletons that are bit-identical to scikit-image's.

S_P, S_R are the 3D skeletons of P and R by Lee's thinning (``skimage.morphology.skeletonize``
on the 3D volume). Tprec = |S_P and R| / |S_P|, Tsens = |S_R and P| / |S_R| and
clDice = 2 Tprec Tsens / (Tprec + Tsens). Policy: 1 if both masks are empty, 0 if exactly one
is, 0 if neither skeleton overlaps the other mask (MetricsReloaded returns NaN in these cases).
Also 0, the worst value, when a non-empty mask has an empty skeleton: scikit-image's thinning
deletes some even-width objects entirely (scikit-image issue #3757), Tprec or Tsens is then
0/0 and MetricsReloaded returns NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from skimage.morphology import skeletonize

from minivess_kedro.metrics._base import VolumeMetric
from minivess_kedro.metrics._bbox import bounding_box
from minivess_kedro.metrics._validation import as_binary_mask, check_same_shape


def skeleton(mask: np.ndarray) -> np.ndarray:
    """3D skeleton of ``mask``, exactly ``skimage.morphology.skeletonize(mask)``.

    Thinning only looks at 3x3x3 neighbourhoods and scikit-image pads the image with
    background, so skeletonizing the foreground's bounding box gives the same voxels as the
    whole volume (the tests check this), in less time for sparse masks.

    Args:
        mask: boolean array of shape ``(H, W, D)``.

    Returns:
        Boolean array of shape ``(H, W, D)``.
    """
    out = np.zeros(mask.shape, dtype=bool)
    box = bounding_box(mask)
    if box is not None:
        out[box] = skeletonize(mask[box])
    return out


def skeletons(pred: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Skeletons of both masks, computed concurrently (the thinning releases the GIL)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        skel_pred, skel_ref = pool.map(skeleton, (pred, ref))
    return skel_pred, skel_ref


def cldice_from_skeletons(pred: np.ndarray, ref: np.ndarray, skel_pred: np.ndarray, skel_ref: np.ndarray) -> float:
    """clDice from boolean masks and their skeletons, all of shape ``(H, W, D)``."""
    n_skel_pred = np.count_nonzero(skel_pred)
    n_skel_ref = np.count_nonzero(skel_ref)
    pred_empty = not pred.any()
    ref_empty = not ref.any()
    if pred_empty and ref_empty:
        return 1.0
    if pred_empty or ref_empty or n_skel_pred == 0 or n_skel_ref == 0:
        return 0.0
    tprec = np.count_nonzero(skel_pred & ref) / n_skel_pred
    tsens = np.count_nonzero(skel_ref & pred) / n_skel_ref
    if tprec + tsens == 0:
        return 0.0
    return float(2.0 * tprec * tsens / (tprec + tsens))


def compute_cldice(pred: np.ndarray, ref: np.ndarray) -> float:
    """Centreline DSC (clDice) of a binary mask pair (spacing is not used).

    Args:
        pred: binary prediction of shape ``(H, W, D)``.
        ref: binary reference of shape ``(H, W, D)``.

    Returns:
        clDice in [0, 1] under the empty-mask policy of the module docstring.

    Raises:
        ValueError: on non-binary, non-3D or differently shaped masks.
    """
    pred_b = as_binary_mask(pred, "pred")
    ref_b = as_binary_mask(ref, "ref")
    check_same_shape(pred_b, ref_b)
    return cldice_from_skeletons(pred_b, ref_b, *skeletons(pred_b, ref_b))


class CentrelineDSCMetric(VolumeMetric):
    """clDice per volume (see :func:`compute_cldice`)."""

    def _compute(self, pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float]) -> float:
        return compute_cldice(pred, ref)
