"""A relative SQLite tracking URI means the project's database, wherever the process was started."""

from __future__ import annotations

from pathlib import Path

from kedro.framework.hooks import hook_impl

SQLITE = "sqlite:///"


def project_tracking_uri(uri: str | None, project_path: Path) -> str | None:
    """``sqlite:///mlflow.db`` -> ``sqlite:///<project>/mlflow.db``; any other URI unchanged."""
    if not uri or not uri.startswith(SQLITE) or Path(uri.removeprefix(SQLITE)).is_absolute():
        return uri
    return f"{SQLITE}{(project_path / uri.removeprefix(SQLITE)).as_posix()}"


class ProjectMlflowStore:
    """Resolves ``server.mlflow_tracking_uri`` of mlflow.yml against the project root before
    kedro-mlflow reads it (SQLite resolves a relative path against the working directory, and a
    notebook's kernel runs in notebooks/)."""

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        conf = dict(context.config_loader["mlflow"])
        server = dict(conf.get("server") or {})
        uri = server.get("mlflow_tracking_uri")
        server["mlflow_tracking_uri"] = project_tracking_uri(uri, Path(context.project_path))
        context.config_loader["mlflow"] = {**conf, "server": server}
