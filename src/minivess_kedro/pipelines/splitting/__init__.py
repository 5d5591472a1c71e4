"""Manifest -> splits.json (held-out test + k folds) -> the split of the run's fold."""

from minivess_kedro.pipelines.splitting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
