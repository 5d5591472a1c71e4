"""One volume of a folder: skipped when an earlier output is still valid, else read, checked,
segmented, post-processed and summarised; a volume that cannot be read or segmented is a failed
row, not an error (the folder's other volumes still run)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from minivess_kedro.inference.registered_model import ModelIdentity
from minivess_kedro.inference.results import SegmentedVolume, mask_file, optional_file, probability_file
from minivess_kedro.inference.resume import PreviousOutput, finished_output, result_settings
from minivess_kedro.inference.segment import segment_volume
from minivess_kedro.inference.sliding_window import SlidingWindowConfig
from minivess_kedro.inference.sources import SourceImage, spacing_in_um, voxel_problem
from minivess_kedro.inference.summary import SUMMARY_COLUMNS, mask_summary
from minivess_kedro.io.nifti import NiftiReadError
from minivess_kedro.io.ome_tiff import ome_tiff_bytes
from minivess_kedro.morphometry import MEASURE_COLUMNS, VesselAnalysis, analyse_vessels
from minivess_kedro.postprocessing import ComponentSettings, clean_components

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSettings:
    """How every volume of the run is segmented.

    Attributes:
        window: the sliding window (the model's training patch).
        postprocessing: ``components`` (the evaluation's clean-up) or ``none`` (the raw argmax).
        components: the clean-up's sizes (``None`` for ``none``).
        save_probability: also write the vessel probability.
        optional: the optional files to write too, by kind
            (:data:`~minivess_kedro.inference.results.OPTIONAL_FILES`).
    """

    window: SlidingWindowConfig
    postprocessing: str
    components: ComponentSettings | None
    save_probability: bool
    optional: tuple[str, ...] = ()

    def result(self) -> dict:
        """The settings that change a mask (:func:`~minivess_kedro.inference.resume.result_settings`)."""
        return result_settings(self.window, self.postprocessing, self.components)


def summary_row(
    source: SourceImage, model: ModelIdentity, postprocessing: str, status: str, measures: dict | None = None, error=""
) -> dict:
    """One row of ``summary.csv`` (measures empty for a failed volume; ``seconds`` added by the caller)."""
    row = dict.fromkeys(SUMMARY_COLUMNS)
    row |= {"id": source.volume_id, "source_file": str(source.path), **(measures or {})}
    row |= {
        "postprocessing": postprocessing,
        "model_name": model.name,
        "model_version": model.version,
        "model_run_id": model.run_id,
        "model_uri": model.uri,
        "status": status,
        "error": error,
    }
    return row


class VolumeSegmenter:
    """Segments the volumes of one run with one network.

    Args:
        network: the model version's network, on ``device``.
        device: where the windows run.
        model: the version's identity (recorded with every volume).
        settings: the run's settings.
        previous: the output folder's records, for the resume check.
    """

    def __init__(
        self,
        network: nn.Module,
        device: torch.device,
        model: ModelIdentity,
        settings: RunSettings,
        previous: list[PreviousOutput],
    ) -> None:
        self.network, self.device, self.model, self.settings, self.previous = network, device, model, settings, previous

    def __call__(self, source: SourceImage) -> tuple[dict, SegmentedVolume | None]:
        """Returns the volume's summary row (``status`` done, skipped or failed, ``seconds``)
        and, when it was segmented, its outputs."""
        started = time.perf_counter()
        row, volume = self._run(source)
        return row | {"seconds": round(time.perf_counter() - started, 3)}, volume

    def _run(self, source: SourceImage) -> tuple[dict, SegmentedVolume | None]:
        try:
            return self._segment(source)
        except Exception as err:  # one volume's failure (a voxel type, out of memory) is its row: the others run
            logger.warning("%s: not segmented", source.path, exc_info=True)
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            return summary_row(
                source, self.model, self.settings.postprocessing, "failed", error=_reason(err, source)
            ), None

    def _segment(self, source: SourceImage) -> tuple[dict, SegmentedVolume | None]:
        postprocessing = self.settings.postprocessing
        sha256 = source.sha256()
        done = finished_output(
            self.previous,
            source.volume_id,
            self.model,
            sha256,
            self.settings.result(),
            self.settings.save_probability,
            self.settings.optional,
            MEASURE_COLUMNS,
        )
        if done is not None:
            return summary_row(source, self.model, postprocessing, "skipped", done.record.get("summary")), None
        header, image = source.header(), source.read()
        problem = voxel_problem(image, source)
        if problem:
            return summary_row(source, self.model, postprocessing, "failed", error=problem), None
        spacing, unit = spacing_in_um(image.spacing, header)
        mask, probability = segment_volume(self.network, image.array, self.settings.window, self.device)
        if self.settings.components is not None:
            mask = clean_components(mask, spacing, self.settings.components)
        vessels = analyse_vessels(mask, spacing)  # one skeleton for the summary and the segment table
        measures = mask_summary(mask, spacing, vessels) | {"header_unit": unit}
        record = self._record(source, sha256, measures)
        kept = probability.astype(np.float32) if self.settings.save_probability else None
        row = summary_row(source, self.model, postprocessing, "done", measures)
        optional = self._optional(source.volume_id, mask, spacing, vessels)
        return row, SegmentedVolume(source.volume_id, mask.astype(np.uint8), kept, header, record, optional)

    def _optional(self, volume_id: str, mask: np.ndarray, spacing, vessels: VesselAnalysis) -> dict[str, bytes]:
        makers = {
            "segments": lambda: vessels.segments.to_csv(index=False).encode(),
            "ome_tiff": lambda: ome_tiff_bytes(mask, spacing, f"{volume_id} vessel mask"),
        }
        return {kind: makers[kind]() for kind in self.settings.optional}

    def _record(self, source: SourceImage, sha256: str, measures: dict) -> dict:
        files = {"mask": mask_file(source.volume_id)}
        if self.settings.save_probability:
            files["probability"] = probability_file(source.volume_id)
        for kind in self.settings.optional:
            files[kind] = optional_file(kind, source.volume_id)
        window = self.settings.window
        return {
            "id": source.volume_id,
            "model": self.model.to_dict(),
            "source": {"path": str(source.path), "sha256": sha256},
            "settings": self.settings.result(),
            "run": {"sw_batch_size": window.sw_batch_size, "device": str(self.device)},
            "files": files,
            "summary": measures,
        }


def _reason(error: Exception, source: SourceImage) -> str:
    """The error as a summary cell: the project's own messages without the path (the row names
    it), others with their type (``RuntimeError: CUDA out of memory ...``)."""
    if isinstance(error, NiftiReadError):
        return str(error).removeprefix(f"{source.path}: ")
    return f"{type(error).__name__}: {error}"
