"""The file handling that the project's datasets share: fsspec, versioning, atomic writes."""

from __future__ import annotations

from copy import deepcopy
from pathlib import PurePosixPath
from typing import Any, TypeVar

import fsspec
from kedro.io.core import AbstractVersionedDataset, DatasetError, Version, get_filepath_str, get_protocol_and_path

T = TypeVar("T")


class BytesFileDataset(AbstractVersionedDataset[T, T]):
    """A versionable single file read and written as bytes; subclasses encode and decode.

    Writes go to ``<file>.partial`` and are renamed into place, so an interrupted run never
    leaves a truncated file.
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

    def _read_bytes(self) -> tuple[bytes, str]:
        """The file's bytes and its path (for messages)."""
        path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._fs.open(path, mode="rb") as handle:
            return handle.read(), path

    def _save_path(self) -> str:
        return get_filepath_str(self._get_save_path(), self._protocol)

    def _write_bytes(self, path: str, data: bytes) -> None:
        with self._fs.open(f"{path}.partial", mode="wb") as handle:
            handle.write(data)
        self._fs.mv(f"{path}.partial", path)
        self._fs.invalidate_cache(get_filepath_str(self._filepath, self._protocol))

    def _exists(self) -> bool:
        try:
            path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(path)

    def _release(self) -> None:
        super()._release()
        self._fs.invalidate_cache(get_filepath_str(self._filepath, self._protocol))
