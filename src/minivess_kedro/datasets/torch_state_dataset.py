"""``TorchStateDictDataset``: a model state dict saved atomically, loaded with ``weights_only``."""

from __future__ import annotations

import io
from copy import deepcopy
from pathlib import PurePosixPath
from typing import Any

import fsspec
import torch
from kedro.io.core import AbstractVersionedDataset, DatasetError, Version, get_filepath_str, get_protocol_and_path


class TorchStateDictDataset(AbstractVersionedDataset[dict, dict]):
    """Loads and saves ``{name: tensor}`` state dicts (``.pt``).

    Loading uses ``torch.load(..., weights_only=True)``: a file can hold tensors and plain
    containers only, never code. Saving writes ``<file>.partial`` and renames it.
    """

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(filepath, version)
        fs_kwargs = {**deepcopy(fs_args or {}), **deepcopy(credentials or {})}
        if protocol == "file":
            fs_kwargs.setdefault("auto_mkdir", True)
        self._protocol, self._fs, self.metadata = protocol, fsspec.filesystem(protocol, **fs_kwargs), metadata
        super().__init__(
            filepath=PurePosixPath(path), version=version, exists_function=self._fs.exists, glob_function=self._fs.glob
        )

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol, "version": self._version}

    def load(self) -> dict:
        path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._fs.open(path, mode="rb") as handle:
            raw = handle.read()
        try:
            return torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
        except Exception as err:
            raise DatasetError(f"{path}: not a loadable state dict ({type(err).__name__}: {err})") from err

    def save(self, data: dict) -> None:
        if not isinstance(data, dict):
            raise DatasetError(f"TorchStateDictDataset({self._filepath}) saves a state dict, got {type(data).__name__}")
        path = get_filepath_str(self._get_save_path(), self._protocol)
        buffer = io.BytesIO()
        torch.save(data, buffer)
        with self._fs.open(f"{path}.partial", mode="wb") as handle:
            handle.write(buffer.getvalue())
        self._fs.mv(f"{path}.partial", path)
        self._fs.invalidate_cache(path)

    def _exists(self) -> bool:
        try:
            path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(path)
