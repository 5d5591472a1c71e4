"""Wiring of ``training``."""

from kedro.pipeline import Node, Pipeline

from minivess_kedro.pipelines.training.nodes import train_model
from minivess_kedro.pipelines.training.record import record_training_run


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=train_model,
                inputs={
                    "raw_images": "raw_images",
                    "raw_labels": "raw_labels",
                    "splits": "splits",
                    "fold_split": "fold_split",
                    "dataset_fingerprint": "dataset_fingerprint",
                    "loss": "params:loss",
                    "seed": "params:seed",
                    "params": "params:training",
                },
                outputs=["best_model", "training_history", "model_config", "training_summary", "model_lineage"],
                name="train_model",
            ),
            Node(
                func=record_training_run,
                inputs={
                    "best_model": "best_model",
                    "model_config": "model_config",
                    "training_summary": "training_summary",
                    "fold_split": "fold_split",
                    "params": "params:training",
                },
                outputs=["registered_model", "training_metrics", "training_split"],
                name="record_training_run",
            ),
        ],
        tags="training",
    )
