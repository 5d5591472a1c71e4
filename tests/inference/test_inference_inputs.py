"""The folder to segment: MiniVess layouts (labels ignored) or plain NIfTI files, and the problems
that the listing and the headers show before the model runs."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from minivess_kedro.data.layouts import LayoutError, images_to_segment
from minivess_kedro.inference.sources import SourceImage, header_problem, voxel_problem
from minivess_kedro.io import NiftiVolume, nifti_to_bytes, write_nifti


def _volume(shape=(8, 8, 4), spacing=(1.0, 1.0, 2.0)) -> NiftiVolume:
    return NiftiVolume.from_array(np.ones(shape, dtype=np.float32), spacing)


@pytest.mark.parametrize("images", ["imagesTr", "raw"])
def test_a_minivess_folder_gives_its_images_with_normalised_ids(tmp_path, images) -> None:
    for name in ("mv1.nii.gz", "mv02_0000.nii.gz", "extra scan.nii"):
        write_nifti(tmp_path / images / name, _volume())
    write_nifti(tmp_path / ("labelsTr" if images == "imagesTr" else "seg") / "mv1.nii.gz", _volume())
    found = images_to_segment(tmp_path)
    assert [(f.volume_id, f.path.name, f.problem) for f in found] == [
        ("extra scan", "extra scan.nii", None),
        ("mv01", "mv1.nii.gz", None),
        ("mv02", "mv02_0000.nii.gz", None),
    ]


def test_a_plain_folder_gives_its_files_by_stem_and_names_a_duplicate(tmp_path) -> None:
    write_nifti(tmp_path / "b.nii.gz", _volume())
    write_nifti(tmp_path / "a.nii", _volume())
    write_nifti(tmp_path / "a.nii.gz", _volume())
    (tmp_path / "notes.txt").write_text("not a volume")
    found = images_to_segment(tmp_path)
    assert [(f.volume_id, f.path.name, f.problem) for f in found] == [
        ("a", "a.nii", None),
        ("a", "a.nii.gz", "duplicate id a (also a.nii)"),
        ("b", "b.nii.gz", None),
    ]


def test_a_missing_or_empty_folder_is_an_error_naming_it(tmp_path) -> None:
    with pytest.raises(LayoutError, match="nowhere: no such folder"):
        images_to_segment(tmp_path / "nowhere")
    with pytest.raises(LayoutError, match=r"no \.nii/\.nii\.gz volumes"):
        images_to_segment(tmp_path)


def test_headers_show_truncated_not_3d_and_non_positive_spacing_files(tmp_path) -> None:
    whole = nifti_to_bytes(_volume())
    (tmp_path / "cut.nii.gz").write_bytes(whole[: len(whole) // 2])
    write_nifti(tmp_path / "good.nii.gz", _volume())
    write_nifti(tmp_path / "flat.nii.gz", NiftiVolume(np.ones((8, 8), np.float32), np.eye(4), (1.0, 1.0, 1.0)))
    raw = bytearray(gzip.decompress(whole))
    raw[84:88] = np.float32(0.0).tobytes()  # pixdim[2] of the NIfTI-1 header: the second axis' spacing
    (tmp_path / "zero.nii").write_bytes(bytes(raw))
    problems = {
        f.volume_id: header_problem(SourceImage(f.volume_id, f.path, f.problem)) for f in images_to_segment(tmp_path)
    }
    assert problems["good"] is None
    assert "truncated" in problems["cut"] or "corrupt" in problems["cut"]
    assert problems["flat"] == "2D with shape (8, 8), expected 3D"
    assert problems["zero"] == "non-positive spacing (1.0, 0.0, 2.0) in the header"  # nibabel would read 1.0


def test_non_finite_voxels_are_found_when_the_volume_is_read(tmp_path) -> None:
    array = np.ones((8, 8, 4), dtype=np.float32)
    array[1, 2, 3] = np.nan
    write_nifti(tmp_path / "nan.nii.gz", NiftiVolume.from_array(array, (1.0, 1.0, 2.0)))
    source = SourceImage("nan", tmp_path / "nan.nii.gz")
    assert header_problem(source) is None  # the header cannot tell
    assert voxel_problem(source.read(), source) == "1 non-finite voxels (NaN/Inf)"
