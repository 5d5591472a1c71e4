"""``BundleFolderDataset``: a MONAI Bundle written as a folder, whole or not at all."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset
from kedro.io.core import DatasetError


class BundleFolderDataset(AbstractDataset[dict, dict]):
    """Saves ``{"name", "files": {relative path: bytes}}`` as the folder ``<path>/<name>/`` (or
    ``output_folder`` when given): written to ``<folder>.partial`` and renamed into place, so an
    interrupted export never leaves a half bundle, and an earlier bundle there is replaced only
    by a complete one; a folder that is not a bundle is never replaced. Loading reads the folder
    back (``name``: its name).

    Example catalog entry::

        monai_bundle:
          type: minivess_kedro.datasets.bundle_folder_dataset.BundleFolderDataset
          path: data/10_bundles
          output_folder: ${runtime_params:export.output, ""}
    """

    def __init__(self, *, path: str, output_folder: str = "", metadata: dict[str, Any] | None = None) -> None:
        self._path, self._output, self.metadata = Path(path), (output_folder or "").strip(), metadata
        self._last: Path | None = None

    def _folder(self, name: str) -> Path:
        return Path(self._output) if self._output else self._path / name

    def save(self, data: dict) -> None:
        """Writes the bundle beside its folder, then swaps it in.

        Raises:
            DatasetError: the folder exists and is neither empty nor a bundle (it has no
                ``configs/metadata.json``): nothing of it is touched.
        """
        folder = self._folder(data["name"]).resolve()
        if folder.exists() and any(folder.iterdir()) and not (folder / "configs" / "metadata.json").is_file():
            raise DatasetError(
                f"{folder} exists and is not a bundle (no configs/metadata.json): the export does not replace it; "
                "name an empty or new folder with --params export.output=<folder>"
            )
        partial, previous = folder.with_name(f"{folder.name}.partial"), folder.with_name(f"{folder.name}.previous")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            for relative, content in data["files"].items():
                target = partial / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        shutil.rmtree(previous, ignore_errors=True)
        if folder.exists():
            folder.rename(previous)  # kept until the new bundle is in place
        partial.rename(folder)
        shutil.rmtree(previous, ignore_errors=True)
        self._last = folder

    def load(self) -> dict:
        folder = self._last or (Path(self._output) if self._output else None)
        if folder is None or not folder.is_dir():
            raise DatasetError("BundleFolderDataset: no bundle written yet (run `kedro run --pipelines export`)")
        files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
        return {"name": folder.name, "files": files}

    def _exists(self) -> bool:
        return self._last is not None and self._last.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "output_folder": self._output}
