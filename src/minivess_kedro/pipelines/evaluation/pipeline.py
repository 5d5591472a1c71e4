"""Wiring of ``evaluation``."""

from kedro.pipeline import Node, Pipeline

from minivess_kedro.pipelines.evaluation.baselines import evaluate_baselines
from minivess_kedro.pipelines.evaluation.nodes import predict_volumes, score_predictions, summarise_evaluation
from minivess_kedro.pipelines.evaluation.record import record_evaluation


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=predict_volumes,
                inputs={
                    "raw_images": "raw_images",
                    "fold_split": "fold_split",
                    "best_model": "best_model",
                    "model_config": "model_config",
                    "model_lineage": "model_lineage",
                    "evaluation": "params:evaluation",
                    "training": "params:training",
                    "loss": "params:loss",
                    "seed": "params:seed",
                    "dataset_fingerprint": "dataset_fingerprint",
                    "raw_labels": "raw_labels",
                    "volume_manifest": "volume_manifest",
                },
                outputs=["predictions", "predictions_lineage", "prediction_scores"],
                name="predict_volumes",
            ),
            Node(
                func=score_predictions,
                inputs={
                    "predictions": "predictions",
                    "predictions_lineage": "predictions_lineage",
                    "raw_labels": "raw_labels",
                    "fold_split": "fold_split",
                    "model_lineage": "model_lineage",
                    "volume_manifest": "volume_manifest",
                    "evaluation": "params:evaluation",
                    "prediction_scores": "prediction_scores",
                },
                outputs="volume_metrics",
                name="score_predictions",
            ),
            Node(
                func=summarise_evaluation,
                inputs={"volume_metrics": "volume_metrics", "evaluation": "params:evaluation"},
                outputs="metrics_summary",
                name="summarise_evaluation",
            ),
            Node(
                func=evaluate_baselines,
                inputs={
                    "raw_images": "raw_images",
                    "raw_labels": "raw_labels",
                    "splits": "splits",
                    "dataset_fingerprint": "dataset_fingerprint",
                    "volume_manifest": "volume_manifest",
                    "evaluation": "params:evaluation",
                },
                outputs="baseline_metrics",
                name="evaluate_baselines",
            ),
            Node(
                func=record_evaluation,
                inputs={
                    "volume_metrics": "volume_metrics",
                    "metrics_summary": "metrics_summary",
                    "model_lineage": "model_lineage",
                    "training_history": "training_history",
                    "loss": "params:loss",
                    "seed": "params:seed",
                    "fold_split": "fold_split",
                    "registered_model": "registered_model",
                    "best_model": "best_model",
                },
                outputs=[
                    "evaluation_metrics",
                    "evaluated_model_lineage",
                    "evaluated_training_history",
                    "last_evaluated_run",
                    "evaluated_registered_model",
                ],
                name="record_evaluation",
            ),
        ],
        tags="evaluation",
    )
