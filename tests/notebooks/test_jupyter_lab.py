"""``jupyter lab`` (without Kedro's kernel) serves the notebooks too (docs/notebooks.md); the
notebooks name the plain ``python3`` kernel and load the project themselves."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.notebooks.conftest import scratch_project
from tests.notebooks.jupyter_env import server_env
from tests.notebooks.jupyter_server import serve


@pytest.mark.slow
def test_jupyter_lab_serves_the_notebooks_with_their_python3_kernel(tmp_path: Path) -> None:
    """jupyter lab"""
    project = scratch_project(tmp_path / "project")
    env = server_env(tmp_path / "jupyter")
    with serve([sys.executable, "-m", "jupyter", "lab"], project, env, tmp_path / "lab.log") as server:
        listed = {item["name"] for item in server.get("/api/contents/notebooks")["content"]}
        specs = server.get("/api/kernelspecs")

    assert listed >= {"01_explore_data.ipynb", "02_inspect_run.ipynb"}
    assert "python3" in specs["kernelspecs"]
    assert {p.name for p in project.joinpath("notebooks").glob("*.ipynb")} == listed  # shown as they are
