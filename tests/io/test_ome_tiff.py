"""The mask as OME-TIFF: the voxels in NIfTI's axis order and the spacing in µm, read back by tifffile."""

from __future__ import annotations

import numpy as np
import tifffile

from minivess_kedro.io.ome_tiff import ome_tiff_bytes, read_ome_tiff


def test_the_mask_and_its_spacing_round_trip(tmp_path) -> None:
    mask = np.zeros((6, 5, 3), dtype=np.uint8)
    mask[1, 2, 0] = mask[4, 0, 2] = 1
    data = ome_tiff_bytes(mask, (0.31, 0.42, 2.5), "mv07 vessel mask")

    array, spacing, unit = read_ome_tiff(data)
    np.testing.assert_array_equal(array, mask)
    assert spacing == (0.31, 0.42, 2.5) and unit == "µm"
    path = tmp_path / "mv07_mask.ome.tif"
    path.write_bytes(data)
    with tifffile.TiffFile(path) as tiff:  # what a viewer sees: Z planes of Y x X, uint8
        assert tiff.is_ome and tiff.series[0].axes == "ZYX" and tiff.series[0].shape == (3, 5, 6)
        assert tiff.series[0].dtype == np.uint8 and "mv07 vessel mask" in tiff.ome_metadata
