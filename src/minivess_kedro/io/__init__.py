"""File formats and transfers: NIfTI volumes, atomic writes, the EBRAINS downloader."""

from minivess_kedro.io.atomic import atomic_write_bytes, atomic_write_text
from minivess_kedro.io.nifti import (
    NiftiReadError,
    NiftiVolume,
    nifti_from_bytes,
    nifti_to_bytes,
    read_nifti,
    write_nifti,
)

__all__ = [
    "NiftiReadError",
    "NiftiVolume",
    "atomic_write_bytes",
    "atomic_write_text",
    "nifti_from_bytes",
    "nifti_to_bytes",
    "read_nifti",
    "write_nifti",
]
