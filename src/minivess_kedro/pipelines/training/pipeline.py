"""Wiring of ``training``."""

from kedro.pipeline import Node, Pipeline

from minivess_kedro.pipelines.training.nodes import train_model
from minivess_kedro.pipelines.training.tracking import log_training_run


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
                func=log_training_run,
                inputs={
                    "best_model": "best_model",
                    "model_config": "model_config",
                    "training_summary": "training_summary",
                    "training_history": "training_history",
                    "fold_split": "fold_split",
                    "model_lineage": "model_lineage",
                    "dataset_fingerprint": "dataset_fingerprint",
                    "loss": "params:loss",
                    "seed": "params:seed",
                    "params": "params:training",
                },
                outputs="registered_model",
                name="log_training_run",
            ),
        ],
        tags="training",
    )
