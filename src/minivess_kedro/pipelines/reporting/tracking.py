"""Node that logs the report to MLflow."""

from __future__ import annotations

import logging

import mlflow
import pandas as pd

logger = logging.getLogger(__name__)


def log_report(
    loss_table: pd.DataFrame,
    comparisons: pd.DataFrame,
    report_markdown: str,
    report_html: str,
) -> None:
    """Logs the report under ``report/`` of the active run (the HTML embeds every figure). A run
    that did not itself train and evaluate (``kedro run --pipelines reporting``) is named
    ``report``."""
    run = mlflow.active_run()
    if run is None:
        logger.warning("No active MLflow run: report not logged")
        return
    if mlflow.get_run(run.info.run_id).data.tags.get("evaluated") != "true":
        mlflow.set_tags({"mlflow.runName": "report", "experiment_phase": "report"})
    mlflow.log_text(report_markdown, "report/report.md")
    mlflow.log_text(report_html, "report/report.html")
    mlflow.log_text(loss_table.to_csv(index=False), "report/loss_table.csv")
    mlflow.log_text(comparisons.to_csv(index=False), "report/comparisons.csv")
