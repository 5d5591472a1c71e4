"""Otsu thresholding and Frangi vesselness (scikit-image) as segmentation baselines."""

from __future__ import annotations

from collections.abc import Sequence
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


def fit_frangi_threshold(images: Sequence[np.ndarray], labels: Sequence[np.ndarray], settings: FrangiSettings) -> float:
    """The candidate threshold with the best mean DSC over the training volumes."""
    responses = [vesselness(image, settings) for image in images]
    scores = [
        np.mean([compute_dsc(r > t, label.astype(bool)) for r, label in zip(responses, labels, strict=True)])
        for t in settings.thresholds
    ]
    return float(settings.thresholds[int(np.argmax(scores))])


def frangi_segmentation(image: np.ndarray, threshold: float, settings: FrangiSettings) -> np.ndarray:
    """Vesselness above ``threshold``, ``H x W x D`` uint8."""
    return (vesselness(image, settings) > threshold).astype(np.uint8)
