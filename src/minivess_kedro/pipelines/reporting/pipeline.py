"""Wiring of ``reporting``."""

from kedro.pipeline import Node, Pipeline

from minivess_kedro.pipelines.reporting.collect import collect_study_runs, read_registry_aliases
from minivess_kedro.pipelines.reporting.nodes import build_study_report, plan_ensembles, promote_models


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=collect_study_runs,
                inputs={
                    "study_mlflow_runs": "study_mlflow_runs",
                    "reporting": "params:reporting",
                    "last_evaluated_run": "last_evaluated_run",
                    "dataset_fingerprint": "dataset_fingerprint",
                },
                outputs=["study_runs", "study_volume_metrics", "study_histories"],
                name="collect_study_runs",
            ),
            Node(
                func=read_registry_aliases,
                inputs={"study_mlflow_runs": "study_mlflow_runs", "study_runs": "study_runs"},
                outputs="registry_aliases",
                name="read_registry_aliases",
            ),
            Node(
                func=plan_ensembles,
                inputs={
                    "study_runs": "study_runs",
                    "study_volume_metrics": "study_volume_metrics",
                    "study_histories": "study_histories",
                    "dataset_fingerprint": "dataset_fingerprint",
                    "reporting": "params:reporting",
                    "registry_aliases": "registry_aliases",
                },
                outputs="study_ensembles",
                name="plan_ensembles",
            ),
            Node(
                func=build_study_report,
                inputs={
                    "study_runs": "study_runs",
                    "study_volume_metrics": "study_volume_metrics",
                    "study_histories": "study_histories",
                    "baseline_metrics": "baseline_metrics",
                    "raw_images": "raw_images",
                    "raw_labels": "raw_labels",
                    "dataset_fingerprint": "dataset_fingerprint",
                    "reporting": "params:reporting",
                    "registry_aliases": "registry_aliases",
                    "study_ensembles": "study_ensembles",
                },
                outputs=[
                    "report_loss_table",
                    "report_fold_table",
                    "report_comparisons",
                    "report_postprocessing_effect",
                    "report_figures",
                    "report_markdown",
                    "report_html",
                    "report_promotions",
                ],
                name="build_study_report",
            ),
            Node(
                func=promote_models,
                inputs={"report_promotions": "report_promotions", "reporting": "params:reporting"},
                outputs="promoted_aliases",
                name="promote_models",
            ),
        ],
        tags="reporting",
    )
