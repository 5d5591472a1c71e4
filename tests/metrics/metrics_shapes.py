"""Synthetic masks and closed-form border distances for the metrics tests."""

from __future__ import annotations

import json
import math
from pathlib import Path

import nibabel as nib
import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = PROJECT_ROOT.parent / "shared" / "reference" / "metric_cases"

Box = tuple[tuple[int, int], tuple[int, int], tuple[int, int]]  # inclusive index ranges


def load_expected() -> dict:
    """expected.json of the shared reference cases (fails loudly when the folder is missing)."""
    path = REFERENCE_DIR / "expected.json"
    if not path.is_file():
        raise FileNotFoundError(f"reference cases not found at {path}")
    return json.loads(path.read_text())


def load_case(case: str) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """Prediction, reference and header spacing of one reference case."""
    pred_img = nib.load(REFERENCE_DIR / f"{case}_pred.nii.gz")
    ref_img = nib.load(REFERENCE_DIR / f"{case}_ref.nii.gz")
    spacing = tuple(float(z) for z in pred_img.header.get_zooms()[:3])
    assert spacing == tuple(float(z) for z in ref_img.header.get_zooms()[:3])
    return np.asanyarray(pred_img.dataobj), np.asanyarray(ref_img.dataobj), spacing


def box_mask(shape: tuple[int, int, int], box: Box) -> np.ndarray:
    """Boolean mask of an axis-aligned box given by inclusive index ranges."""
    mask = np.zeros(shape, dtype=bool)
    mask[tuple(slice(lo, hi + 1) for lo, hi in box)] = True
    return mask


def box_border_coords(box: Box) -> np.ndarray:
    """(N, 3) coordinates of a box's border voxels (those on one of its six faces), C order."""
    grids = np.meshgrid(*[np.arange(lo, hi + 1) for lo, hi in box], indexing="ij")
    coords = np.stack([g.ravel() for g in grids], axis=1)
    on_face = np.zeros(len(coords), dtype=bool)
    for axis, (lo, hi) in enumerate(box):
        on_face |= (coords[:, axis] == lo) | (coords[:, axis] == hi)
    return coords[on_face]


def distance_to_box_border(coords: np.ndarray, box: Box, spacing) -> np.ndarray:
    """Closed-form distance from voxels to the nearest border voxel of a box.

    Inside the box the nearest border voxel is the foot of the perpendicular on the nearest
    face; outside it is the clamped point, which lies on a face.
    """
    lo = np.array([b[0] for b in box])
    hi = np.array([b[1] for b in box])
    s = np.asarray(spacing, dtype=np.float64)
    inside = np.all((coords >= lo) & (coords <= hi), axis=1)
    out = np.empty(len(coords))
    to_face = np.minimum(coords - lo, hi - coords) * s
    out[inside] = to_face[inside].min(axis=1)
    gap = (coords - np.clip(coords, lo, hi)) * s
    out[~inside] = np.sqrt((gap[~inside] ** 2).sum(axis=1))
    return out


def ball(shape: tuple[int, int, int], centre, radius: float, spacing=(1.0, 1.0, 1.0)) -> np.ndarray:
    """Digital ball: voxels whose centre lies within ``radius`` (physical) of ``centre``."""
    grids = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    d2 = sum(((g - c) * s) ** 2 for g, c, s in zip(grids, centre, spacing, strict=True))
    return d2 <= radius**2


def tube_z(shape: tuple[int, int, int], centre_xy, radius: float, spacing=(1.0, 1.0, 1.0)):
    """Straight tube along the last axis spanning the whole volume (touches two image faces)."""
    x, y = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    disc = ((x - centre_xy[0]) * spacing[0]) ** 2 + ((y - centre_xy[1]) * spacing[1]) ** 2
    return np.repeat((disc <= radius**2)[:, :, None], shape[2], axis=2)


def torus(shape, centre, major: float, minor: float) -> np.ndarray:
    """Solid torus around the last axis (one loop: b0 = 1, b1 = 1, b2 = 0)."""
    x, y, z = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    ring = np.sqrt((x - centre[0]) ** 2 + (y - centre[1]) ** 2)
    return (ring - major) ** 2 + (z - centre[2]) ** 2 <= minor**2


def diagonal(shape, spacing) -> float:
    """Physical diagonal between the first and last voxel centres."""
    return math.sqrt(sum(((n - 1) * s) ** 2 for n, s in zip(shape, spacing, strict=True)))
