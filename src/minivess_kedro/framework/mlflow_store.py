"""Which MLflow store a run uses: the user's ``MLFLOW_TRACKING_URI`` (and ``MLFLOW_REGISTRY_URI``)
where set, as every MLflow tool reads them; else mlflow.yml's, whose relative SQLite file is the
project's database wherever the process was started (docs/lab_server.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

SQLITE = "sqlite:///"
# mlflow.yml's server keys, and the environment variables of MLflow's own that override them.
ENVIRONMENT_OVERRIDES = {"mlflow_tracking_uri": "MLFLOW_TRACKING_URI", "mlflow_registry_uri": "MLFLOW_REGISTRY_URI"}

_USERS_CHOICE: dict[str, str] = {}  # variable -> the value the user set (honoured in later sessions too)


def _exported_by_this_process() -> set[str]:
    """The URIs ``mlflow.set_tracking_uri`` / ``set_registry_uri`` set in this process: MLflow also
    exports them as MLFLOW_TRACKING_URI / MLFLOW_REGISTRY_URI (for subprocesses), so the same value
    in the environment is an earlier session's store, not the user's (several projects in one
    notebook or test run)."""
    from mlflow.tracking._model_registry import utils as registry  # noqa: PLC0415
    from mlflow.tracking._tracking_service import utils as tracking  # noqa: PLC0415

    return {uri for uri in (tracking._tracking_uri, registry._registry_uri) if uri}


def project_tracking_uri(uri: str | None, project_path: Path) -> str | None:
    """``sqlite:///mlflow.db`` -> ``sqlite:///<project>/mlflow.db``; any other URI unchanged."""
    if not uri or not uri.startswith(SQLITE) or Path(uri.removeprefix(SQLITE)).is_absolute():
        return uri
    return f"{SQLITE}{(project_path / uri.removeprefix(SQLITE)).as_posix()}"


def resolved_server(
    server: Mapping[str, Any] | None, project_path: Path, environ: Mapping[str, str] = os.environ
) -> dict[str, Any]:
    """mlflow.yml's ``server`` block with the environment's URIs put in and the SQLite path resolved."""
    resolved = dict(server or {})
    exported = _exported_by_this_process() if environ is os.environ else set()
    for key, variable in ENVIRONMENT_OVERRIDES.items():
        value = environ.get(variable)
        if value and (value not in exported or _USERS_CHOICE.get(variable) == value):
            _USERS_CHOICE[variable] = value  # seen before MLflow exported anything: the user's
            resolved[key] = value
    resolved["mlflow_tracking_uri"] = project_tracking_uri(resolved.get("mlflow_tracking_uri"), project_path)
    return resolved


class ProjectMlflowStore:
    """Puts :func:`resolved_server` into the config before kedro-mlflow reads it (``tryfirst``):
    kedro-mlflow would otherwise set mlflow.yml's URI over the user's environment, and SQLite
    resolves a relative path against the working directory (a notebook's kernel runs in notebooks/)."""

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        conf = dict(context.config_loader["mlflow"])
        server = resolved_server(conf.get("server"), Path(context.project_path))
        context.config_loader["mlflow"] = {**conf, "server": server}
