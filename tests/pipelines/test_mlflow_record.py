"""The MLflow record of a study, compared key by key with the record the nodes used to write."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from tests.conftest import PROJECT_ROOT
from tests.pipelines.mlflow_record import CELL, kedro_run, run_study, study_record

EXPECTED = Path(__file__).with_name("mlflow_record_expected.json")
PIPELINES = PROJECT_ROOT / "src" / "minivess_kedro" / "pipelines"
# The training loop's per-epoch callback: a curve must reach MLflow while the node runs.
LIVE_CALLBACK = PIPELINES / "training" / "live_metrics.py"


def _differences(expected: object, actual: object, where: str = "") -> list[str]:
    """Every path at which two JSON values differ, e.g. ``.runs[1].tags: only before ['x'], ...``."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        lines = []
        for key in sorted(set(expected) | set(actual)):
            if key not in actual or key not in expected:
                lines.append(f"{where}.{key}: {'missing' if key not in actual else 'new'}")
            else:
                lines += _differences(expected[key], actual[key], f"{where}.{key}")
        return lines
    if isinstance(expected, list) and isinstance(actual, list):
        if expected != actual and all(isinstance(value, str) for value in expected + actual):
            gone, new = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
            return [f"{where}: only before {gone}, only now {new}"]
        if len(expected) == len(actual):
            pairs = enumerate(zip(expected, actual, strict=True))
            return [line for i, (e, a) in pairs for line in _differences(e, a, f"{where}[{i}]")]
    return [] if expected == actual else [f"{where}: {str(expected)[:80]} -> {str(actual)[:80]}"]


def test_differences_name_the_path_of_each_change() -> None:
    before = {"runs": [{"tags": ["a", "b"], "metrics": {"dsc": [0]}}]}
    now = {"runs": [{"tags": ["a", "c"], "metrics": {"dsc": [0, 1]}, "new": 1}]}
    assert _differences(before, now) == [
        ".runs[0].metrics.dsc: [0] -> [0, 1]",
        ".runs[0].new: new",
        ".runs[0].tags: only before ['b'], only now ['c']",
    ]


@pytest.mark.slow
def test_a_study_gives_the_record_the_nodes_used_to_write(project_copy) -> None:
    """kedro run --env test --pipelines data_ingestion,splitting, then the study of one cell, its
    re-evaluation, a report and the data preparation again: params, metrics (names and steps), tags,
    artifacts (JSON contents, CSV columns and rows) and the model version, key by key; the data
    preparation opens no run."""
    kedro_run(project_copy, ["data_ingestion", "splitting"], CELL)
    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("minivess-test")
    assert experiment is None or not client.search_runs([experiment.experiment_id])  # data preparation: no run

    run_study(project_copy)
    kedro_run(project_copy, ["data_ingestion", "splitting"], CELL)  # again, in the same process

    assert mlflow.active_run() is None  # no earlier run reopened by the untracked session
    differences = _differences(json.loads(EXPECTED.read_text()), study_record(project_copy))
    assert not differences, "\n".join(differences)


def _imports_mlflow(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        if any(name == "mlflow" or name.startswith("mlflow.") for name in names):
            return True
    return False


def test_no_pipeline_module_calls_mlflow_but_the_training_loops_callback() -> None:
    callers = sorted(str(p.relative_to(PIPELINES)) for p in PIPELINES.rglob("*.py") if _imports_mlflow(p))
    assert callers == [str(LIVE_CALLBACK.relative_to(PIPELINES))]
