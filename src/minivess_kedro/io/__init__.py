"""File formats and transfers: NIfTI volumes, atomic writes, the EBRAINS downloader."""

from minivess_kedro.io.atomic import atomic_write_bytes, atomic_write_text
from minivess_kedro.io.nifti import (
    NiftiReadError,
    NiftiVolume,
    nifti_bytes_like,
    nifti_from_bytes,
    nifti_to_bytes,
    read_nifti,
    read_nifti_header,
    write_nifti,
    write_nifti_like,
)

__all__ = [
    "NiftiReadError",
    "NiftiVolume",
    "atomic_write_bytes",
    "atomic_write_text",
    "nifti_bytes_like",
    "nifti_from_bytes",
    "nifti_to_bytes",
    "read_nifti",
    "read_nifti_header",
    "write_nifti",
    "write_nifti_like",
]
