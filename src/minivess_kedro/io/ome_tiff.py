"""OME-TIFF of a mask with its voxel size in micrometres, for microscopy viewers (napari, Fiji).

tifffile (already a dependency of scikit-image) writes the OME-XML: axes ``ZYX``, the project's
``H x W x D`` array transposed so that H is the image's X, W its Y and D its Z (NIfTI's i, j, k),
and ``PhysicalSizeX/Y/Z`` in µm from the spacing.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.etree import ElementTree

import numpy as np
import tifffile


def ome_tiff_bytes(mask: np.ndarray, spacing_um: Sequence[float], name: str) -> bytes:
    """The OME-TIFF file of ``mask`` (``H x W x D``, written as uint8) with its spacing in µm."""
    sx, sy, sz = (float(s) for s in spacing_um[:3])
    metadata = {
        "axes": "ZYX",
        "Name": name,
        "PhysicalSizeX": sx,
        "PhysicalSizeXUnit": "µm",
        "PhysicalSizeY": sy,
        "PhysicalSizeYUnit": "µm",
        "PhysicalSizeZ": sz,
        "PhysicalSizeZUnit": "µm",
    }
    buffer = io.BytesIO()
    data = np.ascontiguousarray(np.asarray(mask, dtype=np.uint8).transpose(2, 1, 0))
    tifffile.imwrite(buffer, data, ome=True, photometric="minisblack", metadata=metadata)
    return buffer.getvalue()


def read_ome_tiff(data: bytes) -> tuple[np.ndarray, tuple[float, float, float], str]:
    """``(mask H x W x D, spacing (x, y, z), unit)`` of an OME-TIFF written by :func:`ome_tiff_bytes`."""
    with tifffile.TiffFile(io.BytesIO(data)) as tiff:
        array = tiff.asarray()
        root = ElementTree.fromstring(tiff.ome_metadata)
    namespace = {"ome": root.tag.split("}")[0].strip("{")}
    pixels = root.find(".//ome:Pixels", namespace)
    spacing = tuple(float(pixels.attrib[f"PhysicalSize{axis}"]) for axis in "XYZ")
    return array.transpose(2, 1, 0), spacing, pixels.attrib["PhysicalSizeXUnit"]
