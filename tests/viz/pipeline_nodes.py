"""The project's six pipelines and the names of their nodes, read from the pipelines themselves."""

from __future__ import annotations

import importlib
import re

# The study's pipelines: what `__default__`, the flowchart kedro-viz opens on, draws.
STUDY_PIPELINES = ("data_ingestion", "splitting", "training", "evaluation", "reporting")
# Every registered pipeline: inference runs only by name, and kedro-viz lists it in its selector.
PIPELINES = (*STUDY_PIPELINES, "inference")


def node_names(pipeline: str) -> set[str]:
    """The node names of ``pipeline`` as its ``create_pipeline()`` builds it."""
    module = importlib.import_module(f"minivess_kedro.pipelines.{pipeline}.pipeline")
    return {node.name for node in module.create_pipeline().nodes}


def graph_labels(dom: str) -> set[str]:
    """The labels kedro-viz draws on the flowchart's nodes (SVG ``text``, not the sidebar list)."""
    return set(re.findall(r'<text[^>]*class="[^"]*pipeline-node__text[^"]*"[^>]*>([^<]+)</text>', dom))
