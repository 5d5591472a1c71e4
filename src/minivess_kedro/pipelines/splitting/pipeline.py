"""Wiring of ``splitting``."""

from kedro.pipeline import Node, Pipeline

from minivess_kedro.pipelines.splitting.nodes import create_splits, split_for_fold


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=create_splits,
                inputs={"volume_manifest": "volume_manifest", "params": "params:splitting"},
                outputs="splits",
                name="create_splits",
            ),
            Node(
                func=split_for_fold,
                inputs={"splits": "splits", "fold_idx": "params:fold_idx"},
                outputs="fold_split",
                name="split_for_fold",
            ),
        ],
        tags="splitting",
    )
