"""``NiftiDataset``: one NIfTI volume (array, affine, spacing) on any fsspec file system."""

from __future__ import annotations

from typing import Any

from kedro.io.core import DatasetError, Version
from kedro_datasets._typing import ImagePreview

from minivess_kedro.datasets.bytes_file_dataset import BytesFileDataset
from minivess_kedro.datasets.previews import volume_slice_preview
from minivess_kedro.io.nifti import NiftiReadError, NiftiVolume, nifti_from_bytes, nifti_to_bytes


class NiftiDataset(BytesFileDataset[NiftiVolume]):
    """Loads and saves a ``.nii`` / ``.nii.gz`` volume as a :class:`NiftiVolume`.

    Saving writes a temporary file and renames it, so an interrupted run never leaves a
    truncated volume behind. Used alone or as the ``dataset`` of a ``PartitionedDataset``
    (:class:`NiftiPartitionedDataset` adds a kedro-viz preview to the folder).

    Example catalog entry::

        raw_images:
          type: minivess_kedro.datasets.NiftiPartitionedDataset
          path: data/01_raw/synthetic/images
          dataset: minivess_kedro.datasets.NiftiDataset
          filename_suffix: .nii.gz
    """

    def __init__(
        self,
        *,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Creates the dataset.

        Args:
            filepath: path of the file, optionally prefixed with an fsspec protocol.
            load_args: ``{"dtype": "float32"}`` casts the array on load; nothing else is accepted.
            version: Kedro versioning (``versioned: true`` in the catalog).
            credentials: passed to the fsspec file system.
            fs_args: passed to the fsspec file system constructor.
            metadata: free metadata, ignored by Kedro (kedro-viz reads ``kedro-viz`` keys).
        """
        self._load_args = dict(load_args or {})
        unknown = set(self._load_args) - {"dtype"}
        if unknown:
            raise DatasetError(f"NiftiDataset({filepath}): unknown load_args {sorted(unknown)}; valid: ['dtype']")
        super().__init__(
            filepath=filepath, version=version, credentials=credentials, fs_args=fs_args, metadata=metadata
        )

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "load_args": self._load_args}

    def load(self) -> NiftiVolume:
        raw, path = self._read_bytes()
        try:
            return nifti_from_bytes(raw, name=path, dtype=self._load_args.get("dtype"))
        except NiftiReadError as err:
            raise DatasetError(str(err)) from err

    def save(self, data: NiftiVolume) -> None:
        if not isinstance(data, NiftiVolume):
            raise DatasetError(f"NiftiDataset({self._filepath}) saves a NiftiVolume, got {type(data).__name__}")
        path = self._save_path()
        self._write_bytes(path, nifti_to_bytes(data, compress=path.endswith(".gz")))

    def preview(self) -> ImagePreview:
        """A PNG of the middle slice (percentile-scaled), base64-encoded for kedro-viz."""
        return volume_slice_preview(self.load().array)
