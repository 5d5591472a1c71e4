"""The node of ``export``: a registered model version as a MONAI Bundle."""

from __future__ import annotations

import logging
from typing import Any

from minivess_kedro.bundle import BundleSettings, bundle_files
from minivess_kedro.inference.registered_model import ModelIdentity
from minivess_kedro.inference.verdict_postprocessing import (
    APPLICABLE,
    PostprocessingMismatchError,
    chosen_postprocessing,
)
from minivess_kedro.pipelines.evaluation.nodes import evaluation_window
from minivess_kedro.pipelines.evaluation.params import EvaluationParams
from minivess_kedro.postprocessing import ComponentSettings

logger = logging.getLogger(__name__)


def export_bundle(model: dict[str, Any], evaluation: dict) -> dict[str, Any]:
    """The bundle of ``model``: its network(s), the evaluation's window and overlap (the window
    being the model's training patch), the post-processing its verdict judged (recorded with an
    ensemble; none for one training run's network), as inference chooses it by default.

    Raises:
        PostprocessingMismatchError: a verdict on a post-processing the bundle cannot apply
            (``toposculpt``).

    Returns:
        ``{"name": "<model name>_v<version>", "files": {relative path: bytes}}``.
    """
    identity: ModelIdentity = model["model"]
    params = EvaluationParams.model_validate(evaluation)
    window = evaluation_window(params, model["model_config"])
    recorded = (model["ensemble"] or {}).get("postprocessing")
    if recorded and recorded["mode"] not in APPLICABLE:
        raise PostprocessingMismatchError(
            f"{identity.uri}: the report's verdict judged {recorded['mode']}-post-processed masks, which a bundle "
            f"cannot apply ({', '.join(APPLICABLE)} only): export the version of a report with "
            "reporting.postprocessing=none or components"
        )
    mode, sizes = chosen_postprocessing(
        "auto", False, recorded, ComponentSettings(**params.components.model_dump()), identity.uri
    )
    postprocessing = {"mode": mode} | ({"components": vars(sizes)} if sizes else {})
    logger.info(
        "Exporting %s (%s version %s, %d network(s)) as a MONAI Bundle: window %s, overlap %s, post-processing %s",
        identity.uri, identity.name, identity.version, len(model["members"]),
        window.roi_size, window.overlap, postprocessing["mode"],
    )  # fmt: skip
    files = bundle_files(model, BundleSettings(window, postprocessing))
    return {"name": f"{identity.name}_v{identity.version}", "files": files}
