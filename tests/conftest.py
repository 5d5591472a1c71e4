"""Shared fixtures: project paths, a scratch copy of the project, small NIfTI volumes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

# kedro-telemetry sends events even with CI=true.
os.environ["KEDRO_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
# A lab's tracking server in the developer's shell would take every test run (mlflow_store.py).
for _variable in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
    os.environ.pop(_variable, None)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = PROJECT_ROOT.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


def scratch_project(target: Path) -> Path:
    """A scratch project at ``target`` (pyproject + conf, empty data layers) whose MLflow store is
    its own SQLite file, so that Kedro sessions write their data and runs there, not in the checkout."""
    target.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "pyproject.toml", target / "pyproject.toml")
    shutil.copytree(PROJECT_ROOT / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    (target / "conf" / "local").mkdir()
    (target / "src").mkdir()  # Kedro checks that it exists; the package itself is installed
    # MLflow caches one store per tracking URI in the process: a relative sqlite URI would keep
    # pointing at the first scratch project's database, so each scratch project names its own.
    mlflow_conf = target / "conf" / "base" / "mlflow.yml"
    mlflow_conf.write_text(mlflow_conf.read_text().replace("sqlite:///mlflow.db", f"sqlite:///{target / 'mlflow.db'}"))
    return target


@pytest.fixture(autouse=True)
def _no_inherited_tracking_uri() -> Iterator[None]:
    """mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI: a kedro process a test starts (or the next
    module's fixture) would take an earlier test's store for a lab server the user named
    (framework/mlflow_store.py). Removed before and after every test, never restored."""
    for variable in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        os.environ.pop(variable, None)
    yield
    for variable in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        os.environ.pop(variable, None)


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A :func:`scratch_project` as the working directory."""
    target = scratch_project(tmp_path / "project")
    monkeypatch.chdir(target)
    return target


@pytest.fixture
def tube_volume() -> tuple[np.ndarray, np.ndarray]:
    """A small image/label pair: a bright tube along z on a dark background."""
    label = np.zeros((16, 12, 8), dtype=np.uint8)
    label[6:9, 5:8, :] = 1
    image = (100 + 800 * label.astype(np.uint16)).astype(np.uint16)
    return image, label
