"""Wiring of ``data_ingestion``."""

from kedro.pipeline import Node, Pipeline

from minivess_kedro.pipelines.data_ingestion.nodes import prepare_raw_data, validate_volumes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=prepare_raw_data,
                inputs={"params": "params:data_ingestion"},
                outputs="raw_data_index",
                name="prepare_raw_data",
            ),
            Node(
                func=validate_volumes,
                inputs={"raw_images": "raw_images", "raw_labels": "raw_labels", "raw_data_index": "raw_data_index"},
                outputs=["volume_manifest", "dataset_fingerprint"],
                name="validate_volumes",
            ),
        ],
        tags="data_ingestion",
    )
