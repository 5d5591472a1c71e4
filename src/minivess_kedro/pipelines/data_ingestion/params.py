"""Typed ``data_ingestion`` parameters: a typo or a bad value fails before any work."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from minivess_kedro.io.ebrains import FILES_URL, ZIP_URL
from minivess_kedro.pipelines.params_base import StrictParams


class SyntheticParams(StrictParams):
    """The embedded generator (see ``minivess_kedro.data.synthetic``)."""

    num_volumes: int = Field(12, ge=1, le=999)
    seed: int = 2023
    size_hw: tuple[int, int] = (128, 128)
    depth_range: tuple[int, int] = (12, 32)

    @model_validator(mode="after")
    def _sizes(self) -> SyntheticParams:
        if min(self.size_hw) < 8 or self.depth_range[0] < 2 or self.depth_range[0] > self.depth_range[1]:
            raise ValueError(
                f"size_hw {self.size_hw} needs sides >= 8 and depth_range {self.depth_range} needs 2 <= min <= max"
            )
        return self


class LocalParams(StrictParams):
    """A folder holding MiniVess in the EBRAINS or the nnU-Net/MONAI layout."""

    path: str | None = None


class EbrainsParams(StrictParams):
    """The EBRAINS download (see ``minivess_kedro.io.ebrains``)."""

    method: Literal["files", "zip"] = "files"
    files_url: str = FILES_URL
    zip_url: str = ZIP_URL
    num_volumes: int = Field(70, ge=1, le=70)
    retries: int = Field(3, ge=0)
    timeout_s: float = Field(60.0, gt=0)


class DataIngestionParams(StrictParams):
    """``data_ingestion:`` in ``parameters_data_ingestion.yml``."""

    source: Literal["synthetic", "local", "ebrains"]
    raw_root: str = "data/01_raw"
    synthetic: SyntheticParams = SyntheticParams()
    local: LocalParams = LocalParams()
    ebrains: EbrainsParams = EbrainsParams()

    @model_validator(mode="after")
    def _local_needs_path(self) -> DataIngestionParams:
        if self.source == "local" and not self.local.path:
            raise ValueError("data_ingestion.local.path must name the MiniVess folder when source is 'local'")
        return self
