"""Where a loss leaves the device: the only crossings between its tensors and NumPy.

Three losses need a computation torch does not have on the device: warp's critical voxels (simple
points, scipy), topo's persistence (gudhi) and cbDice's distance transform (MONAI's
``distance_transform_edt``: cuCIM on a CUDA tensor when the ``gpu`` extra is installed, scipy
otherwise). Every crossing goes through this module, and whatever comes back lands on the device
of the tensor it belongs to, so that a loss never mixes a CPU tensor into a GPU computation. The
device test (``tests/losses/test_loss_device.py``) replaces these functions to run every loss on
the meta device, where any tensor left behind on the CPU is an error, as on CUDA.
"""

from __future__ import annotations

import numpy as np
import torch
from monai.transforms import distance_transform_edt


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A detached host copy of ``tensor``."""
    return tensor.detach().cpu().numpy()


def to_device(array: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """``array`` as a tensor on ``like``'s device (its own dtype)."""
    return torch.from_numpy(np.ascontiguousarray(array)).to(like.device)


def distance_map(masks: torch.Tensor) -> torch.Tensor:
    """Euclidean distance of each foreground voxel to the background, in voxels, on ``masks``' device.

    Args:
        masks: ``N x H x W x D`` binary masks (float or bool), each transformed on its own.

    Returns:
        float32 ``N x H x W x D``: on a CUDA tensor with cuCIM installed computed there, otherwise
        by scipy on the CPU and copied back (equal to ``scipy.ndimage.distance_transform_edt``).
    """
    return distance_transform_edt(masks).float().to(masks.device)
