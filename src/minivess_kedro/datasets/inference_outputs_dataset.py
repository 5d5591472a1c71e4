"""``InferenceOutputsDataset``: the folder an inference run writes, one volume at a time."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset

from minivess_kedro.inference.registered_model import ModelIdentity
from minivess_kedro.inference.results import (
    OPTIONAL_FILES,
    SUMMARY_FILE,
    InferenceChunk,
    mask_file,
    optional_file,
    probability_file,
    record_file,
)
from minivess_kedro.inference.resume import PreviousOutput
from minivess_kedro.io.atomic import atomic_write_bytes, atomic_write_text
from minivess_kedro.io.nifti import nifti_bytes_like

logger = logging.getLogger(__name__)


class InferenceOutputsDataset(AbstractDataset[InferenceChunk, list[PreviousOutput]]):
    """The output folder of ``kedro run --pipelines inference``.

    The folder is ``output_folder`` when given (``--params inference.output=...``), else
    ``<path>/<input folder's name>/<model name>/v<version>/`` (the version the URI resolved to).
    Saving an :class:`~minivess_kedro.inference.results.InferenceChunk` writes its volume's mask
    (and probability) with the source header, then the volume's record, then ``summary.csv``, each
    atomically, the record with the sha256 of each file; a volume's old record goes first, so a
    record always describes the mask beside
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
        return self._by_input() / model.name / f"v{model.version}"

    def _by_input(self) -> Path:
        # resolved: "." and "data/new/.." name the folder they are, not "." or ".."
        return self._root / Path(self._input).resolve().name

    def load(self) -> list[PreviousOutput]:
        pattern = f"*{record_file('')}" if self._output else f"*/v*/*{record_file('')}"
        base = Path(self._output) if self._output else self._by_input()
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
                    mask_intact=_as_recorded(path.parent / mask_file(volume_id), record, "mask"),
                    probability_intact=_as_recorded(path.parent / probability_file(volume_id), record, "probability"),
                    optional_intact=frozenset(
                        kind
                        for kind in OPTIONAL_FILES
                        if _as_recorded(path.parent / optional_file(kind, volume_id), record, kind)
                    ),
                )
            )
        return previous

    def save(self, data: InferenceChunk) -> None:
        folder = self.folder(data.model)
        volume = data.volume
        if volume is not None:
            (folder / record_file(volume.volume_id)).unlink(missing_ok=True)
            record = dict(volume.record)
            probability = folder / probability_file(volume.volume_id)
            if volume.probability is None:
                probability.unlink(missing_ok=True)  # an earlier run's, of another mask
            else:
                record["probability_sha256"] = _write(probability, volume.probability, volume.header)
            for kind in OPTIONAL_FILES:
                path = folder / optional_file(kind, volume.volume_id)
                if kind not in volume.optional:
                    path.unlink(missing_ok=True)  # an earlier run's, of another mask
                    continue
                atomic_write_bytes(path, volume.optional[kind])
                record[f"{kind}_sha256"] = hashlib.sha256(volume.optional[kind]).hexdigest()
            record["mask_sha256"] = _write(folder / mask_file(volume.volume_id), volume.mask, volume.header)
            atomic_write_text(folder / record_file(volume.volume_id), json.dumps(record, indent=1) + "\n")
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / SUMMARY_FILE, data.summary.to_csv(index=False))

    def _exists(self) -> bool:
        return True  # always loadable (no records yet is an empty list)

    def _describe(self) -> dict[str, Any]:
        return {"path": self._output or str(self._root), "input_folder": self._input}


def _write(path: Path, array, header) -> str:
    """Writes ``array`` with the source header, atomically; returns the file's sha256."""
    data = nifti_bytes_like(array, header)
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def _as_recorded(path: Path, record: dict, kind: str) -> bool:
    """The file exists with the sha256 its record wrote (a truncated copy or an edited mask is
    segmented again)."""
    expected = record.get(f"{kind}_sha256")
    return bool(expected) and path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == expected
