"""Connected-component clean-up: drop small islands, fill small holes (physical sizes)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.morphology import remove_small_objects


@dataclass(frozen=True)
class ComponentSettings:
    """Sizes in cubic micrometres (converted to voxels with the volume's spacing).

    Attributes:
        min_volume_um3: components (26-connected) smaller than this are removed.
        max_hole_um3: cavities (6-connected background enclosed by the mask) of at most this
            size are filled.
    """

    min_volume_um3: float = 100.0
    max_hole_um3: float = 50.0


def clean_components(mask: np.ndarray, spacing: Sequence[float], settings: ComponentSettings) -> np.ndarray:
    """Removes small components and fills small holes of a binary mask.

    Args:
        mask: ``H x W x D`` binary prediction.
        spacing: voxel size in micrometres.
        settings: the physical size limits.

    Returns:
        The cleaned ``H x W x D`` uint8 mask.
    """
    voxel_um3 = float(np.prod(spacing))
    # scikit-image removes sizes <= max_size: "smaller than V um^3" is ceil(V / voxel) - 1 voxels.
    largest_island = max(0, math.ceil(settings.min_volume_um3 / voxel_um3) - 1)
    largest_hole = math.floor(settings.max_hole_um3 / voxel_um3)
    cleaned = remove_small_objects(mask.astype(bool), max_size=largest_island, connectivity=3)
    # A hole is a cavity enclosed by the mask: background that touches the image border is not one
    # (scikit-image's remove_small_holes would fill a small background that touches it).
    cavities = ndimage.binary_fill_holes(cleaned) & ~cleaned
    labels, count = ndimage.label(cavities)
    if count:
        sizes = ndimage.sum_labels(cavities, labels, index=np.arange(1, count + 1))
        cleaned |= np.isin(labels, 1 + np.flatnonzero(sizes <= largest_hole))
    return cleaned.astype(np.uint8)
