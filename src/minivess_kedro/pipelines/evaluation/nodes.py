"""Nodes of ``evaluation``: predict val/test volumes whole, score them, summarise with CIs."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import torch

from minivess_kedro.inference import SlidingWindowConfig, normalised_image, segment_volume
from minivess_kedro.io import NiftiVolume
from minivess_kedro.metrics import VolumePair, evaluate_pair, evaluate_volumes, summarize_metrics
from minivess_kedro.models import DynUNetConfig, build_dynunet, check_patch_fits
from minivess_kedro.pipelines.evaluation.params import EvaluationParams
from minivess_kedro.pipelines.evaluation.scores_memo import memo_entry, reusable_result
from minivess_kedro.pipelines.training.params import TrainingParams
from minivess_kedro.postprocessing import ComponentSettings, TopoSculptSettings, clean_components, toposculpt
from minivess_kedro.training import resolve_device
from minivess_kedro.training.lineage import (
    check_evaluated_ids,
    check_lineage_identity,
    check_same_model,
    lineage_digest,
)

logger = logging.getLogger(__name__)
Loaders = dict[str, Callable[[], NiftiVolume]]
RAW = "none"


def evaluated_ids(fold_split: dict, splits: tuple[str, ...]) -> dict[str, str]:
    """``{volume id: split}`` of the volumes to evaluate (val of this fold, the held-out test)."""
    return {volume_id: split for split in splits for volume_id in fold_split.get(split, [])}


def evaluation_window(params: EvaluationParams, model_config: dict) -> SlidingWindowConfig:
    """The sliding window of whole-volume prediction: ``evaluation.sliding_window``, its window
    the training patch unless ``roi_size`` is set.

    Raises:
        ValueError: a ``roi_size`` side that is not a multiple of the network's strides' product,
            naming ``evaluation.sliding_window.roi_size``.
    """
    settings = params.sliding_window
    roi_size = tuple(settings.roi_size or model_config["patch_size"])
    if settings.roi_size is not None:
        check_patch_fits(roi_size, model_config["strides"], where="evaluation.sliding_window.roi_size")
    return SlidingWindowConfig(
        roi_size=roi_size,
        sw_batch_size=settings.sw_batch_size,
        overlap=settings.overlap,
        mode=settings.mode,
        device="cpu" if settings.stitch_on_cpu else None,
    )


def predict_volumes(
    raw_images: Loaders,
    fold_split: dict,
    best_model: dict[str, torch.Tensor],
    model_config: dict,
    model_lineage: dict,
    evaluation: dict,
    training: dict,
    loss: str,
    seed: int,
    dataset_fingerprint: dict,
    raw_labels: Loaders | None = None,
    volume_manifest: pd.DataFrame | None = None,
) -> tuple[dict[str, NiftiVolume], dict, dict]:
    """Segments every evaluated volume with the run's best model and post-processes it.

    While the network predicts a volume, a background thread cleans the previous one's
    components and, given ``raw_labels`` and ``volume_manifest``, computes the metrics of its raw
    and cleaned masks (:mod:`~minivess_kedro.pipelines.evaluation.scores_memo`).

    Returns:
        ``{"<postprocessing>/<volume id>": NiftiVolume}`` with the source affine and spacing
        (``none/<id>`` is the raw argmax prediction), the lineage of the model that made them
        (``predictions_lineage.json``: scoring checks it is still the run's model) and the memo
        of the metrics computed beside the predictions (``prediction_scores.json``).

    Raises:
        LeakageError: a model whose record names another loss, fold, seed or dataset than the
            run's, or a volume to score as test or val that the model trained (or, for test,
            was selected) on, by the model's own lineage record; before any prediction.
    """
    params = EvaluationParams.model_validate(evaluation)
    compute = TrainingParams.model_validate(training).compute
    ids = evaluated_ids(fold_split, params.splits)
    run = {
        "loss": loss,
        "fold_idx": fold_split["fold_idx"],
        "seed": seed,
        "dataset_fingerprint": dataset_fingerprint["fingerprint"],
    }
    check_lineage_identity(model_lineage, run, "best_model.pt")
    check_evaluated_ids(model_lineage, ids, "best_model.pt")
    missing = sorted(set(ids) - set(raw_images))
    if missing:
        raise KeyError(
            f"volumes {missing} of the fold are not in the raw data; rerun data_ingestion with the same --env"
        )
    window = evaluation_window(params, model_config)
    device = resolve_device(compute.device)
    model = build_dynunet(DynUNetConfig.from_dict(model_config))
    model.load_state_dict(best_model)
    model.to(device)
    sculpt = TopoSculptSettings(**params.toposculpt.model_dump())
    beside = _BesidePrediction(params, raw_labels, volume_manifest)
    predictions, pending = {}, {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="beside-prediction") as worker:
        for volume_id in ids:
            source = raw_images[volume_id]()
            mask, _ = segment_volume(model, source.array, window, device)
            predictions[f"{RAW}/{volume_id}"] = NiftiVolume(mask, source.affine, source.spacing)
            pending[volume_id] = source, worker.submit(beside, volume_id, mask, source.spacing)
            if "toposculpt" in params.postprocessing:
                image = normalised_image(source.array).to(device)
                refined = toposculpt(model, image, window, sculpt, stride_product=math.prod(model_config["strides"]))
                predictions[f"toposculpt/{volume_id}"] = NiftiVolume(refined, source.affine, source.spacing)
        scores = {}
        for volume_id, (source, done) in pending.items():
            cleaned, entries = done.result()
            if cleaned is not None:
                predictions[f"components/{volume_id}"] = NiftiVolume(cleaned, source.affine, source.spacing)
            scores |= entries
    logger.info("Predicted %d volumes (%s)", len(ids), ", ".join(sorted(set(ids.values()))))
    return predictions, model_lineage, scores


class _BesidePrediction:
    """What runs in the background while the next volume is predicted: the components clean-up
    and, with the labels at hand, the metrics of the raw and cleaned masks (memo entries)."""

    def __init__(self, params: EvaluationParams, labels: Loaders | None, manifest: pd.DataFrame | None) -> None:
        self.components = (
            ComponentSettings(**params.components.model_dump()) if "components" in params.postprocessing else None
        )
        self.labels, self.units = labels, params.distance_units
        # each labelled volume's own tolerance; none known (no labels or manifest): nothing scored here
        scorable = (
            [] if labels is None or manifest is None else sorted(set(labels) & set(manifest.get("volume_id", ())))
        )
        self.taus = params.volume_tolerances(manifest, scorable) if scorable else {}

    def __call__(self, volume_id: str, mask, spacing) -> tuple[object, dict]:
        cleaned = None if self.components is None else clean_components(mask, spacing, self.components)
        tau = self.taus.get(volume_id)
        if tau is None:
            return cleaned, {}
        reference = self.labels[volume_id]()
        entries = {}
        for variant, prediction in ((RAW, mask), ("components", cleaned)):
            if prediction is None:
                continue
            try:
                result = evaluate_pair(prediction, reference.array, reference.spacing, tau, self.units)
            except ValueError:
                continue  # score_predictions scores it again and reports the problem with the volume named
            entries[f"{variant}/{volume_id}"] = memo_entry(result, prediction, reference.array, tau, self.units)
        return cleaned, entries


def score_predictions(
    predictions: Loaders,
    predictions_lineage: dict,
    raw_labels: Loaders,
    fold_split: dict,
    model_lineage: dict,
    volume_manifest: pd.DataFrame,
    evaluation: dict,
    prediction_scores: dict | None = None,
) -> pd.DataFrame:
    """Every metric of the metrics package for every prediction (MetricsReloaded definitions).

    NSD uses ``evaluation.nsd_tau``; ``auto`` scores each volume at its own coarsest voxel
    dimension (from the manifest). Each row records the tolerance it was scored at (``nsd_tau``)
    and the rule (``nsd_tau_rule``: ``auto`` or ``fixed``). A volume that ``predict_volumes``
    already scored, on exactly these masks with these settings, takes that result
    (``prediction_scores``); every other volume is scored here.

    Returns:
        The per-volume table with ``id``, ``split``, ``postprocessing``, the metrics,
        ``nsd_tau``, ``nsd_tau_rule`` and ``lineage_sha256`` (the model whose predictions they are).

    Raises:
        LeakageError: as :func:`predict_volumes` (a rerun of this node alone is checked too), or
            predictions made by another model than the run's current one.
    """
    params = EvaluationParams.model_validate(evaluation)
    splits = evaluated_ids(fold_split, params.splits)
    check_evaluated_ids(model_lineage, splits, "best_model.pt")
    check_same_model(model_lineage, lineage_digest(predictions_lineage), "the predictions", "predict_volumes")
    taus = params.volume_tolerances(volume_manifest, [key.split("/", 1)[1] for key in predictions])
    memo, reused = prediction_scores or {}, []
    tables = []
    for variant in sorted({key.split("/", 1)[0] for key in predictions}):

        def known(pair: VolumePair, variant=variant) -> dict | None:
            entry = memo.get(f"{variant}/{pair.id}")
            result = reusable_result(entry, pair.pred, pair.ref, taus[pair.id], params.distance_units)
            if result is not None:
                reused.append(pair.id)
            return result

        keys = sorted(k for k in predictions if k.startswith(f"{variant}/"))

        def pairs(keys=keys):
            for key in keys:
                volume_id = key.split("/", 1)[1]
                prediction, reference = predictions[key](), raw_labels[volume_id]()
                yield VolumePair(volume_id, prediction.array, reference.array, reference.spacing, splits[volume_id])

        table = evaluate_volumes(pairs(), nsd_tau=taus, distance_units=params.distance_units, known=known)
        tables.append(table.assign(postprocessing=variant, nsd_tau_rule=params.nsd_tau_rule))
    logger.info("Scored %d predictions, %d of them beside the prediction", len(predictions), len(reused))
    return pd.concat(tables, ignore_index=True).assign(lineage_sha256=lineage_digest(model_lineage))


def summarise_evaluation(volume_metrics: pd.DataFrame, evaluation: dict) -> pd.DataFrame:
    """Mean, median, std and bootstrap CI per metric, for each split and post-processing."""
    params = EvaluationParams.model_validate(evaluation)
    summaries = []
    for (split, variant), table in volume_metrics.groupby(["split", "postprocessing"], sort=True):
        summary = summarize_metrics(
            table,
            method=params.bootstrap.method,
            n_resamples=params.bootstrap.n_resamples,
            confidence_level=params.bootstrap.confidence_level,
            seed=params.bootstrap.seed,
        )
        summaries.append(summary.reset_index().assign(split=split, postprocessing=variant))
    return pd.concat(summaries, ignore_index=True)
