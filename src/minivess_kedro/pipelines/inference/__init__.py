"""A registered model version + a folder of new volumes -> masks with the source headers, records, summary.csv."""

from minivess_kedro.pipelines.inference.pipeline import create_pipeline

__all__ = ["create_pipeline"]
