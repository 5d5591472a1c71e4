"""Seeded MiniVess-like volumes: vessel trees imaged by a simulated two-photon microscope.

The image formation follows the physics that makes real two-photon data hard to threshold:
per-vessel dye brightness, an anisotropic point-spread function (longer in z), exponential
attenuation with depth, smooth background autofluorescence, bright unlabelled cell bodies, and
Poisson (photon) plus Gaussian (read-out) noise. Output dtypes and geometry match MiniVess:
uint16 image, uint8 {0, 1} label, spacing in micrometres.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from minivess_kedro.data.rasterize import rasterize_vessels
from minivess_kedro.data.vessel_tree import TreeSettings, grow_vessel_tree

GENERATOR_VERSION = 1


@dataclass(frozen=True)
class SyntheticVolume:
    """One synthetic volume.

    Attributes:
        image: ``H x W x D`` uint16 fluorescence image.
        label: ``H x W x D`` uint8 vessel mask with values {0, 1}.
        spacing: voxel size per axis in micrometres.
        metadata: how it was made (seed, generator version, optics), JSON-serialisable.
    """

    image: np.ndarray
    label: np.ndarray
    spacing: tuple[float, float, float]
    metadata: dict


@dataclass(frozen=True)
class Optics:
    """Microscope and sample parameters of the simulation (micrometres where a length)."""

    psf_sigma_xy_um: float = 0.6
    psf_sigma_z_um: float = 2.2
    attenuation_length_um: tuple[float, float] = (45.0, 110.0)
    background_level: tuple[float, float] = (0.2, 0.45)
    cell_density_per_mm3: float = 9.0e4
    photons_at_unit_brightness: tuple[float, float] = (25.0, 60.0)
    read_noise: float = 2.0
    dark_offset: float = 200.0
    counts_per_photon: float = 20.0


def sample_spacing(rng: np.random.Generator) -> tuple[float, float, float]:
    """Draws a MiniVess-like spacing: isotropic in-plane, coarser in z (micrometres)."""
    in_plane = float(np.round(rng.uniform(0.6, 1.3), 3))
    return (in_plane, in_plane, float(np.round(rng.uniform(1.5, 3.0), 3)))


def _background(rng: np.random.Generator, shape: Sequence[int], level: float) -> np.ndarray:
    """Smooth autofluorescence: low-frequency noise, strictly positive."""
    coarse = rng.random(tuple(max(2, s // 16) for s in shape)).astype(np.float32)
    zoom = [s / c for s, c in zip(shape, coarse.shape, strict=True)]
    field = ndimage.zoom(coarse, zoom, order=3, mode="nearest", grid_mode=True)
    return level * (0.5 + np.clip(field, 0.0, 1.0))


def _cells(rng: np.random.Generator, shape: Sequence[int], spacing: np.ndarray, density: float) -> np.ndarray:
    """Unlabelled bright cell bodies (5 to 9 um across): the false positives of a threshold."""
    extent = np.asarray(shape) * spacing
    count = rng.poisson(density * np.prod(extent) / 1e9)
    cells = np.zeros(shape, dtype=np.float32)
    for _ in range(count):
        centre = rng.uniform(0, extent)
        radius = rng.uniform(2.5, 4.5)
        low = np.maximum(np.floor((centre - radius) / spacing).astype(int), 0)
        high = np.minimum(np.ceil((centre + radius) / spacing).astype(int) + 1, shape)
        if np.any(high <= low):
            continue
        box = tuple(slice(lo, hi) for lo, hi in zip(low, high, strict=True))
        grids = np.meshgrid(*(np.arange(s.start, s.stop) * d for s, d in zip(box, spacing, strict=True)), indexing="ij")
        inside = sum((g - c) ** 2 for g, c in zip(grids, centre, strict=True)) <= radius**2
        np.maximum(cells[box], inside * np.float32(rng.uniform(0.4, 1.1)), out=cells[box])
    return cells


def _image_formation(
    rng: np.random.Generator,
    brightness: np.ndarray,
    spacing: np.ndarray,
    optics: Optics,
) -> tuple[np.ndarray, dict]:
    shape = brightness.shape
    emitters = brightness + _cells(rng, shape, spacing, optics.cell_density_per_mm3)
    sigma = np.array([optics.psf_sigma_xy_um, optics.psf_sigma_xy_um, optics.psf_sigma_z_um]) / spacing
    blurred = ndimage.gaussian_filter(emitters, sigma=sigma, mode="nearest", truncate=3.0)
    background_level = rng.uniform(*optics.background_level)
    signal = blurred + _background(rng, shape, background_level)
    attenuation_length = rng.uniform(*optics.attenuation_length_um)
    depth_um = np.arange(shape[2], dtype=np.float32) * spacing[2]
    signal *= np.exp(-depth_um / attenuation_length)[None, None, :]
    photons_per_unit = rng.uniform(*optics.photons_at_unit_brightness)
    photons = rng.poisson(np.clip(signal, 0, None) * photons_per_unit).astype(np.float32)
    counts = optics.dark_offset + optics.counts_per_photon * photons
    counts += rng.normal(0.0, optics.read_noise * optics.counts_per_photon, shape).astype(np.float32)
    image = np.clip(np.rint(counts), 0, np.iinfo(np.uint16).max).astype(np.uint16)
    settings = {
        "psf_sigma_um": [optics.psf_sigma_xy_um, optics.psf_sigma_xy_um, optics.psf_sigma_z_um],
        "attenuation_length_um": round(float(attenuation_length), 3),
        "background_level": round(float(background_level), 4),
        "photons_at_unit_brightness": round(float(photons_per_unit), 3),
    }
    return image, settings


def generate_volume(
    seed: int,
    shape: Sequence[int] = (128, 128, 32),
    spacing: Sequence[float] | None = None,
    tree: TreeSettings | None = None,
    optics: Optics | None = None,
) -> SyntheticVolume:
    """Generates one MiniVess-like volume, identical for identical arguments.

    Args:
        seed: seed of everything random in this volume.
        shape: ``H x W x D`` in voxels (D is the depth axis, z).
        spacing: voxel size in micrometres; drawn from MiniVess-like ranges when ``None``.
        tree: vessel tree knobs.
        optics: microscope simulation knobs.

    Returns:
        The image, label, spacing and a metadata record.

    Raises:
        ValueError: a shape that is not 3D or has a side below 2, or a non-positive spacing.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or min(shape) < 2:
        raise ValueError(f"shape must be 3 sides of at least 2 voxels, got {shape}")
    rng = np.random.default_rng(seed)
    spacing = tuple(float(s) for s in spacing) if spacing is not None else sample_spacing(rng)
    if len(spacing) != 3 or min(spacing) <= 0:
        raise ValueError(f"spacing must be 3 positive values (micrometres), got {spacing}")
    spacing_arr = np.asarray(spacing)
    vessels = grow_vessel_tree(rng, np.asarray(shape) * spacing_arr, tree)
    mask, brightness = rasterize_vessels(vessels, shape, spacing_arr)
    image, optics_record = _image_formation(rng, brightness, spacing_arr, optics or Optics())
    metadata = {
        "synthetic": True,
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        "shape": list(shape),
        "spacing_um": list(spacing),
        "num_vessels": len(vessels),
        "vessel_fraction": round(float(mask.mean()), 6),
        **optics_record,
    }
    return SyntheticVolume(image, mask.astype(np.uint8), spacing, metadata)
