"""Volumetric overlap: the Dice similarity coefficient (DSC) over voxels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from minivess_kedro.metrics._base import VolumeMetric
from minivess_kedro.metrics._validation import as_binary_mask, check_same_shape


def dsc_from_counts(n_pred: int, n_ref: int, n_both: int) -> float:
    """DSC = 2 |P and R| / (|P| + |R|), and 1 when both masks are empty.

    Args:
        n_pred: number of foreground voxels of the prediction.
        n_ref: number of foreground voxels of the reference.
        n_both: number of voxels in both.
    """
    if n_pred + n_ref == 0:
        return 1.0
    return float(2.0 * n_both / (n_pred + n_ref))


def dsc_of_masks(pred: np.ndarray, ref: np.ndarray) -> float:
    """Unchecked DSC of two boolean masks of the same shape."""
    return dsc_from_counts(np.count_nonzero(pred), np.count_nonzero(ref), np.count_nonzero(pred & ref))


def compute_dsc(pred: np.ndarray, ref: np.ndarray) -> float:
    """Dice similarity coefficient of a binary mask pair (spacing is not used).

    Args:
        pred: binary prediction of shape ``(H, W, D)`` (bool or 0/1).
        ref: binary reference of shape ``(H, W, D)``.

    Returns:
        DSC in [0, 1]; 1 if both masks are empty, 0 if exactly one is.

    Raises:
        ValueError: on non-binary, non-3D or differently shaped masks.
    """
    pred_b = as_binary_mask(pred, "pred")
    ref_b = as_binary_mask(ref, "ref")
    check_same_shape(pred_b, ref_b)
    return dsc_of_masks(pred_b, ref_b)


class DSCMetric(VolumeMetric):
    """Dice similarity coefficient per volume (see :func:`compute_dsc`)."""

    def _compute(self, pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float]) -> float:
        return compute_dsc(pred, ref)
