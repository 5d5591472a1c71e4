"""Project hooks: parameters checked and missing inputs named before anything starts."""

from __future__ import annotations

import logging
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl

from minivess_kedro.framework.dotted_keys import dotted_keys
from minivess_kedro.framework.expected_errors import MissingInputsError
from minivess_kedro.pipeline_registry import DATA_FLOW
from minivess_kedro.pipelines.export.params import CATALOG_KEYS as EXPORT_KEYS
from minivess_kedro.pipelines.inference.params import CATALOG_KEYS as INFERENCE_KEYS
from minivess_kedro.pipelines.inference.params import check_catalog_sees_command_line_keys
from minivess_kedro.pipelines.parameters import ParameterError, check_run_cell, validate_parameters

logger = logging.getLogger(__name__)
# The parameter groups whose places the catalog reads from the command line only.
COMMAND_LINE_KEYS = {"inference": INFERENCE_KEYS, "export": EXPORT_KEYS}


class RunParameterChecks:
    """Fails a run with invalid parameters before any node runs and before an MLflow run is opened
    (``after_catalog_created`` precedes ``before_pipeline_run``), and a run whose parameters name
    another cell than its catalog's folders."""

    @hook_impl
    def after_catalog_created(self, parameters: dict[str, Any], conf_catalog: dict[str, Any], **kwargs: Any) -> None:
        # Kedro passes {"parameters": all of them, "params:<key>": each of them}.
        validate_parameters(parameters["parameters"])
        model_path = conf_catalog.get("best_model", {}).get("filepath")
        if model_path:
            check_run_cell(parameters["parameters"], model_path)
        unseen = [
            problem
            for group, keys in COMMAND_LINE_KEYS.items()
            for problem in check_catalog_sees_command_line_keys(parameters["parameters"], conf_catalog, group, keys)
        ]
        if unseen:
            raise ParameterError(f"{len(unseen)} parameter problem(s):\n  " + "\n  ".join(unseen))


class MissingInputCheck:
    """Before any node runs, every input the pipeline does not produce itself must exist; otherwise
    one error names each missing dataset, its file, and the command that writes it."""

    # Written by prepare_raw_data as files (a download or an import), not as node outputs.
    _RAW = frozenset({"raw_images", "raw_labels"})

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        free = {name for name in pipeline.inputs() if not name.startswith("params:") and name != "parameters"}
        if "prepare_raw_data" in {node.name for node in pipeline.nodes}:
            free -= self._RAW
        missing = sorted(name for name in free if not catalog.exists(name))
        if not missing:
            return
        producers = _producers()
        # In data-flow order: the first command is the one to run first.
        missing.sort(key=lambda name: (DATA_FLOW.index(producers.get(name, ("data_ingestion",))[0]), name))
        runtime = run_params.get("runtime_params") or {}
        # Kedro nests `--params a.b=1`; the suggested command says it back the way it was typed.
        params = ",".join(f"{key}={value}" for key, value in dotted_keys(runtime).items())
        env = f" --env {run_params['env']}" if run_params.get("env") else ""
        lines = []
        for name in missing:
            # An input the user names on the command line (inference's folder and model) says how.
            how_to_provide = getattr(catalog.get(name) if hasattr(catalog, "get") else None, "how_to_provide", None)
            if how_to_provide is not None:
                lines.append(f"{name}: {how_to_provide()}")
                continue
            pipeline_name, node_name = producers.get(name, ("data_ingestion", "prepare_raw_data"))
            command = f"kedro run{env} --pipelines {pipeline_name}" + (f" --params {params}" if params else "")
            lines.append(
                f"{name} ({_describe(catalog, name)}) does not exist yet: `{command}` writes it (node {node_name})"
            )
        if mlflow.active_run() is not None:  # kedro-mlflow opened it just before this hook
            mlflow.end_run(status="FAILED")
        raise MissingInputsError(
            f"{len(missing)} input(s) of this run are missing (in the order to make them):\n  " + "\n  ".join(lines)
        )


def _producers() -> dict[str, tuple[str, str]]:
    """Dataset name -> the pipeline and the node that write it (built here: during a run Kedro
    loads only the pipelines being run)."""
    import importlib  # noqa: PLC0415 - only on this error path

    names = {}
    for pipeline_name in DATA_FLOW:
        module = importlib.import_module(f"minivess_kedro.pipelines.{pipeline_name}")
        for node in module.create_pipeline().nodes:
            for output in node.outputs:
                names.setdefault(output, (pipeline_name, node.name))
    return names


def _describe(catalog, name: str) -> str:
    dataset = catalog.get(name) if hasattr(catalog, "get") else None
    description = getattr(dataset, "_describe", lambda: {})() if dataset is not None else {}
    return str(description.get("filepath") or description.get("path") or "in memory")
