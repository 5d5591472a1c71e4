"""The node of ``export``: a registered model version as a MONAI Bundle."""

from __future__ import annotations

import logging
from typing import Any

from minivess_kedro.bundle import BundleSettings, bundle_files
from minivess_kedro.inference.registered_model import ModelIdentity
from minivess_kedro.pipelines.evaluation.nodes import evaluation_window
from minivess_kedro.pipelines.evaluation.params import EvaluationParams

logger = logging.getLogger(__name__)


def export_bundle(model: dict[str, Any], evaluation: dict) -> dict[str, Any]:
    """The bundle of ``model``: its network(s), the evaluation's window and overlap (the window
    being the model's training patch), the post-processing its verdict judged (recorded with an
    ensemble; none for one training run's network).

    Returns:
        ``{"name": "<model name>_v<version>", "files": {relative path: bytes}}``.
    """
    identity: ModelIdentity = model["model"]
    window = evaluation_window(EvaluationParams.model_validate(evaluation), model["model_config"])
    postprocessing = (model["ensemble"] or {}).get("postprocessing") or {"mode": "none"}
    logger.info(
        "Exporting %s (%s version %s, %d network(s)) as a MONAI Bundle: window %s, overlap %s, post-processing %s",
        identity.uri, identity.name, identity.version, len(model["members"]),
        window.roi_size, window.overlap, postprocessing["mode"],
    )  # fmt: skip
    files = bundle_files(model, BundleSettings(window, postprocessing))
    return {"name": f"{identity.name}_v{identity.version}", "files": files}
