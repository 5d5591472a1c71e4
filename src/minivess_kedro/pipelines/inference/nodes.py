"""The node of ``inference``: a registered model version segments a folder of new volumes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from torch import nn
from tqdm.auto import tqdm

from minivess_kedro.inference.registered_model import ModelIdentity, ModelReferenceError
from minivess_kedro.inference.results import InferenceChunk, InferenceOutputError, output_place_problem
from minivess_kedro.inference.resume import PreviousOutput
from minivess_kedro.inference.sources import InferenceInputsError, SourceImage, header_problem
from minivess_kedro.inference.summary import STATUSES, summary_table
from minivess_kedro.inference.verdict_postprocessing import chosen_postprocessing
from minivess_kedro.inference.volume_run import RunSettings, VolumeSegmenter, summary_row
from minivess_kedro.models import build_network
from minivess_kedro.pipelines.evaluation.nodes import evaluation_window
from minivess_kedro.pipelines.evaluation.params import EvaluationParams
from minivess_kedro.pipelines.inference.params import InferenceParams
from minivess_kedro.pipelines.training.params import TrainingParams
from minivess_kedro.postprocessing import ComponentSettings
from minivess_kedro.training import resolve_device

logger = logging.getLogger(__name__)


def run_settings(
    inference: dict, evaluation: dict, model_config: dict, recorded: dict | None = None, uri: str = "the model"
) -> RunSettings:
    """The run's window (the evaluation's ``sliding_window`` with the model's own training patch,
    :func:`~minivess_kedro.pipelines.evaluation.nodes.evaluation_window`) and post-processing (by
    default the one the model records, ``recorded``: its verdict's, with its component sizes;
    :func:`~minivess_kedro.inference.verdict_postprocessing.chosen_postprocessing`)."""
    params, evaluation_params = InferenceParams.model_validate(inference), EvaluationParams.model_validate(evaluation)
    mode, components = chosen_postprocessing(
        params.postprocessing,
        params.allow_postprocessing_mismatch,
        recorded,
        ComponentSettings(**evaluation_params.components.model_dump()),
        uri,
    )
    window = evaluation_window(evaluation_params, model_config)
    return RunSettings(window, mode, components, params.save_probability, params.optional_files)


def model_network(model: dict[str, Any]) -> nn.Module:
    """The version's network: one DynUNet, or the ensemble of its members (mean softmax).

    Raises:
        ModelReferenceError: weights that do not fit the version's model_config.
    """
    identity: ModelIdentity = model["model"]
    try:
        return build_network(model["model_config"], model["members"], model.get("ensemble") is not None)
    except ValueError as err:  # weights of another architecture than the version's model_config
        raise ModelReferenceError(
            f"{identity.uri} (version {identity.version}): weights and model_config disagree: {err}"
        ) from err


def segment_new_volumes(
    model: dict[str, Any],
    volumes: list[SourceImage],
    previous: list[PreviousOutput],
    inference: dict,
    evaluation: dict,
    training: dict,
) -> Iterator[InferenceChunk]:
    """Segments every volume of the folder, one at a time (a generator: Kedro saves each chunk as
    it is yielded, so an interrupted run loses at most the volume in flight).

    Volumes whose listing or header is bad are reported before the model runs; a volume whose
    earlier output (same model version, source sha256 and settings) is still there is skipped.

    Args:
        model: the registry model (``{"model": ModelIdentity, "members", "model_config",
            "ensemble"}``, :class:`~minivess_kedro.datasets.registry_model_dataset.RegistryModelDataset`).
        volumes: the folder's images.
        previous: the records already in the output folder.
        inference, evaluation, training: the parameter groups (the window and clean-up of the
            evaluation; the device of ``training.compute``).

    Yields:
        One :class:`~minivess_kedro.inference.results.InferenceChunk` per volume, with the summary so far.

    Raises:
        InferenceOutputError: before any work, when the output folder is inside the input folder
            or holds the masks of another folder's volumes.
        PostprocessingMismatchError: before any work, when the post-processing asked for is not
            the one the model's verdict judged (unless allowed).
        InferenceInputsError: after every other volume was handled and the summary written,
            naming every volume that could not be segmented and why.
    """
    identity: ModelIdentity = model["model"]
    ensemble = model.get("ensemble")
    recorded = ensemble.get("postprocessing") if ensemble else None
    settings = run_settings(inference, evaluation, model["model_config"], recorded, identity.uri)
    params = InferenceParams.model_validate(inference)
    problem = output_place_problem(params.input, params.output, previous) if params.input else None
    if problem:
        raise InferenceOutputError(problem)
    refused = {source.path: problem for source in volumes if (problem := header_problem(source))}
    members = f"the ensemble of {len(model['members'])} {ensemble['loss']} networks" if ensemble else "one network"
    logger.info(
        "Segmenting %d volume(s) with %s (%s version %s, run %s: %s), window %s, overlap %s, post-processing %s",
        len(volumes), identity.uri, identity.name, identity.version, identity.run_id, members,
        settings.window.roi_size, settings.window.overlap, settings.postprocessing,
    )  # fmt: skip
    for path, problem in sorted(refused.items()):
        logger.warning("Not segmented (header): %s: %s", path, problem)
    device = resolve_device(TrainingParams.model_validate(training).compute.device)
    segmenter = VolumeSegmenter(model_network(model).to(device), device, identity, settings, previous)
    rows, failed = [], {}
    for source in tqdm(volumes, desc="segmenting", unit="volume", disable=None):
        if source.path in refused:
            row, volume = (
                summary_row(source, identity, settings.postprocessing, "failed", error=refused[source.path]),
                None,
            )
        else:
            row, volume = segmenter(source)
        if row["status"] == "failed":
            failed[str(source.path)] = row["error"]
        rows.append(row)
        yield InferenceChunk(identity, summary_table(rows), volume)
    statuses = [row["status"] for row in rows]
    logger.info("Inference: %s", ", ".join(f"{statuses.count(s)} {s}" for s in STATUSES))
    if failed:
        raise InferenceInputsError(failed)
