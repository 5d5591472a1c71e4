"""The ``components`` clean-up as a MONAI dictionary transform, for MONAI Bundle configs.

Standalone apart from ``.components`` (the exported bundle ships both files in ``scripts/``): the
voxel size comes from the image's NIfTI header in its meta data (``pixdim``, and ``xyzt_units``
for the unit; an unknown unit is taken as micrometres, the MiniVess convention), as in the
inference pipeline.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import torch
from monai.data import MetaTensor
from monai.transforms import MapTransform

from .components import ComponentSettings, clean_components

#: NIfTI ``xyzt_units`` spatial codes -> micrometres per unit (0: unknown, taken as micrometres).
MICROMETRES_PER_UNIT_CODE = {0: 1.0, 1: 1e6, 2: 1e3, 3: 1.0}


def spacing_um(meta: Mapping) -> tuple[float, float, float]:
    """The voxel size in micrometres from a NIfTI image's MONAI meta data."""
    pixdim = np.asarray(meta["pixdim"], dtype=float).ravel()
    factor = MICROMETRES_PER_UNIT_CODE.get(int(np.asarray(meta.get("xyzt_units", 0)).ravel()[0]) & 7, 1.0)
    return tuple(abs(float(v)) * factor for v in pixdim[1:4])  # NIfTI may store a flipped axis as negative


class CleanComponentsd(MapTransform):
    """Removes vessel components smaller than ``min_volume_um3`` and fills cavities of at most
    ``max_hole_um3`` in a ``1 x H x W x D`` discrete mask (a MetaTensor with the source's header).

    Args:
        keys: the mask keys.
        min_volume_um3: smallest component kept, in cubic micrometres.
        max_hole_um3: largest cavity filled, in cubic micrometres.
    """

    def __init__(self, keys: Sequence[Hashable] | Hashable, min_volume_um3: float, max_hole_um3: float) -> None:
        super().__init__(keys)
        self.settings = ComponentSettings(min_volume_um3=min_volume_um3, max_hole_um3=max_hole_um3)

    def __call__(self, data: Mapping) -> dict:
        d = dict(data)
        for key in self.key_iterator(d):
            mask = d[key]
            meta = mask.meta if isinstance(mask, MetaTensor) else d[f"{key}_meta_dict"]
            cleaned = clean_components(np.asarray(mask.detach().cpu())[0] > 0.5, spacing_um(meta), self.settings)
            out = mask.clone()  # keeps the meta data and affine of a MetaTensor
            out[:] = torch.as_tensor(cleaned[None], dtype=out.dtype, device=out.device)
            d[key] = out
        return d
