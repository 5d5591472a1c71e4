"""A run stopped by Ctrl-C ends FAILED in MLflow, not FINISHED.

Ctrl-C raises ``KeyboardInterrupt``, which Kedro's ``on_pipeline_error`` hook never sees (it is
not an ``Exception``); MLflow's own exit handler then ends the open run as FINISHED, and a
half-trained run would look complete. An exit handler registered after MLflow's runs first.
"""

from __future__ import annotations

import atexit
import gc
import logging
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)


class InterruptedRunMarker:
    """Ends the run's MLflow run as FAILED (tag ``ended_by``) when the process exits before the
    pipeline finished or failed."""

    def __init__(self) -> None:
        self._run_id: str | None = None
        self._registered = False

    @hook_impl
    def before_pipeline_run(self, **kwargs: Any) -> None:
        # kedro-mlflow (a plugin, called before project hooks) has opened the run.
        run = mlflow.active_run()
        self._run_id = run.info.run_id if run is not None else None
        if self._run_id and not self._registered:
            atexit.register(self.end_if_interrupted)  # LIFO: before MLflow's handler
            self._registered = True

    @hook_impl
    def after_pipeline_run(self, **kwargs: Any) -> None:
        self._run_id = None

    @hook_impl
    def on_pipeline_error(self, **kwargs: Any) -> None:
        self._run_id = None  # kedro-mlflow ends it FAILED itself

    def end_if_interrupted(self) -> None:
        """Marks the still-open run of an interrupted pipeline FAILED (called at exit)."""
        run = mlflow.active_run()
        if self._run_id is None or run is None or run.info.run_id != self._run_id:
            return
        _drop_interrupted_writes()
        mlflow.set_tag("ended_by", "interrupted (Ctrl-C) before the pipeline finished; rerun to resume")
        mlflow.end_run(status="FAILED")
        logger.warning("MLflow run %s ended FAILED: the pipeline was interrupted", self._run_id)
        self._run_id = None


def _drop_interrupted_writes() -> None:
    """Ctrl-C can land inside a metric write: that SQLite transaction, left open on a pooled
    connection, would lock this very process out of the database ("database is locked" after
    MLflow's 20 s wait). Closing the store's connections rolls it back."""
    store = mlflow.tracking._tracking_service.utils._get_store()
    engine = getattr(store, "engine", None)
    if engine is not None:
        gc.collect()  # connections of interrupted sessions, no longer referenced, close and roll back
        engine.dispose()
