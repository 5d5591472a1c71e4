"""NIfTI encoding: round trips keep array, spacing and affine; corrupt files name themselves."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from minivess_kedro.io import (
    NiftiReadError,
    NiftiVolume,
    nifti_from_bytes,
    nifti_to_bytes,
    read_nifti,
    write_nifti,
)


@pytest.mark.parametrize("compress", [True, False])
def test_bytes_round_trip_keeps_array_spacing_affine(compress: bool) -> None:
    array = np.arange(4 * 5 * 6, dtype=np.uint16).reshape(4, 5, 6)
    affine = np.array([[0.994, 0, 0, 10.0], [0, 0.994, 0, -3.0], [0, 0, 2.0, 7.5], [0, 0, 0, 1]])
    volume = NiftiVolume(array, affine, (0.994, 0.994, 2.0))

    raw = nifti_to_bytes(volume, compress=compress)
    loaded = nifti_from_bytes(raw)

    assert raw[:2] == b"\x1f\x8b" if compress else raw[:2] != b"\x1f\x8b"
    np.testing.assert_array_equal(loaded.array, array)
    assert loaded.array.dtype == np.uint16
    assert loaded.spacing == (0.994, 0.994, 2.0)
    np.testing.assert_allclose(loaded.affine, affine, rtol=1e-6)


def test_the_same_volume_written_twice_is_the_same_bytes(tmp_path, monkeypatch) -> None:
    """A regenerated synthetic dataset keeps its fingerprint (file hashes): no gzip timestamp."""
    volume = NiftiVolume(np.arange(60, dtype=np.uint16).reshape(3, 4, 5), np.eye(4), (1.0, 1.0, 1.0))
    first = write_nifti(tmp_path / "a" / "mv01.nii.gz", volume).read_bytes()
    monkeypatch.setattr("time.time", lambda: 2_000_000_000.0)  # gzip stamps time.time() by default
    second = write_nifti(tmp_path / "b" / "other.nii.gz", volume).read_bytes()

    assert first == second and gzip.decompress(first) == nifti_to_bytes(volume, compress=False)


def test_dtype_cast_on_load() -> None:
    volume = NiftiVolume.from_array(np.ones((2, 2, 2), dtype=np.uint16), (1.0, 1.0, 1.0))
    assert nifti_from_bytes(nifti_to_bytes(volume), dtype="float32").array.dtype == np.float32


def test_from_array_builds_a_diagonal_affine() -> None:
    volume = NiftiVolume.from_array(np.zeros((2, 2, 2)), (0.5, 0.5, 3.0))
    np.testing.assert_array_equal(volume.affine, np.diag([0.5, 0.5, 3.0, 1.0]))


def test_truncated_file_error_names_the_file(tmp_path) -> None:
    path = tmp_path / "mv07.nii.gz"
    raw = nifti_to_bytes(NiftiVolume.from_array(np.ones((8, 8, 8), dtype=np.uint16), (1, 1, 1)))
    path.write_bytes(raw[: len(raw) // 2])

    with pytest.raises(NiftiReadError, match="mv07.nii.gz"):
        read_nifti(path)


def test_not_nifti_bytes_are_refused() -> None:
    with pytest.raises(NiftiReadError, match="notes.nii.gz"):
        nifti_from_bytes(gzip.compress(b"hello, not a header" * 30), name="notes.nii.gz")


def test_missing_file_names_the_path(tmp_path) -> None:
    with pytest.raises(NiftiReadError, match="absent.nii.gz"):
        read_nifti(tmp_path / "absent.nii.gz")


def test_write_is_atomic_and_leaves_no_partial(tmp_path) -> None:
    path = tmp_path / "sub" / "mv01.nii.gz"
    write_nifti(path, NiftiVolume.from_array(np.ones((3, 3, 3), dtype=np.uint8), (1, 1, 1)))

    assert read_nifti(path).array.sum() == 27
    assert [p.name for p in path.parent.iterdir()] == ["mv01.nii.gz"]
