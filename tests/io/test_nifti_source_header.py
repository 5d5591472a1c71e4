"""Outputs written like a source file keep its header (qform and sform with their codes, pixdim,
units, description), take their own dtype and no scaling; a header read checks the file is complete."""

from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
import pytest

from minivess_kedro.io import NiftiReadError, nifti_bytes_like, read_nifti_header, write_nifti_like

SFORM = np.array([[0.0, 0.994, 0, 12.5], [-0.994, 0, 0, 40.0], [0, 0, 2.5, -7.0], [0, 0, 0, 1]])


def _source_header(image_class=nib.Nifti1Image) -> nib.Nifti1Header:
    image = image_class(np.zeros((6, 5, 4), dtype=np.int16), SFORM)
    header = image.header
    header.set_qform(np.diag([0.994, 0.994, 2.5, 1.0]), code=1)  # scanner: another affine than the sform's
    header.set_sform(SFORM, code=2)
    header.set_xyzt_units("micron", "sec")
    header["descrip"] = b"two-photon, 2P-920nm"
    header.set_slope_inter(2.0, 10.0)  # the source's intensity scaling: not a mask's
    header["cal_min"], header["cal_max"] = 0, 4095
    return header


@pytest.mark.parametrize("image_class", [nib.Nifti1Image, nib.Nifti2Image])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_an_output_keeps_the_source_header_with_its_own_dtype(image_class, dtype) -> None:
    source = _source_header(image_class)
    array = (np.arange(6 * 5 * 4).reshape(6, 5, 4) % 2).astype(dtype)

    back = image_class.from_bytes(gzip.decompress(nifti_bytes_like(array, source)))
    header = back.header

    assert type(header) is type(source)
    np.testing.assert_array_equal(np.asarray(back.dataobj), array)
    assert header.get_data_dtype() == np.dtype(dtype) and back.dataobj.dtype == np.dtype(dtype)
    for coded in ("get_qform", "get_sform"):
        ours, code = getattr(header, coded)(coded=True)
        theirs, source_code = getattr(source, coded)(coded=True)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
        assert int(code) == int(source_code)
    np.testing.assert_allclose(header["pixdim"], source["pixdim"])
    assert header.get_xyzt_units() == ("micron", "sec")
    assert header["descrip"] == source["descrip"]
    assert np.isnan(header["scl_slope"]) or header["scl_slope"] in (0, 1)  # no scaling
    assert np.isnan(header["scl_inter"]) or header["scl_inter"] == 0
    assert (header["cal_min"], header["cal_max"]) == (0, 0)
    assert (source["scl_slope"], source["cal_max"]) == (2.0, 4095)  # the source's header is not changed


def test_an_array_of_another_shape_is_refused() -> None:
    with pytest.raises(ValueError, match=r"shape \(6, 5, 3\) for a source of shape \(6, 5, 4\)"):
        nifti_bytes_like(np.zeros((6, 5, 3), dtype=np.uint8), _source_header())


def test_write_like_is_atomic_and_reads_back(tmp_path) -> None:
    path = write_nifti_like(tmp_path / "out" / "mv01_mask.nii.gz", np.ones((6, 5, 4), np.uint8), _source_header())
    assert [p.name for p in path.parent.iterdir()] == ["mv01_mask.nii.gz"]  # no temp file left
    assert read_nifti_header(path).get_sform(coded=True)[1] == 2


@pytest.mark.parametrize("name", ["mv01.nii.gz", "mv01.nii"])
def test_a_header_read_refuses_a_truncated_file_and_takes_a_whole_one(tmp_path, name) -> None:
    image = nib.Nifti1Image(np.random.default_rng(0).integers(0, 4000, (16, 16, 8)).astype(np.int16), SFORM)
    raw = image.to_bytes()
    data = gzip.compress(raw) if name.endswith(".gz") else raw
    whole, truncated = tmp_path / name, tmp_path / f"cut-{name}"
    whole.write_bytes(data)
    truncated.write_bytes(data[: len(data) * 2 // 3])

    assert read_nifti_header(whole).get_data_shape() == (16, 16, 8)
    with pytest.raises(NiftiReadError, match=rf"cut-{name}: .*(truncated|corrupt)"):
        read_nifti_header(truncated)


def test_a_header_read_refuses_what_is_not_nifti(tmp_path) -> None:
    (tmp_path / "notes.nii.gz").write_bytes(gzip.compress(b"not an image" * 40))
    with pytest.raises(NiftiReadError, match="notes.nii.gz: not a readable NIfTI header"):
        read_nifti_header(tmp_path / "notes.nii.gz")
    with pytest.raises(NiftiReadError, match="missing.nii: no such file"):
        read_nifti_header(tmp_path / "missing.nii")
