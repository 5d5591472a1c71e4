"""Volumes + the run's fold + one loss + one compute profile -> best model, history, MLflow run."""

from minivess_kedro.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
