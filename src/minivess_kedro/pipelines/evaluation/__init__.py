"""Best checkpoint + val/test volumes -> predictions, per-volume metrics, summaries with CIs."""

from minivess_kedro.pipelines.evaluation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
