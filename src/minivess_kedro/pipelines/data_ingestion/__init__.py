"""Source (synthetic | local folder | EBRAINS) -> raw volumes -> validated manifest."""

from minivess_kedro.pipelines.data_ingestion.pipeline import create_pipeline

__all__ = ["create_pipeline"]
