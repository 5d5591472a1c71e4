"""Everything a node reads is a file of the catalog, under a path of its source, loss and fold, so
``kedro run --params loss=...,fold_idx=... --nodes <node>`` reruns one node on a past run's outputs."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from kedro.framework.project import pipelines, settings
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, MemoryDataset

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENVS = sorted(path.name for path in (PROJECT_ROOT / "conf").iterdir() if path.is_dir())
# Written once per dataset, not per run: the baselines' cache, and the pointer to the run that was
# evaluated last (the reporting pipeline reads every run from MLflow).
STUDY_WIDE = {"baseline_metrics", "last_evaluated_run"}
# Summary metrics logged to the MLflow run (their values are also in training_summary.json and
# metrics_summary.csv), and the runs the reporting pipeline reads back: no file by design.
METRIC_SINKS = {"training_metrics", "evaluation_metrics"}
RUNS_READ_BACK = "study_mlflow_runs"
# The registry aliases the report sets: they live in the MLflow registry (registry_aliases.json
# is the file of what they were before).
REGISTRY_SINKS = {"promoted_aliases"}
# What inference and export read from places the command line names (a registry URI, a folder of
# new volumes).
NAMED_ON_THE_COMMAND_LINE = {"inference_model", "inference_volumes", "export_model"}


def load_catalog(project: Path, env: str, runtime_params: dict | None = None) -> DataCatalog:
    """The catalog of ``kedro run --env <env> --params <runtime_params>``, without a session (whose
    kedro-mlflow hook would create ``mlflow.db`` in the checkout)."""
    bootstrap_project(project)
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(project / "conf"), env=env, runtime_params=runtime_params or {}, **settings.CONFIG_LOADER_ARGS
    )
    return settings.DATA_CATALOG_CLASS.from_config(loader["catalog"])


def dataset_path(catalog: DataCatalog, name: str) -> PurePosixPath | None:
    """The file or folder that holds a dataset; ``None`` for one that lives only in memory or in MLflow."""
    dataset = catalog.get(name)  # patterns (e.g. "{name}_table") resolve here
    if dataset is None or isinstance(dataset, MemoryDataset):
        return None
    description = dataset._describe()
    location = description.get("filepath") or description.get("path")
    return PurePosixPath(str(location)) if location else None


def node_inputs(pipeline) -> set[str]:
    return {name for node in pipeline.nodes for name in node.inputs if not name.startswith("params:")} - {"parameters"}


@pytest.fixture(scope="module")
def registry() -> dict:
    bootstrap_project(PROJECT_ROOT)
    return dict(pipelines)


@pytest.mark.parametrize("env", ENVS)
def test_every_dataset_a_node_reads_is_a_file_of_the_catalog(registry, env) -> None:
    catalog = load_catalog(PROJECT_ROOT, env)
    assert set(registry) >= {"data_ingestion", "splitting", "training", "evaluation", "reporting", "__default__"}
    for pipeline_name, pipeline in registry.items():
        not_persisted = sorted(name for name in node_inputs(pipeline) if dataset_path(catalog, name) is None)
        not_persisted = [name for name in not_persisted if name not in {RUNS_READ_BACK, *NAMED_ON_THE_COMMAND_LINE}]
        assert not not_persisted, f"{env}/{pipeline_name}: read by a node but not a file of the catalog"


def test_every_output_of_the_study_is_a_file_too(registry) -> None:
    catalog = load_catalog(PROJECT_ROOT, "base")
    outputs = registry["__default__"].all_outputs()
    assert "volume_metrics" in outputs and "report_loss_table" in outputs
    assert {name for name in outputs if dataset_path(catalog, name) is None} == METRIC_SINKS | REGISTRY_SINKS


def test_outputs_of_a_run_lie_under_its_source_loss_and_fold(registry) -> None:
    params = {"loss": "cbdice", "fold_idx": 2, "data_ingestion": {"source": "local"}}
    catalog = load_catalog(PROJECT_ROOT, "base", params)
    default = load_catalog(PROJECT_ROOT, "base")
    per_run = (registry["training"].all_outputs() | registry["evaluation"].all_outputs()) - STUDY_WIDE - METRIC_SINKS
    assert {"best_model", "predictions", "volume_metrics"} <= per_run
    for name in per_run:
        assert "/local/cbdice/fold_2/" in str(dataset_path(catalog, name)), name
        assert "/ebrains/dice_ce/fold_0/" in str(dataset_path(default, name)), name
    assert dataset_path(catalog, "fold_split").name == "fold_2.json"
    for name in registry["__default__"].datasets() - {"parameters", RUNS_READ_BACK} - METRIC_SINKS - REGISTRY_SINKS:
        if not name.startswith("params:"):  # synthetic and real data never share a folder
            assert dataset_path(catalog, name).parts[2] == "local", name
