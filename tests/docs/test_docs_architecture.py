"""docs/architecture.md describes the real project: its graph is the pipelines' graph, edge by
edge, and its tables name the real nodes and the catalog's folder of every dataset."""

from __future__ import annotations

import re

import pytest
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from minivess_kedro.pipelines.inference.params import CATALOG_KEYS
from tests.conftest import PROJECT_ROOT
from tests.docs.docs_project import DocsProject
from tests.docs.markdown_parts import code_spans, fences, table_under

PAGE = PROJECT_ROOT / "docs" / "architecture.md"
PIPELINES = ["data_ingestion", "splitting", "training", "evaluation", "reporting", "inference", "export"]
# Inference reads its new volumes from a folder the command line names, not from under data/.
NAMED_FOLDERS = {
    dataset: f"inference.{key}" for key, (dataset, argument) in CATALOG_KEYS.items() if argument == "folder"
}


@pytest.fixture(scope="module")
def pipelines() -> dict[str, Pipeline]:
    bootstrap_project(PROJECT_ROOT)
    from kedro.framework.project import pipelines  # noqa: PLC0415 - readable once bootstrapped

    return {name: pipelines[name] for name in PIPELINES}


def _graph() -> str:
    (graph,) = [block for block in fences(PAGE, "mermaid") if "subgraph" in block]
    return graph


def _datasets(pipeline: Pipeline) -> set[str]:
    return {name for name in pipeline.datasets() if not name.startswith("params:") and name != "parameters"}


def test_the_graph_has_every_edge_of_the_pipelines_and_no_other(pipelines: dict[str, Pipeline]) -> None:
    documented = set(re.findall(r"^\s*(\w+) --> (\w+)\s*$", _graph(), flags=re.MULTILINE))
    real = set()
    for pipeline in pipelines.values():
        for node in pipeline.nodes:
            real |= {(name, node.name) for name in node.inputs if not name.startswith("params:")}
            real |= {(node.name, name) for name in node.outputs}
    assert documented == real


def test_the_graph_groups_the_nodes_by_pipeline(pipelines: dict[str, Pipeline]) -> None:
    groups = dict(re.findall(r"subgraph (\w+)\n(.*?)\n\s*end", _graph(), flags=re.DOTALL))
    documented = {name: set(re.findall(r"^\s*(\w+)\[", body, flags=re.MULTILINE)) for name, body in groups.items()}
    assert documented == {name: {node.name for node in p.nodes} for name, p in pipelines.items()}


def test_the_pipeline_table_names_the_nodes(pipelines: dict[str, Pipeline]) -> None:
    rows = table_under(PAGE, "One `kedro run` = one loss x one fold")
    documented = {code_spans(row["pipeline"])[0]: set(code_spans(row["nodes"])) for row in rows}
    assert documented == {name: {node.name for node in p.nodes} for name, p in pipelines.items()}


def test_the_layer_table_gives_each_dataset_its_catalog_folder(pipelines: dict[str, Pipeline]) -> None:
    catalog = DataCatalog.from_config(DocsProject(PROJECT_ROOT).config_loader(None)["catalog"])
    folder_of = {}
    for name in set().union(*(_datasets(p) for p in pipelines.values())):
        config = catalog.config_resolver.resolve_pattern(name)
        inner = config.get("dataset") if isinstance(config.get("dataset"), dict) else {}
        path = config.get("filepath") or config.get("path") or inner.get("filepath")  # an MLflow sink's file
        if name in NAMED_FOLDERS:
            folder_of[name] = NAMED_FOLDERS[name]
            continue
        # MLflow metrics, the runs read back and the registry have no file: they live in the tracking store.
        folder_of[name] = re.search(r"/(\d\d_\w+)(?:/|$)", path).group(1) if path else "mlflow.db"
    documented = {}
    for row in table_under(PAGE, "Data layers"):
        for dataset in code_spans(row["datasets"]):
            documented[dataset] = code_spans(row["folder"])[0]
    assert documented == folder_of
