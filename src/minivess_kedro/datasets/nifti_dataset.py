"""``NiftiDataset``: one NIfTI volume (array, affine, spacing) on any fsspec file system."""

from __future__ import annotations

import base64
import io
from copy import deepcopy
from pathlib import PurePosixPath
from typing import Any

import fsspec
import numpy as np
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)
from kedro_datasets._typing import ImagePreview

from minivess_kedro.io.nifti import NiftiReadError, NiftiVolume, nifti_from_bytes, nifti_to_bytes


class NiftiDataset(AbstractVersionedDataset[NiftiVolume, NiftiVolume]):
    """Loads and saves a ``.nii`` / ``.nii.gz`` volume as a :class:`NiftiVolume`.

    Saving writes a temporary file and renames it, so an interrupted run never leaves a
    truncated volume behind. Used alone or as the ``dataset`` of a ``PartitionedDataset``.

    Example catalog entry::

        raw_images:
          type: partitions.PartitionedDataset
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
        protocol, path = get_protocol_and_path(filepath, version)
        fs_kwargs = {**deepcopy(fs_args or {}), **deepcopy(credentials or {})}
        if protocol == "file":
            fs_kwargs.setdefault("auto_mkdir", True)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **fs_kwargs)
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": self._protocol,
            "load_args": self._load_args,
            "version": self._version,
        }

    def load(self) -> NiftiVolume:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._fs.open(load_path, mode="rb") as handle:
            raw = handle.read()
        try:
            return nifti_from_bytes(raw, name=load_path, dtype=self._load_args.get("dtype"))
        except NiftiReadError as err:
            raise DatasetError(str(err)) from err

    def save(self, data: NiftiVolume) -> None:
        if not isinstance(data, NiftiVolume):
            raise DatasetError(f"NiftiDataset({self._filepath}) saves a NiftiVolume, got {type(data).__name__}")
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        encoded = nifti_to_bytes(data, compress=save_path.endswith(".gz"))
        partial = f"{save_path}.partial"
        with self._fs.open(partial, mode="wb") as handle:
            handle.write(encoded)
        self._fs.mv(partial, save_path)
        self._invalidate_cache()

    def _exists(self) -> bool:
        try:
            load_path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(load_path)

    def _release(self) -> None:
        super()._release()
        self._invalidate_cache()

    def _invalidate_cache(self) -> None:
        filepath = get_filepath_str(self._filepath, self._protocol)
        self._fs.invalidate_cache(filepath)

    def preview(self) -> ImagePreview:
        """A PNG of the middle slice (min-max scaled), base64-encoded for kedro-viz."""
        from PIL import Image  # noqa: PLC0415 - only kedro-viz needs Pillow here

        array = np.asarray(self.load().array, dtype=np.float32)
        middle = array[:, :, array.shape[2] // 2] if array.ndim == 3 else array
        low, high = np.percentile(middle, [1, 99.5])
        scaled = np.clip((middle - low) / max(high - low, 1e-6), 0, 1)
        buffer = io.BytesIO()
        Image.fromarray((scaled.T * 255).astype(np.uint8)).save(buffer, format="PNG")
        return ImagePreview(base64.b64encode(buffer.getvalue()).decode("utf-8"))
