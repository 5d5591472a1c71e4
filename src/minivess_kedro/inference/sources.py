"""The volumes to segment: one file each, read in two steps (the header first, cheaply; the voxels
when the volume's turn comes), and what makes one unusable."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib

from minivess_kedro.data.validation import image_problems
from minivess_kedro.io.download import sha256_of
from minivess_kedro.io.nifti import NiftiReadError, NiftiVolume, read_nifti, read_nifti_header


class InferenceInputsError(ValueError):
    """Volumes that could not be segmented; the message lists every file and why (the others were
    segmented and are in the summary)."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        lines = [f"{path}: {reason}" for path, reason in sorted(self.problems.items())]
        super().__init__(
            f"{len(lines)} volume(s) could not be segmented (the others were; see summary.csv):\n  "
            + "\n  ".join(lines)
        )


@dataclass(frozen=True)
class SourceImage:
    """One image file to segment.

    Attributes:
        volume_id: its id (``mv01`` in a MiniVess layout, the file stem otherwise).
        path: the file.
        problem: why it cannot be segmented, known from the listing alone (a duplicate id).
    """

    volume_id: str
    path: Path
    problem: str | None = None

    def header(self) -> nib.Nifti1Header:
        """The header (the file checked to hold all its data; :func:`~minivess_kedro.io.read_nifti_header`)."""
        return read_nifti_header(self.path)

    def read(self) -> NiftiVolume:
        """The voxels as float32 with affine and spacing."""
        return read_nifti(self.path, dtype="float32")

    def sha256(self) -> str:
        return sha256_of(self.path)


def header_problem(source: SourceImage) -> str | None:
    """What the listing and the header alone show to be wrong with a volume (``None``: nothing):
    a duplicate id, an unreadable or truncated file, not 3D, a non-positive spacing."""
    if source.problem:
        return source.problem
    try:
        header = source.header()
    except NiftiReadError as err:
        return str(err).removeprefix(f"{source.path}: ")
    shape = header.get_data_shape()
    if len(shape) != 3:
        return f"{len(shape)}D with shape {tuple(shape)}, expected 3D"
    spacing = tuple(float(z) for z in header.get_zooms()[:3])
    if any(not math.isfinite(s) or s <= 0 for s in spacing):
        return f"non-positive spacing {spacing} in the header"
    return None


def voxel_problem(volume: NiftiVolume, source: SourceImage) -> str | None:
    """What the voxels show to be wrong (non-finite values, and the header checks again on the
    decoded volume); ``None`` when the volume can be segmented."""
    problems = image_problems(volume, str(source.path))
    return "; ".join(p.removeprefix(f"{source.path}: ") for p in problems) or None


# Micrometres per unit of the header's xyz unit code. MiniVess writes micrometres with no unit code
# (specs/data.md), so "unknown" is read as micrometres, as everywhere in the project.
_MICROMETRES_PER_UNIT = {"unknown": 1.0, "micron": 1.0, "mm": 1e3, "meter": 1e6}


def spacing_in_um(spacing: Sequence[float], header: nib.Nifti1Header) -> tuple[tuple[float, float, float], str]:
    """The voxel size in micrometres, by the header's unit code.

    Args:
        spacing: the header's voxel size per axis, in its own unit.
        header: the source's header (its ``xyzt_units``).

    Returns:
        ``(spacing in µm, the header's unit name)``; ``unknown`` is taken as micrometres.
    """
    unit = header.get_xyzt_units()[0]
    factor = _MICROMETRES_PER_UNIT.get(unit, 1.0)
    h, w, d = (float(s) * factor for s in spacing)
    return (h, w, d), unit
