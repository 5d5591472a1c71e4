"""``TorchStateDictDataset``: a model state dict saved atomically, loaded with ``weights_only``."""

from __future__ import annotations

import io

import torch
from kedro.io.core import DatasetError
from kedro_datasets._typing import TablePreview

from minivess_kedro.datasets.bytes_file_dataset import BytesFileDataset
from minivess_kedro.datasets.previews import state_dict_preview


class TorchStateDictDataset(BytesFileDataset[dict]):
    """Loads and saves ``{name: tensor}`` state dicts (``.pt``).

    Loading uses ``torch.load(..., weights_only=True)``: a file can hold tensors and plain
    containers only, never code. Saving writes ``<file>.partial`` and renames it. In kedro-viz
    the preview is a table of the tensors (name, shape, dtype, number of values) and their total.
    """

    def load(self) -> dict:
        raw, path = self._read_bytes()
        try:
            return torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
        except Exception as err:  # any failure means: not a state dict we can trust
            raise DatasetError(f"{path}: not a loadable state dict ({type(err).__name__}: {err})") from err

    def save(self, data: dict) -> None:
        if not isinstance(data, dict):
            raise DatasetError(f"TorchStateDictDataset({self._filepath}) saves a state dict, got {type(data).__name__}")
        buffer = io.BytesIO()
        torch.save(data, buffer)
        self._write_bytes(self._save_path(), buffer.getvalue())

    def preview(self) -> TablePreview:
        """The tensors of the state dict, one row each, after a row with the total count."""
        return state_dict_preview(self.load())
