"""A relative SQLite tracking URI is the project's database, wherever Kedro was started from."""

from __future__ import annotations

from pathlib import Path

import mlflow
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from minivess_kedro.framework.mlflow_store import project_tracking_uri, resolved_server
from tests.conftest import scratch_project


def test_relative_sqlite_path_is_resolved_against_the_project() -> None:
    project = Path("/labs/vessels")
    assert project_tracking_uri("sqlite:///mlflow.db", project) == "sqlite:////labs/vessels/mlflow.db"
    assert project_tracking_uri("sqlite:///runs/m.db", project) == "sqlite:////labs/vessels/runs/m.db"


def test_other_uris_are_left_alone() -> None:
    project = Path("/labs/vessels")
    for uri in ("sqlite:////srv/mlflow.db", "http://mlflow.lab:5000", "file:///srv/mlruns", "", None):
        assert project_tracking_uri(uri, project) == uri


def test_the_users_environment_names_the_store_over_mlflow_yml() -> None:
    project, server = Path("/labs/vessels"), {"mlflow_tracking_uri": "sqlite:///mlflow.db", "mlflow_registry_uri": None}
    assert resolved_server(server, project, environ={})["mlflow_tracking_uri"] == "sqlite:////labs/vessels/mlflow.db"
    lab = {"MLFLOW_TRACKING_URI": "http://mlflow.lab:5000"}
    assert resolved_server(server, project, environ=lab) == {
        "mlflow_tracking_uri": "http://mlflow.lab:5000",
        "mlflow_registry_uri": None,  # the tracking server's registry, as MLflow does
    }
    both = lab | {"MLFLOW_REGISTRY_URI": "postgresql://lab/registry"}
    assert resolved_server(server, project, environ=both)["mlflow_registry_uri"] == "postgresql://lab/registry"
    assert resolved_server(server, project, environ={"MLFLOW_TRACKING_URI": ""}) == resolved_server(server, project, {})


def test_session_with_mlflow_tracking_uri_set_uses_that_store(project_copy, monkeypatch, tmp_path) -> None:
    """MLFLOW_TRACKING_URI=sqlite:///<elsewhere> kedro run ...: the project's mlflow.db is not written."""
    elsewhere = f"sqlite:///{tmp_path / 'lab.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", elsewhere)
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="test") as session:
        session.load_context()
        assert mlflow.get_tracking_uri() == elsewhere
    assert (tmp_path / "lab.db").exists() and not (project_copy / "mlflow.db").exists()
    with KedroSession.create(project_path=project_copy, env="test") as session:  # again, in this process
        session.load_context()
        assert mlflow.get_tracking_uri() == elsewhere


def test_a_store_an_earlier_session_exported_is_not_taken_for_the_users(project_copy, tmp_path) -> None:
    """mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI: a second project in the same process
    (a notebook, the tests) still uses its own database."""
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="test") as session:
        session.load_context()
    other = scratch_project(tmp_path / "other")
    bootstrap_project(other)
    with KedroSession.create(project_path=other, env="test") as session:
        session.load_context()
        assert mlflow.get_tracking_uri() == f"sqlite:///{other / 'mlflow.db'}"


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
