"""NIfTI volumes in memory: the array plus the geometry that the header carries."""

from __future__ import annotations

import gzip
import io
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


# What nibabel and gzip raise on a truncated, corrupt or non-NIfTI file.
_DECODE_ERRORS = (
    EOFError,
    OSError,
    zlib.error,
    ValueError,
    nib.filebasedimages.ImageFileError,
    nib.spatialimages.HeaderDataError,
)


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
    except _DECODE_ERRORS as err:
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


# The source header: what a mask or probability map written for a source volume keeps of it.


def read_nifti_header(path: str | os.PathLike) -> nib.Nifti1Header:
    """Reads only the header of a ``.nii`` or ``.nii.gz`` file, after checking that the file holds
    all the voxel data the header announces.

    The check is cheap for a complete file: a plain ``.nii`` by its size, a ``.nii.gz`` by the
    uncompressed size in its gzip trailer. Only a file whose trailer disagrees is decompressed (to
    tell a truncated or corrupt stream from trailing bytes).

    Args:
        path: the file.

    Returns:
        The header (a ``Nifti2Header`` for NIfTI-2 files, a subclass of ``Nifti1Header``).

    Raises:
        NiftiReadError: no such file, not NIfTI, or fewer data bytes than the header needs.
    """
    path = Path(path)
    try:
        image = nib.load(path)
        header = image.header
        if not isinstance(header, nib.Nifti1Header):
            raise nib.filebasedimages.ImageFileError(f"a {type(header).__name__}, not a NIfTI header")
        needed = (
            int(header.get_data_offset()) + int(np.prod(header.get_data_shape())) * header.get_data_dtype().itemsize
        )
    except FileNotFoundError as err:
        raise NiftiReadError(f"{path}: no such file") from err
    except _DECODE_ERRORS as err:
        raise NiftiReadError(f"{path}: not a readable NIfTI header ({type(err).__name__}: {err})") from err
    stored = _stored_spacing(path, type(header))
    if any(not np.isfinite(s) or s <= 0 for s in stored):
        # nibabel would read 0 as 1 and -s as s (with a log line): the spacing is unknown, not that.
        raise NiftiReadError(f"{path}: non-positive spacing {stored} in the header")
    available = _data_bytes(path, needed)
    if available < needed:
        raise NiftiReadError(f"{path}: truncated: {available} bytes of image data, the header needs {needed}")
    return header


def _stored_spacing(path: Path, header_class: type[nib.Nifti1Header]) -> tuple[float, ...]:
    """The spatial pixdim as the file stores it (before nibabel's fixes)."""
    with nib.openers.ImageOpener(path, "rb") as handle:
        raw = handle.read(header_class.template_dtype.itemsize)
    stored = header_class.from_fileobj(io.BytesIO(raw), check=False)
    ndim = int(stored["dim"][0])
    return tuple(float(v) for v in stored["pixdim"][1 : 1 + min(max(ndim, 1), 3)])


def _data_bytes(path: Path, needed: int) -> int:
    """The uncompressed size of the file (``needed`` when a gzip trailer confirms it)."""
    with path.open("rb") as handle:
        gzipped = handle.read(2) == _GZIP_MAGIC
        if not gzipped:
            return path.stat().st_size
        handle.seek(-4, os.SEEK_END)
        if int.from_bytes(handle.read(4), "little") == needed % 2**32:
            return needed
    total = 0
    try:
        with gzip.open(path, "rb") as stream:
            while chunk := stream.read(1 << 22):
                total += len(chunk)
    except (EOFError, OSError, zlib.error) as err:
        raise NiftiReadError(f"{path}: truncated or corrupt gzip ({type(err).__name__}: {err})") from err
    return total


def nifti_bytes_like(array: np.ndarray, source_header: nib.Nifti1Header, compress: bool = True) -> bytes:
    """Encodes ``array`` with a copy of a source file's header.

    Kept: the qform and sform with their codes, pixdim, the units, the description and intent.
    Set: the data dtype and shape (the array's). Reset: ``scl_slope``/``scl_inter`` (no scaling)
    and ``cal_min``/``cal_max`` (a display range of the source's intensities would hide a mask).

    Args:
        array: ``H x W x D`` voxels of the source's shape (e.g. a uint8 mask, a float32 probability).
        source_header: the source's header (:func:`read_nifti_header`).
        compress: gzip the result (for ``.nii.gz``), reproducibly (no timestamp).

    Raises:
        ValueError: an array of another shape than the source's.
    """
    array = np.asarray(array)
    if array.shape != tuple(source_header.get_data_shape()):
        raise ValueError(f"array of shape {array.shape} for a source of shape {source_header.get_data_shape()}")
    header = source_header.copy()
    header.set_data_dtype(array.dtype)
    header.set_slope_inter(None, None)
    header["cal_min"] = header["cal_max"] = 0
    image_class = nib.Nifti2Image if isinstance(header, nib.Nifti2Header) else nib.Nifti1Image
    raw = image_class(array, None, header).to_bytes()  # affine None: the header's qform and sform stay
    return gzip.compress(raw, compresslevel=1, mtime=0) if compress else raw


def write_nifti_like(path: str | os.PathLike, array: np.ndarray, source_header: nib.Nifti1Header) -> Path:
    """Writes ``array`` atomically with a copy of a source header (:func:`nifti_bytes_like`);
    ``.gz`` in the name selects compression."""
    path = Path(path)
    return atomic_write_bytes(path, nifti_bytes_like(array, source_header, compress=path.name.endswith(".gz")))
