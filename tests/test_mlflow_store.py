"""A relative SQLite tracking URI is the project's database, wherever Kedro was started from."""

from __future__ import annotations

from pathlib import Path

import mlflow
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from minivess_kedro.framework.mlflow_store import project_tracking_uri


def test_relative_sqlite_path_is_resolved_against_the_project() -> None:
    project = Path("/labs/vessels")
    assert project_tracking_uri("sqlite:///mlflow.db", project) == "sqlite:////labs/vessels/mlflow.db"
    assert project_tracking_uri("sqlite:///runs/m.db", project) == "sqlite:////labs/vessels/runs/m.db"


def test_other_uris_are_left_alone() -> None:
    project = Path("/labs/vessels")
    for uri in ("sqlite:////srv/mlflow.db", "http://mlflow.lab:5000", "file:///srv/mlruns", "", None):
        assert project_tracking_uri(uri, project) == uri


def test_session_started_in_a_subfolder_uses_the_projects_database(project_copy, monkeypatch) -> None:
    mlflow_conf = project_copy / "conf" / "base" / "mlflow.yml"
    text = mlflow_conf.read_text()
    mlflow_conf.write_text(text.replace(f"sqlite:///{project_copy / 'mlflow.db'}", "sqlite:///mlflow.db"))
    notebooks = project_copy / "notebooks"
    notebooks.mkdir()
    monkeypatch.chdir(notebooks)  # where a notebook's kernel runs

    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="test") as session:
        session.load_context()
        assert mlflow.get_tracking_uri() == f"sqlite:///{project_copy / 'mlflow.db'}"
    assert not (notebooks / "mlflow.db").exists()
