"""A ``kedro run`` under ``torchrun``: one MLflow run, rank 0 alone writes.

``torchrun --nproc_per_node=N -m kedro run --env cloud_multi --pipelines training`` starts N Kedro
sessions. Every one must run the training node (each trains a DDP replica), but only rank 0 may
open the MLflow run or save catalog outputs: the others would log N runs and race on the files.
"""

from __future__ import annotations

import logging
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl
from kedro.io import MemoryDataset
from kedro_mlflow.io.catalog.switch_catalog_logging import switch_catalog_logging

from minivess_kedro.framework.expected_errors import DistributedRunError
from minivess_kedro.training.launch import launch_context

logger = logging.getLogger(__name__)

# Plugins whose hooks write records (MLflow runs, viz statistics, telemetry) once per run.
RANK_ZERO_PLUGINS = ("kedro_mlflow", "kedro-viz", "kedro-telemetry")
DISTRIBUTED_PIPELINE = "training"


def plugins_to_disable() -> tuple[str, ...]:
    """The plugins to switch off in this process (settings.py's ``DISABLE_HOOKS_FOR_PLUGINS``):
    those of :data:`RANK_ZERO_PLUGINS` on ranks other than 0, none elsewhere."""
    return () if launch_context().is_main else RANK_ZERO_PLUGINS


class DistributedRunGuard:
    """Under ``torchrun``: refuses pipelines other than training (data preparation and evaluation
    run once, in one process) and, on ranks other than 0, keeps every output in memory."""

    @hook_impl
    def after_context_created(self, context) -> None:
        """Ranks other than 0 write no log files and print only warnings and errors: rank 0 tells
        the run's story, and N processes repeating it would bury it (and rotate one file)."""
        if launch_context().is_main:
            return
        for handler in list(logging.root.handlers):
            if isinstance(handler, logging.FileHandler):
                logging.root.removeHandler(handler)
                handler.close()
            else:
                handler.setLevel(max(handler.level, logging.WARNING))

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        context = launch_context()
        if not context.is_distributed:
            return
        from minivess_kedro.pipelines.training import create_pipeline  # noqa: PLC0415 - only under torchrun

        allowed = {node.name for node in create_pipeline().nodes}
        others = sorted(node.name for node in pipeline.nodes if node.name not in allowed)
        if others:
            env = f" --env {run_params['env']}" if run_params.get("env") else ""
            if mlflow.active_run() is not None:  # kedro-mlflow (rank 0) opened it just before this hook
                mlflow.end_run(status="FAILED")
            raise DistributedRunError(
                f"torchrun runs only --pipelines {DISTRIBUTED_PIPELINE} ({context.world_size} processes would each "
                f"run {', '.join(others)}); prepare the data first with "
                f"`kedro run{env} --pipelines data_ingestion,splitting` and evaluate afterwards with "
                f"`kedro run{env} --pipelines evaluation` (same --params)"
            )
        if context.is_main:
            logger.info(
                "%d processes train one model: rank 0 saves the outputs and talks to MLflow; the other ranks keep "
                "their outputs in memory and print only warnings and errors",
                context.world_size,
            )
            return
        for name in sorted(pipeline.all_outputs()):
            catalog[name] = MemoryDataset(copy_mode="assign")
        # kedro-mlflow's hooks are off here, so nothing switched its datasets off: one loaded or
        # saved on this rank would open a run of its own.
        switch_catalog_logging(catalog, False)
