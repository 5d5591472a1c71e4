"""``InferenceVolumesDataset``: the folder of volumes to segment (read-only, read lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset
from kedro.io.core import DatasetError

from minivess_kedro.data.layouts import images_to_segment
from minivess_kedro.inference.registered_model import EXAMPLE_URI
from minivess_kedro.inference.sources import SourceImage

MISSING = (
    "inference.input is not set: name the folder of volumes on the command line, e.g. "
    f"`kedro run --pipelines inference --params inference.input=/data/new,inference.model={EXAMPLE_URI}`"
)


class InferenceVolumesDataset(AbstractDataset[None, list[SourceImage]]):
    """Lists the NIfTI images of ``folder``: a MiniVess folder (``imagesTr/`` or ``raw/``; labels are
    ignored) or a plain folder of ``.nii``/``.nii.gz`` files
    (:func:`~minivess_kedro.data.layouts.images_to_segment`). Loading reads no voxels: each
    :class:`~minivess_kedro.inference.sources.SourceImage` reads its header and its voxels when asked.

    Example catalog entry::

        inference_volumes:
          type: minivess_kedro.datasets.inference_volumes_dataset.InferenceVolumesDataset
          folder: ${runtime_params:inference.input, ""}

    The argument is ``folder``, not ``path``: Kedro makes a catalog's ``path`` absolute against the
    project (an empty one would become the project folder); a relative folder given on the command
    line is the working directory's, as in any shell command.
    """

    def __init__(self, *, folder: str = "", metadata: dict[str, Any] | None = None) -> None:
        self._path, self.metadata = (folder or "").strip(), metadata

    def load(self) -> list[SourceImage]:
        """One entry per image file, sorted by id.

        Raises:
            DatasetError: no folder given.
            LayoutError: no such folder, two MiniVess layouts in it, or no volumes.
        """
        if not self._path:
            raise DatasetError(MISSING)
        return [SourceImage(image.volume_id, image.path, image.problem) for image in images_to_segment(self._path)]

    def save(self, data: None) -> None:
        raise DatasetError("InferenceVolumesDataset is read-only: it is the folder you segment")

    def _exists(self) -> bool:
        return bool(self._path) and Path(self._path).is_dir()

    def how_to_provide(self) -> str:
        """What to type when :meth:`exists` is false (the project's missing-inputs check says it)."""
        if not self._path:
            return MISSING
        return f"inference.input={self._path}: no such folder (give the folder of the volumes to segment)"

    def _describe(self) -> dict[str, Any]:
        return {"path": self._path}
