"""Border (surface) voxels of a binary mask, as MetricsReloaded defines them.

The border of a mask is the mask minus its binary erosion by the 6-connected cross, with voxels
outside the image counted as background: a foreground voxel on the image edge is a border voxel.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from minivess_kedro.metrics._bbox import bounding_box

# 6-connected cross: a voxel is interior only if its 6 face neighbours are foreground.
_CROSS = ndimage.generate_binary_structure(3, 1)


def border_map(mask: np.ndarray) -> np.ndarray:
    """Border voxels of ``mask``.

    Args:
        mask: boolean array of shape ``(H, W, D)``.

    Returns:
        Boolean array of shape ``(H, W, D)``, ``True`` on border voxels.
    """
    border = np.zeros(mask.shape, dtype=bool)
    box = bounding_box(mask)
    if box is None:
        return border
    # Outside the bounding box everything is background, so eroding the crop with
    # border_value=0 gives exactly the erosion of the full volume, in less time.
    crop = mask[box]
    eroded = ndimage.binary_erosion(crop, structure=_CROSS, border_value=0)
    border[box] = np.logical_xor(crop, eroded, out=eroded)
    return border
