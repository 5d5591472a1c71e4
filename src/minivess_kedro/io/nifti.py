"""NIfTI volumes in memory: the array plus the geometry that the header carries."""

from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from minivess_kedro.io.atomic import atomic_write_bytes

_GZIP_MAGIC = b"\x1f\x8b"


class NiftiReadError(ValueError):
    """A file that cannot be read as a 3D NIfTI volume; the message names the file."""


@dataclass(frozen=True)
class NiftiVolume:
    """One volume with its geometry.

    Attributes:
        array: voxel data, shape ``H x W x D`` (NIfTI axis order), dtype as stored or as asked.
        affine: 4 x 4 voxel-to-world matrix from the header.
        spacing: voxel size per axis from the header zooms. MiniVess headers carry no unit
            code; the values are micrometres.
    """

    array: np.ndarray
    affine: np.ndarray
    spacing: tuple[float, float, float]

    @classmethod
    def from_array(
        cls, array: np.ndarray, spacing: tuple[float, float, float], affine: np.ndarray | None = None
    ) -> NiftiVolume:
        """Builds a volume; without an affine, a diagonal one with the spacing is used."""
        if affine is None:
            affine = np.diag([*spacing, 1.0])
        return cls(np.asarray(array), np.asarray(affine, dtype=np.float64), _as_spacing(spacing))


def _as_spacing(values) -> tuple[float, float, float]:
    # Headers store float32: keep its shortest decimal form (0.994, not 0.99400001764).
    return tuple(float(str(np.float32(v))) for v in values[:3])  # type: ignore[return-value]


def _image_from_bytes(raw: bytes) -> nib.Nifti1Image:
    if raw[:2] == _GZIP_MAGIC:
        raw = gzip.decompress(raw)
    try:
        return nib.Nifti1Image.from_bytes(raw)
    except Exception:
        return nib.Nifti2Image.from_bytes(raw)


def nifti_from_bytes(raw: bytes, name: str = "<bytes>", dtype: str | None = None) -> NiftiVolume:
    """Decodes a ``.nii`` or ``.nii.gz`` file's bytes.

    Args:
        raw: the file content (gzip-compressed or not).
        name: the file's name, used in error messages.
        dtype: cast the array to this dtype (e.g. ``"float32"``); ``None`` keeps the stored one.

    Returns:
        The decoded volume.

    Raises:
        NiftiReadError: truncated or corrupt file, or a header that is not NIfTI.
    """
    try:
        image = _image_from_bytes(raw)
        array = np.asanyarray(image.dataobj)
    except (
        EOFError,
        OSError,
        zlib.error,
        ValueError,
        nib.filebasedimages.ImageFileError,
        nib.spatialimages.HeaderDataError,
    ) as err:
        raise NiftiReadError(f"{name}: not a readable NIfTI file ({type(err).__name__}: {err})") from err
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return NiftiVolume(array, np.asarray(image.affine, dtype=np.float64), _as_spacing(image.header.get_zooms()))


def nifti_to_bytes(volume: NiftiVolume, compress: bool = True) -> bytes:
    """Encodes a volume as NIfTI-1 bytes, keeping its affine and spacing.

    Args:
        volume: the volume to encode.
        compress: gzip the result (for ``.nii.gz``).
    """
    image = nib.Nifti1Image(np.asarray(volume.array), volume.affine)
    image.header.set_zooms(volume.spacing[: image.header["dim"][0]])
    image.header.set_xyzt_units(xyz="unknown")  # MiniVess convention: micrometres, no unit code
    raw = image.to_bytes()
    # mtime=0: the same volume is the same bytes whenever it is written, so a regenerated synthetic
    # dataset keeps its fingerprint (the sweep's skip check and the report's dataset filter use it).
    return gzip.compress(raw, compresslevel=1, mtime=0) if compress else raw


def read_nifti(path: str | os.PathLike, dtype: str | None = None) -> NiftiVolume:
    """Reads a NIfTI file from the local disk (see :func:`nifti_from_bytes`)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise NiftiReadError(f"{path}: cannot be read ({err.strerror})") from err
    return nifti_from_bytes(raw, name=str(path), dtype=dtype)


def write_nifti(path: str | os.PathLike, volume: NiftiVolume) -> Path:
    """Writes a volume atomically; ``.gz`` in the name selects compression."""
    path = Path(path)
    return atomic_write_bytes(path, nifti_to_bytes(volume, compress=path.name.endswith(".gz")))
