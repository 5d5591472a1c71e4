"""Connected-component clean-up: drop small islands, fill small holes (physical sizes)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from skimage.morphology import remove_small_holes, remove_small_objects


@dataclass(frozen=True)
class ComponentSettings:
    """Sizes in cubic micrometres (converted to voxels with the volume's spacing).

    Attributes:
        min_volume_um3: components (26-connected) smaller than this are removed.
        max_hole_um3: background cavities (6-connected) smaller than this are filled.
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
    largest_hole = max(0, math.ceil(settings.max_hole_um3 / voxel_um3) - 1)
    cleaned = remove_small_objects(mask.astype(bool), max_size=largest_island, connectivity=3)
    cleaned = remove_small_holes(cleaned, max_size=largest_hole, connectivity=1)
    return cleaned.astype(np.uint8)
