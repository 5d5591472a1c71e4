"""Wiring of ``inference``."""

from kedro.pipeline import Node, Pipeline

from minivess_kedro.pipelines.inference.nodes import segment_new_volumes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=segment_new_volumes,
                # The model is loaded first: a URI that names no version fails before any volume is read.
                inputs={
                    "model": "inference_model",
                    "volumes": "inference_volumes",
                    "previous": "inference_previous",
                    "inference": "params:inference",
                    "evaluation": "params:evaluation",
                    "training": "params:training",
                },
                outputs="inference_results",
                name="segment_new_volumes",
            )
        ],
        tags="inference",
    )
