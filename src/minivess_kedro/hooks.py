"""Project hooks: parameters checked before anything starts; the resolved config logged to MLflow."""

from __future__ import annotations

import logging
from typing import Any

import mlflow
import yaml
from kedro.framework.hooks import hook_impl

from minivess_kedro.pipelines.parameters import parameters_hash, validate_parameters

logger = logging.getLogger(__name__)


class RunParameterChecks:
    """Fails a run with invalid parameters before any node runs and before an MLflow run is opened
    (``after_catalog_created`` precedes ``before_pipeline_run``)."""

    @hook_impl
    def after_catalog_created(self, parameters: dict[str, Any], **kwargs: Any) -> None:
        # Kedro passes {"parameters": all of them, "params:<key>": each of them}.
        validate_parameters(parameters["parameters"])


class ResolvedConfigLogger:
    """Logs the run's resolved parameters (base + env + --params) as ``config/parameters.yml``."""

    def __init__(self) -> None:
        self._parameters: dict[str, Any] = {}
        self._env: str | None = None

    @hook_impl
    def after_context_created(self, context) -> None:
        self._parameters = context.config_loader["parameters"]
        self._env = context.env

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], **kwargs: Any) -> None:
        # kedro-mlflow's hook (a plugin, so called before project hooks) has opened the run.
        if mlflow.active_run() is None:
            return
        mlflow.log_text(yaml.safe_dump(dict(self._parameters), sort_keys=True), "config/parameters.yml")
        mlflow.set_tags(
            {
                "kedro_env": run_params.get("env") or self._env or "local",
                "params_hash": parameters_hash(self._parameters),
            }
        )
