"""``RegistryAliasesDataset``: saving points MLflow model registry aliases at versions."""

from __future__ import annotations

import logging
from typing import Any

from kedro.io import AbstractDataset
from kedro.io.core import DatasetError
from mlflow import MlflowClient

logger = logging.getLogger(__name__)


class RegistryAliasesDataset(AbstractDataset[dict[str, dict[str, str]], None]):
    """Saves ``{model name: {alias: version}}`` as aliases of the registry kedro-mlflow configured
    (``set_registered_model_alias``: an alias that existed moves; version ``""`` removes the alias).
    Aliases not named are left as they are. Write-only: what the aliases pointed at before is read with the study's runs
    (:meth:`~minivess_kedro.datasets.mlflow_study_runs_dataset.StudyRuns.aliases`).
    """

    def __init__(self, *, metadata: dict[str, Any] | None = None) -> None:
        self.metadata = metadata

    def save(self, data: dict[str, dict[str, str]]) -> None:
        client = MlflowClient()
        for name, aliases in data.items():
            for alias, version in aliases.items():
                if version == "":
                    client.delete_registered_model_alias(name, alias)
                    logger.info("Registry: %s@%s removed", name, alias)
                    continue
                client.set_registered_model_alias(name, alias, str(version))
                logger.info("Registry: %s@%s -> version %s", name, alias, version)

    def load(self) -> None:
        raise DatasetError("RegistryAliasesDataset is write-only: read the aliases with the study's runs")

    def _exists(self) -> bool:
        return False

    def _describe(self) -> dict[str, Any]:
        return {}
