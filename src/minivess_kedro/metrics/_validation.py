"""Input checks shared by every per-volume metric.

Bad input fails here, loudly and before any expensive work, with a message that names the
argument and what is wrong with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

DistanceUnits = Literal["physical", "voxel"]
DISTANCE_UNITS: tuple[str, ...] = ("physical", "voxel")


def as_binary_mask(mask: np.ndarray, name: str) -> np.ndarray:
    """Return ``mask`` as a C-contiguous boolean 3D array.

    Args:
        mask: array of shape ``(H, W, D)`` holding only 0 and 1 (any numeric dtype) or bool.
        name: argument name used in error messages (``"pred"``, ``"ref"``).

    Returns:
        Boolean array of shape ``(H, W, D)``.

    Raises:
        ValueError: if ``mask`` is not a numpy array, is not 3D, is empty or holds values other
            than 0 and 1.
    """
    if not isinstance(mask, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(mask).__name__}.")
    if mask.ndim != 3:
        raise ValueError(f"{name} must be a 3D array (H, W, D), got shape {mask.shape}.")
    if mask.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {mask.shape}.")
    if mask.dtype == np.bool_:
        return np.ascontiguousarray(mask)
    if not (np.issubdtype(mask.dtype, np.integer) or np.issubdtype(mask.dtype, np.floating)):
        raise ValueError(f"{name} must be boolean or numeric 0/1, got dtype {mask.dtype}.")
    is_one = mask == 1
    # Two comparisons instead of np.unique: no sort of a 26-million-voxel volume.
    if not np.all(is_one | (mask == 0)):
        bad = np.unique(mask[~(is_one | (mask == 0))])[:5]
        raise ValueError(f"{name} must be binary (only 0 and 1), found other values such as {bad.tolist()}.")
    return np.ascontiguousarray(is_one)


def check_same_shape(pred: np.ndarray, ref: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``pred`` and ``ref`` have the same shape."""
    if pred.shape != ref.shape:
        raise ValueError(f"pred and ref must have the same shape, got {pred.shape} and {ref.shape}.")


def check_spacing(spacing: Sequence[float]) -> tuple[float, float, float]:
    """Validate a voxel spacing and return it as three Python floats.

    Args:
        spacing: three finite, strictly positive voxel sizes (H, W, D order), e.g. the NIfTI
            header zooms in micrometres.

    Raises:
        ValueError: if ``spacing`` does not hold exactly three finite positive numbers.
    """
    try:
        values = tuple(float(s) for s in spacing)
    except (TypeError, ValueError) as err:
        raise ValueError(f"spacing must be three positive numbers, got {spacing!r}.") from err
    if len(values) != 3:
        raise ValueError(f"spacing must have 3 values (one per axis), got {len(values)}: {values}.")
    if not all(math.isfinite(s) and s > 0 for s in values):
        raise ValueError(f"spacing must be finite and strictly positive, got {values}.")
    return values  # type: ignore[return-value]


def resolve_spacing(spacing: Sequence[float], distance_units: str) -> tuple[float, float, float]:
    """Spacing used for distances: the header spacing, or unit spacing for ``"voxel"``.

    The header spacing is validated in both cases, so a bad header never goes unnoticed.

    Raises:
        ValueError: on a bad spacing or an unknown ``distance_units``.
    """
    checked = check_spacing(spacing)
    if distance_units not in DISTANCE_UNITS:
        raise ValueError(f"distance_units must be one of {DISTANCE_UNITS}, got {distance_units!r}.")
    return (1.0, 1.0, 1.0) if distance_units == "voxel" else checked


def check_tolerance(tau: float, name: str = "nsd_tau") -> float:
    """Validate the NSD tolerance (finite, >= 0) and return it as a float."""
    try:
        value = float(tau)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a number, got {tau!r}.") from err
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {tau!r}.")
    return value


def check_percentile(percentile: float) -> float:
    """Validate a Hausdorff percentile in [0, 100] and return it as a float."""
    try:
        value = float(percentile)
    except (TypeError, ValueError) as err:
        raise ValueError(f"percentile must be a number, got {percentile!r}.") from err
    if not 0.0 <= value <= 100.0:
        raise ValueError(f"percentile must lie in [0, 100], got {percentile!r}.")
    return value
