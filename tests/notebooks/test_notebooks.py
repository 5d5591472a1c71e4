"""The notebooks, executed headless on the test env's synthetic data and a finished tiny run.

``01_explore_data`` runs in a plain ``python3`` kernel (as under ``jupyter lab``): the notebook loads
the project itself. ``02_inspect_run`` runs in the kernel that ``kedro jupyter lab`` registers (as
under ``kedro jupyter lab``), which has loaded the project before the first cell.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from mlflow import MlflowClient
from nbclient import NotebookClient

from tests.conftest import PROJECT_ROOT
from tests.notebooks.conftest import NotebookProject
from tests.notebooks.html_table import html_table
from tests.notebooks.jupyter_server import Server

KEDRO_KERNEL = "kedro_minivess_kedro"
COMMITTED = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


def _with_parameters(path: Path, **values: object) -> nbformat.NotebookNode:
    """The notebook with a cell that sets ``values`` right after its ``parameters`` cell (as papermill does)."""
    notebook = nbformat.read(path, as_version=4)
    (index,) = [i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    return notebook


async def _execute_all(clients: list[NotebookClient]) -> None:
    await asyncio.gather(*(client.async_execute() for client in clients))


@pytest.fixture(scope="module")
def executed(notebook_project: NotebookProject, kedro_lab: Server) -> dict[str, nbformat.NotebookNode]:
    """Both notebooks executed at the same time (two kernels), keyed by name; ``02_inspect_run`` in
    the kernel that ``kedro jupyter lab`` registered."""
    kedro_lab.wait_until_serving()
    folder = notebook_project.path / "notebooks"
    notebooks = {
        "01_explore_data": _with_parameters(folder / "01_explore_data.ipynb", ENV="test"),
        "02_inspect_run": _with_parameters(
            folder / "02_inspect_run.ipynb", ENV="test", LOSS=notebook_project.loss, FOLD_IDX=notebook_project.fold_idx
        ),
    }
    kernels = {"01_explore_data": "python3", "02_inspect_run": KEDRO_KERNEL}
    clients = [
        NotebookClient(
            nb,
            timeout=300,
            kernel_name=kernels[name],
            record_timing=False,  # as JupyterLab saves them
            resources={"metadata": {"path": str(folder)}},
        )
        for name, nb in notebooks.items()
    ]
    asyncio.run(_execute_all(clients))  # a failing cell raises CellExecutionError naming it
    return notebooks


def _cell(notebook: nbformat.NotebookNode, tag: str) -> nbformat.NotebookNode:
    (cell,) = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    return cell


def _printed(cell: nbformat.NotebookNode) -> str:
    return "".join(o["text"] for o in cell.outputs if o["output_type"] == "stream" and o["name"] == "stdout")


def _table(cell: nbformat.NotebookNode) -> pd.DataFrame:
    """The DataFrame that the cell showed as its value (its last expression)."""
    (result,) = [o for o in cell.outputs if o["output_type"] == "execute_result"]
    return html_table(result["data"]["text/html"])


def _pngs(cell: nbformat.NotebookNode) -> list[str]:
    return [o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]


@pytest.mark.slow
def test_explore_data_shows_the_manifest_splits_and_figures(notebook_project, executed) -> None:
    notebook = executed["01_explore_data"]
    manifest = pd.read_csv(notebook_project.data / "02_intermediate" / "synthetic" / "volume_manifest.csv")
    splits = json.loads((notebook_project.data / "03_primary" / "synthetic" / "splits.json").read_text())

    assert f"{len(manifest)} volumes" in _printed(_cell(notebook, "manifest"))
    assert _table(_cell(notebook, "manifest"))["volume_id"].tolist() == manifest["volume_id"].tolist()
    expected = {
        f"fold {k}": {"train": len(fold["train"]), "val": len(fold["val"]), "test": len(fold["test"])}
        for k, fold in enumerate(splits["folds"])
    }
    assert _table(_cell(notebook, "splits")).astype(int).to_dict("index") == expected
    assert "protocol: nested" in _printed(_cell(notebook, "splits"))
    assert sum(row["test"] for row in expected.values()) == len(manifest)  # nested: every volume tested once
    for tag in ("distributions", "slices", "mip"):
        assert len(_pngs(_cell(notebook, tag))) == 1, tag


@pytest.mark.slow
def test_inspect_run_shows_the_mlflow_run_metrics_and_worst_cases(notebook_project, executed) -> None:
    notebook = executed["02_inspect_run"]
    client = MlflowClient(f"sqlite:///{notebook_project.path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("minivess-test")
    name = f"{notebook_project.loss}-fold{notebook_project.fold_idx}"
    (run,) = client.search_runs([experiment.experiment_id], filter_string=f"attributes.run_name = '{name}'")
    output = notebook_project.data / "07_model_output" / "synthetic" / notebook_project.loss
    metrics = pd.read_csv(output / f"fold_{notebook_project.fold_idx}" / "volume_metrics.csv")
    metrics = metrics[metrics["postprocessing"] == "none"]

    assert f"MLflow run {name} ({run.info.run_id}) in experiment minivess-test" in _printed(_cell(notebook, "curves"))
    epochs = len(client.get_metric_history(run.info.run_id, "train_loss"))
    assert _table(_cell(notebook, "history"))["epoch"].astype(int).tolist() == list(range(epochs))
    assert sorted(_table(_cell(notebook, "metrics"))["id"]) == sorted(metrics["id"])
    assert _table(_cell(notebook, "worst-cases"))["id"].tolist() == metrics.nsmallest(3, "dsc")["id"].tolist()
    for tag in ("curves", "metrics-plot", "predictions", "worst-slices"):
        assert len(_pngs(_cell(notebook, tag))) == 1, tag


@pytest.mark.slow
def test_notebook_kernels_use_the_projects_mlflow_store(notebook_project, executed) -> None:
    """The kernels run in notebooks/: nothing of MLflow's may land there instead of the project root."""
    leaked = {"mlflow.db", "mlruns"} & {p.name for p in (notebook_project.path / "notebooks").iterdir()}
    assert not leaked


