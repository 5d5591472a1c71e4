"""A registered model version -> a MONAI Bundle (configs, weights, TorchScript, docs, licences)."""

from minivess_kedro.pipelines.export.pipeline import create_pipeline

__all__ = ["create_pipeline"]
