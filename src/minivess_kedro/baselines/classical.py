"""Otsu thresholding and Frangi vesselness (scikit-image) as segmentation baselines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from skimage.filters import frangi, threshold_otsu

from minivess_kedro.metrics import compute_dsc


@dataclass(frozen=True)
class FrangiSettings:
    """Frangi filter settings.

    Attributes:
        sigmas: Gaussian scales in voxels (scikit-image's filter is isotropic in voxel space).
        thresholds: candidate thresholds on the per-volume max-normalised vesselness; the one with
            the best mean DSC on the training volumes is kept.
    """

    sigmas: tuple[float, ...] = (1.0, 2.0, 3.0)
    thresholds: tuple[float, ...] = tuple(float(t) for t in np.round(np.geomspace(0.002, 0.6, 40), 4))


def otsu_segmentation(image: np.ndarray) -> np.ndarray:
    """Voxels above Otsu's threshold of the volume's histogram, ``H x W x D`` uint8."""
    values = np.asarray(image, dtype=np.float32)
    return (values > threshold_otsu(values)).astype(np.uint8)


def vesselness(image: np.ndarray, settings: FrangiSettings) -> np.ndarray:
    """Bright-tube Frangi vesselness, scaled to [0, 1] by the volume's maximum."""
    values = np.asarray(image, dtype=np.float32)
    values = (values - values.mean()) / max(float(values.std()), 1e-6)
    response = frangi(values, sigmas=settings.sigmas, black_ridges=False)
    return (response / max(float(response.max()), 1e-12)).astype(np.float32)


def fit_frangi_threshold(volumes: Iterable[tuple[np.ndarray, np.ndarray]], settings: FrangiSettings) -> float:
    """The candidate threshold with the best mean DSC over the training volumes.

    Each volume's vesselness is scored at every candidate and dropped before the next volume is
    read, so a generator of ``(image, label)`` keeps one volume in memory (a MiniVess volume's
    vesselness alone is about 110 MB in float32; every training volume at once, several GB).

    Args:
        volumes: ``(image, label)`` pairs, ``H x W x D`` each.
        settings: the filter's scales and the candidate thresholds.

    Raises:
        ValueError: no volumes.
    """
    totals = np.zeros(len(settings.thresholds))
    count = 0
    for image, label in volumes:
        response, reference = vesselness(image, settings), np.asarray(label).astype(bool)
        totals += [compute_dsc(response > t, reference) for t in settings.thresholds]
        count += 1
        del image, label, response, reference  # before the next volume is read
    if not count:
        raise ValueError("no volumes to fit the Frangi threshold on")
    return float(settings.thresholds[int(np.argmax(totals / count))])


def frangi_segmentation(image: np.ndarray, threshold: float, settings: FrangiSettings) -> np.ndarray:
    """Vesselness above ``threshold``, ``H x W x D`` uint8."""
    return (vesselness(image, settings) > threshold).astype(np.uint8)