def _outputs_left(notebook: nbformat.NotebookNode) -> list[str]:
    """The ids of the code cells that keep an output or an execution count."""
    return [c.id for c in notebook.cells if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]


def test_committed_notebooks_are_kept_without_outputs() -> None:
    assert {p.name for p in COMMITTED} >= {"01_explore_data.ipynb", "02_inspect_run.ipynb"}
    for path in COMMITTED:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert _outputs_left(notebook) == [], path.name
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        parameters = [cell for cell in code if "parameters" in cell.metadata.get("tags", [])]
        assert len(parameters) == 1 and "ENV = " in parameters[0].source, path.name
        loads = "%load_ext kedro.ipython\n%reload_kedro $PROJECT_PATH --env $ENV"
        assert any(loads in cell.source for cell in code), path.name


@pytest.mark.slow
def test_nbconvert_clears_executed_notebooks_for_committing(executed, tmp_path) -> None:
    """jupyter nbconvert --clear-output --inplace notebooks/*.ipynb"""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    paths = [folder / f"{name}.ipynb" for name in executed]
    for path, notebook in zip(paths, executed.values(), strict=True):
        nbformat.write(notebook, path)
        assert _outputs_left(nbformat.read(path, as_version=4))  # executed: outputs to clear
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--clear-output", "--inplace", *map(str, paths)]
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True)

    for path in paths:
        assert _outputs_left(nbformat.read(path, as_version=4)) == [], path.name


@pytest.mark.slow
def test_kedro_jupyter_lab_serves_the_notebooks_and_registers_the_kedro_kernel(kedro_lab, jupyter_env) -> None:
    """kedro jupyter lab --env demo (the server that started before the run; its kernel ran 02_inspect_run)"""
    kedro_lab.wait_until_serving()
    listed = {item["name"] for item in kedro_lab.get("/api/contents/notebooks")["content"]}
    specs = kedro_lab.get("/api/kernelspecs")

    assert listed >= {p.name for p in COMMITTED}
    assert specs["default"] == KEDRO_KERNEL  # the kernel of new notebooks
    kernel = specs["kernelspecs"][KEDRO_KERNEL]["spec"]
    assert kernel["argv"][0] == sys.executable and kernel["argv"][-2:] == ["--ext", "kedro.ipython"]
    assert (Path(jupyter_env["JUPYTER_DATA_DIR"]) / "kernels" / KEDRO_KERNEL / "kernel.json").is_file()
