"""Module-scoped fixtures of the notebook tests: a scratch project with the notebooks, the server of
``kedro jupyter lab --env demo`` in it, and one finished tiny run (train + evaluate)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.conftest import PROJECT_ROOT
from tests.notebooks.jupyter_env import JUPYTER_FOLDERS, server_env
from tests.notebooks.jupyter_server import Server

LOSS, FOLD_IDX = "dice_ce", 1  # not the catalog's default fold: the notebooks must pass --params through
PIPELINES = ["data_ingestion", "splitting", "training", "evaluation"]
KEDRO_JUPYTER_LAB = [sys.executable, "-m", "kedro", "jupyter", "lab", "--env", "demo"]


@dataclass(frozen=True)
class NotebookProject:
    """A scratch project: ``path`` (its root, with ``notebooks/``), the run's ``loss`` and ``fold_idx``."""

    path: Path
    loss: str
    fold_idx: int

    @property
    def data(self) -> Path:
        return self.path / "data" / "test-env"


def scratch_project(target: Path) -> Path:
    """Copies what a Kedro session and the notebooks need (pyproject, conf, notebooks) to ``target``."""
    target.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "pyproject.toml", target / "pyproject.toml")
    shutil.copytree(PROJECT_ROOT / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    (target / "conf" / "local").mkdir()
    (target / "src").mkdir()  # Kedro checks that it exists; the package itself is installed
    shutil.copytree(PROJECT_ROOT / "notebooks", target / "notebooks", ignore=shutil.ignore_patterns(".*"))
    return target


@pytest.fixture(scope="module")
def jupyter_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of the module's Jupyter servers; this process gets its Jupyter folders too, so
    that nbclient finds the kernels that ``kedro jupyter lab`` registers."""
    env = server_env(tmp_path_factory.mktemp("jupyter"))
    with pytest.MonkeyPatch.context() as patch:
        for variable in JUPYTER_FOLDERS:
            patch.setenv(variable, env[variable])
        yield env


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scratch_project(tmp_path_factory.mktemp("notebooks") / "project")


@pytest.fixture(scope="module")
def kedro_lab(scratch: Path, jupyter_env: dict[str, str]) -> Iterator[Server]:
    """``kedro jupyter lab --env demo`` in the scratch project: started, not yet serving (call
    ``wait_until_serving``), so that it starts up while the run trains."""
    server = Server(KEDRO_JUPYTER_LAB, scratch, jupyter_env, scratch.parent / "kedro-jupyter-lab.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def notebook_project(scratch: Path, kedro_lab: Server) -> Iterator[NotebookProject]:
    """``kedro run --env test --pipelines data_ingestion,splitting,training,evaluation
    --params loss=dice_ce,fold_idx=1`` in the scratch project (the working directory meanwhile)."""
    mlflow_conf = scratch / "conf" / "base" / "mlflow.yml"
    as_configured = mlflow_conf.read_text()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(scratch)
        # This process caches one MLflow store per tracking URI (see tests/conftest.py): the run here
        # uses the scratch database's absolute path, the notebooks' kernels the project's own setting.
        mlflow_conf.write_text(as_configured.replace("sqlite:///mlflow.db", f"sqlite:///{scratch / 'mlflow.db'}"))
        bootstrap_project(scratch)
        with KedroSession.create(
            project_path=scratch, env="test", runtime_params={"loss": LOSS, "fold_idx": FOLD_IDX}
        ) as session:
            session.run(pipeline_names=PIPELINES)
        mlflow_conf.write_text(as_configured)
        yield NotebookProject(scratch, LOSS, FOLD_IDX)
