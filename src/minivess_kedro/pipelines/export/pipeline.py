"""Wiring of ``export``."""

from kedro.pipeline import Node, Pipeline

from minivess_kedro.pipelines.export.nodes import export_bundle


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=export_bundle,
                inputs={"model": "export_model", "evaluation": "params:evaluation"},
                outputs="monai_bundle",
                name="export_bundle",
            )
        ],
        tags="export",
    )
