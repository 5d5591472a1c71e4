"""The fold ensemble a promoted loss is registered as: every network the verdict is about.

The report's verdict on a loss comes from all its runs (fold x seed); the model a lab applies is
therefore their ensemble (the mean of the members' softmax probabilities), not the one network
with the highest validation DSC (which compares different validation volumes and mostly picks
the easiest fold). A request names the members by their registered versions and weights digests,
with the post-processing the verdict's tables used; the registry dataset downloads, checks and
registers it (:class:`~minivess_kedro.datasets.ensemble_registry_dataset.EnsembleRegistryDataset`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from minivess_kedro.postprocessing import ComponentSettings
from minivess_kedro.reporting.promotion import ModelVersion
from minivess_kedro.reporting.records import RunRecord

#: ``evaluation.components.*`` params: the sizes of the ``components`` post-processing the runs used.
COMPONENT_PARAMS = ("min_volume_um3", "max_hole_um3")


def verdict_postprocessing(runs: Sequence[RunRecord], mode: str) -> dict:
    """The post-processing the verdict's tables used: ``{"mode": ...}``, with the runs' component
    sizes (``evaluation.components.*``, the same in every run of a report) for ``components``; a
    size a run did not log is the evaluation's default, so the record always holds both."""
    if mode != "components":
        return {"mode": mode}
    params = runs[0].params if runs else {}
    defaults = vars(ComponentSettings())
    sizes = {key: float(params.get(f"evaluation.components.{key}", defaults[key])) for key in COMPONENT_PARAMS}
    return {"mode": mode, "components": sizes}


def ensemble_request(
    loss: str,
    runs: Sequence[RunRecord],
    versions: Mapping[str, ModelVersion],
    postprocessing: Mapping,
) -> dict:
    """What registering ``loss``'s ensemble takes, or why it cannot be registered.

    Args:
        loss: the promoted loss.
        runs: the reported runs (the complete grid).
        versions: run id -> the version the run registered and its evaluation scored.
        postprocessing: :func:`verdict_postprocessing`.

    Returns:
        ``{"loss", "model_name", "members": [{"run_id", "fold_idx", "seed", "version",
        "weights_sha256"}, ...] (by fold, then seed), "postprocessing", "dataset_fingerprint"}``,
        or ``{"loss", "refused": reason}``: a run of the loss without a registered version, a
        version whose weights are not the evaluated ones, or members of several model names.
    """
    of_loss = sorted((run for run in runs if run.loss == loss), key=lambda run: (run.fold_idx, run.seed))
    if not of_loss:
        return {"loss": loss, "refused": f"no reported run of {loss}"}
    missing = [run.label for run in of_loss if run.run_id not in versions]
    if len(missing) == len(of_loss):
        return {"loss": loss, "refused": f"no run of {loss} has a registered model version (trained with MLflow off?)"}
    if missing:
        return {
            "loss": loss,
            "refused": f"the ensemble must hold every network the verdict is about, but {', '.join(missing)} "
            "registered no model version",
        }
    stale = [problem for run in of_loss if (problem := versions[run.run_id].mismatch())]
    if stale:
        return {"loss": loss, "refused": "; ".join(stale)}
    names = sorted({versions[run.run_id].name for run in of_loss})
    if len(names) > 1:
        return {"loss": loss, "refused": f"the runs of {loss} registered under several model names: {', '.join(names)}"}
    members = [
        {
            "run_id": run.run_id,
            "fold_idx": run.fold_idx,
            "seed": run.seed,
            "version": versions[run.run_id].version,
            "weights_sha256": versions[run.run_id].weights_sha256,
        }
        for run in of_loss
    ]
    return {
        "loss": loss,
        "model_name": names[0],
        "members": members,
        "postprocessing": dict(postprocessing),
        "dataset_fingerprint": of_loss[0].tags.get("dataset_fingerprint", ""),
    }


def ensemble_sha256(
    model_name: str, model_config: Mapping, member_digests: Sequence[str], postprocessing: Mapping
) -> str:
    """The identity of an ensemble: its model name, network configuration, members' weights (in
    order) and post-processing. Registering the same ensemble again finds its version by it."""
    content = {
        "model_name": model_name,
        "model_config": dict(model_config),
        "members": list(member_digests),
        "postprocessing": dict(postprocessing),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
