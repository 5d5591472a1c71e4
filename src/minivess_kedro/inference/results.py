"""What segmenting a folder produces, one volume at a time: the files of each volume and the
summary so far (each chunk is written as it comes, so an interrupted run loses at most the
volume in flight)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from minivess_kedro.inference.registered_model import ModelIdentity
from minivess_kedro.inference.resume import PreviousOutput


def mask_file(volume_id: str) -> str:
    """The mask's file name: uint8 {0, 1}, the source's header."""
    return f"{volume_id}_mask.nii.gz"


def probability_file(volume_id: str) -> str:
    """The vessel probability's file name: float32 in [0, 1], the source's header."""
    return f"{volume_id}_probability.nii.gz"


#: The optional files of a volume, by kind: ``segments``, its per-segment table
#: (:func:`~minivess_kedro.morphometry.segment_table`); ``ome_tiff``, the mask as OME-TIFF with
#: its spacing in µm (:func:`~minivess_kedro.io.ome_tiff.ome_tiff_bytes`).
OPTIONAL_FILES = {"segments": "{}_segments.csv", "ome_tiff": "{}_mask.ome.tif"}


def optional_file(kind: str, volume_id: str) -> str:
    """The file name of an optional file (:data:`OPTIONAL_FILES`) of ``volume_id``."""
    return OPTIONAL_FILES[kind].format(volume_id)


def record_file(volume_id: str) -> str:
    """The per-volume record's file name (written after the mask: a record means its mask is there)."""
    return f"{volume_id}_record.json"


SUMMARY_FILE = "summary.csv"


@dataclass(frozen=True)
class SegmentedVolume:
    """One segmented volume.

    Attributes:
        volume_id: its id.
        mask: ``H x W x D`` uint8 {0, 1} vessel mask (post-processed as the record says).
        probability: ``H x W x D`` float32 vessel probability, or ``None`` when not asked for.
        header: the source file's header, which both outputs carry.
        record: the JSON-ready record (model, source and its sha256, settings, summary).
        optional: the bytes of each optional file asked for, by kind (:data:`OPTIONAL_FILES`).
    """

    volume_id: str
    mask: np.ndarray
    probability: np.ndarray | None
    header: nib.Nifti1Header
    record: dict
    optional: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class InferenceChunk:
    """What one step of the run writes: a volume's files (``None`` for a skipped or failed volume)
    and the summary table of every volume handled so far.

    Attributes:
        model: the model version (its name and version choose the default output folder).
        summary: the rows so far, columns :data:`~minivess_kedro.inference.summary.SUMMARY_COLUMNS`.
        volume: the volume segmented in this step, if any.
    """

    model: ModelIdentity
    summary: pd.DataFrame
    volume: SegmentedVolume | None = None


class InferenceOutputError(ValueError):
    """The output folder would mix this run's masks with others' or with its own inputs."""


def output_place_problem(
    input_folder: str, output_folder: str | None, previous: Iterable[PreviousOutput]
) -> str | None:
    """Why this run may not write where it would (``None``: it may).

    Args:
        input_folder: ``inference.input``.
        output_folder: ``inference.output`` (``None``/empty: the default folder).
        previous: the records already in the output folder.

    Returns:
        An output folder inside the input folder (the next run would segment the masks), or
        records of volumes from another folder (two input folders of the same name share a
        default output folder: this run would overwrite the other's masks).
    """
    source = Path(input_folder).resolve()
    if output_folder and Path(output_folder).resolve().is_relative_to(source):
        return (
            f"inference.output={output_folder} is inside inference.input={input_folder}: the next run would "
            "segment the masks as new volumes; give another folder"
        )
    others = sorted(
        {
            str(Path(path).resolve().parent)
            for output in previous
            if (path := output.record.get("source", {}).get("path")) and not Path(path).resolve().is_relative_to(source)
        }
    )
    if others:
        return (
            f"the output folder holds masks of volumes from {others[0]}, not from {source} (another folder of "
            "the same name?): give this run its own with --params inference.output=<folder>"
        )
    return None
