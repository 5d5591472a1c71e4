"""Voxelisation of capsule chains (vessels) on an anisotropic grid."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from minivess_kedro.data.vessel_tree import Vessel


def _segment_box(
    start: np.ndarray, end: np.ndarray, radius: float, spacing: np.ndarray, shape: Sequence[int]
) -> tuple[slice, ...] | None:
    low = np.floor((np.minimum(start, end) - radius) / spacing).astype(int)
    high = np.ceil((np.maximum(start, end) + radius) / spacing).astype(int) + 1
    low, high = np.maximum(low, 0), np.minimum(high, shape)
    if np.any(high <= low):
        return None
    return tuple(slice(lo, hi) for lo, hi in zip(low, high, strict=True))


def rasterize_vessels(
    vessels: Sequence[Vessel], shape: Sequence[int], spacing: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Marks every voxel centre inside a vessel's tapered capsules.

    Args:
        vessels: vessels with centrelines and radii in micrometres.
        shape: grid shape ``H x W x D``.
        spacing: voxel size per axis, micrometres.

    Returns:
        ``(mask, brightness)``: boolean ``H x W x D`` lumen mask, and the float32 brightness of
        the brightest vessel covering each voxel (0 outside vessels).
    """
    spacing_arr = np.asarray(spacing, dtype=float)
    mask = np.zeros(shape, dtype=bool)
    brightness = np.zeros(shape, dtype=np.float32)
    for vessel in vessels:
        for i in range(len(vessel.points) - 1):
            start, end = vessel.points[i], vessel.points[i + 1]
            r0, r1 = float(vessel.radii[i]), float(vessel.radii[i + 1])
            box = _segment_box(start, end, max(r0, r1), spacing_arr, shape)
            if box is None:
                continue
            grids = np.meshgrid(
                *(np.arange(s.start, s.stop) * d for s, d in zip(box, spacing_arr, strict=True)), indexing="ij"
            )
            coords = np.stack(grids, axis=-1)
            direction = end - start
            length2 = max(float(direction @ direction), 1e-12)
            t = np.clip(((coords - start) @ direction) / length2, 0.0, 1.0)
            distance = np.linalg.norm(coords - (start + t[..., None] * direction), axis=-1)
            inside = distance <= r0 + t * (r1 - r0)
            mask[box] |= inside
            np.maximum(brightness[box], inside * np.float32(vessel.brightness), out=brightness[box])
    return mask, brightness
