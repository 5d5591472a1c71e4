"""Every finished run of the experiment -> comparison tables, paired tests, figures, report."""

from minivess_kedro.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
