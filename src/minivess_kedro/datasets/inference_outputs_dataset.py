"""``InferenceOutputsDataset``: the folder an inference run writes, one volume at a time."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset

from minivess_kedro.inference.registered_model import ModelIdentity
from minivess_kedro.inference.results import (
    SUMMARY_FILE,
    InferenceChunk,
    mask_file,
    probability_file,
    record_file,
)
from minivess_kedro.inference.resume import PreviousOutput
from minivess_kedro.io.atomic import atomic_write_text
from minivess_kedro.io.nifti import write_nifti_like

logger = logging.getLogger(__name__)


class InferenceOutputsDataset(AbstractDataset[InferenceChunk, list[PreviousOutput]]):
    """The output folder of ``kedro run --pipelines inference``.

    The folder is ``output_folder`` when given (``--params inference.output=...``), else
    ``<path>/<input folder's name>/<model name>/v<version>/`` (the version the URI resolved to).
    Saving an :class:`~minivess_kedro.inference.results.InferenceChunk` writes its volume's mask
    (and probability) with the source header, then the volume's record, then ``summary.csv``, each
    atomically; a volume's old record goes first, so a record always describes the mask beside
    it. Loading gives the records already there (every version's under the default root), for
    the resume check; an absent folder loads as none.

    Example catalog entries (one folder, read by the node and written by it)::

        inference_previous: &inference_folder
          type: minivess_kedro.datasets.inference_outputs_dataset.InferenceOutputsDataset
          path: data/09_inference
          input_folder: ${runtime_params:inference.input, ""}
          output_folder: ${runtime_params:inference.output, ""}
        inference_results: *inference_folder
    """

    def __init__(
        self, *, path: str, input_folder: str = "", output_folder: str = "", metadata: dict[str, Any] | None = None
    ) -> None:
        self._root, self._input, self._output = Path(path), (input_folder or "").strip(), (output_folder or "").strip()
        self.metadata = metadata

    def folder(self, model: ModelIdentity) -> Path:
        """Where the outputs of ``model`` go."""
        if self._output:
            return Path(self._output)
        return self._root / Path(self._input).name / model.name / f"v{model.version}"

    def load(self) -> list[PreviousOutput]:
        pattern = f"*{record_file('')}" if self._output else f"*/v*/*{record_file('')}"
        base = Path(self._output) if self._output else self._root / Path(self._input).name
        previous = []
        for path in sorted(base.glob(pattern)) if base.is_dir() else []:
            try:
                record = json.loads(path.read_text())
                volume_id = record["id"]
            except (OSError, ValueError, KeyError, TypeError):
                logger.warning("%s: not a readable inference record; its volume is segmented again", path)
                continue
            previous.append(
                PreviousOutput(
                    record,
                    mask_exists=(path.parent / mask_file(volume_id)).is_file(),
                    probability_exists=(path.parent / probability_file(volume_id)).is_file(),
                )
            )
        return previous

    def save(self, data: InferenceChunk) -> None:
        folder = self.folder(data.model)
        volume = data.volume
        if volume is not None:
            (folder / record_file(volume.volume_id)).unlink(missing_ok=True)
            probability = folder / probability_file(volume.volume_id)
            if volume.probability is None:
                probability.unlink(missing_ok=True)  # an earlier run's, of another mask
            else:
                write_nifti_like(probability, volume.probability, volume.header)
            write_nifti_like(folder / mask_file(volume.volume_id), volume.mask, volume.header)
            atomic_write_text(folder / record_file(volume.volume_id), json.dumps(volume.record, indent=1) + "\n")
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / SUMMARY_FILE, data.summary.to_csv(index=False))

    def _exists(self) -> bool:
        return True  # always loadable (no records yet is an empty list)

    def _describe(self) -> dict[str, Any]:
        return {"path": self._output or str(self._root), "input_folder": self._input}
