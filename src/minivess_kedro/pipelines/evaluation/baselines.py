"""Node of the classical baselines: Otsu and Frangi on the held-out volumes, once per dataset."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from minivess_kedro.baselines import FrangiSettings, fit_frangi_threshold, frangi_segmentation, otsu_segmentation
from minivess_kedro.data.splits import split_protocol
from minivess_kedro.io import NiftiVolume, atomic_write_text
from minivess_kedro.metrics import VolumePair, evaluate_volumes
from minivess_kedro.pipelines.evaluation.params import EvaluationParams

logger = logging.getLogger(__name__)
Loaders = dict[str, Callable[[], NiftiVolume]]


def _cache_key(
    groups: list[tuple[list[str], list[str]]], fingerprint: dict, params: EvaluationParams, protocol: str
) -> str:
    record = {
        "fingerprint": fingerprint["fingerprint"],
        "groups": groups,
        "baselines": params.baselines.model_dump(mode="json", exclude={"cache_dir"}),
        # auto by name, not by a resolved number: a table cached under the old dataset-wide auto is not reused
        "nsd_tau": params.nsd_tau if params.nsd_tau == "auto" else float(params.nsd_tau),
        "distance_units": params.distance_units,
        "protocol": protocol,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]


def baseline_groups(splits: dict, ids: list[str]) -> list[tuple[list[str], list[str]]]:
    """``[(scored ids, ids the Frangi threshold is fitted on), ...]`` under the splits' protocol.

    Nested: one group per outer fold (its test volumes, fitted on the other folds), so that every
    volume is scored once by a threshold that never saw it. Holdout: the test set, fitted on the
    rest. Without a test set (the previous protocol): every volume, fitted on all of them.
    """
    outer = [sorted(fold["test"]) for fold in splits["folds"] if fold.get("test")]
    test = sorted(splits.get("test", []))
    scored = outer or ([test] if test else [sorted(ids)])
    return [(group, sorted(set(ids) - set(group)) or group) for group in scored]


def evaluate_baselines(
    raw_images: Loaders,
    raw_labels: Loaders,
    splits: dict,
    dataset_fingerprint: dict,
    volume_manifest: pd.DataFrame,
    evaluation: dict,
) -> pd.DataFrame:
    """Otsu and Frangi (threshold fitted on the volumes not scored) scored on the test volumes.

    They do not depend on the loss or the fold, so the table is cached per dataset, split and
    setting in ``evaluation.baselines.cache_dir`` and read back on later runs. The groups of
    scored and fitting volumes follow the protocol (see :func:`baseline_groups`).

    Returns:
        The per-volume table with ``method``, ``protocol``, ``nsd_tau`` and ``nsd_tau_rule``
        columns (the report leaves out baselines of another protocol or NSD rule than its runs).
    """
    params = EvaluationParams.model_validate(evaluation)
    groups = baseline_groups(splits, sorted(raw_images))
    taus = params.volume_tolerances(volume_manifest, [i for scored, _ in groups for i in scored])
    protocol = split_protocol(splits)
    key = _cache_key(groups, dataset_fingerprint, params, protocol)
    cache = Path(params.baselines.cache_dir) / f"baselines_{key}.csv"
    if cache.exists():
        logger.info("Baselines read from %s", cache)
        return pd.read_csv(cache)
    settings = FrangiSettings(sigmas=params.baselines.frangi_sigmas)
    tables = []
    for test_ids, fit_ids in groups:
        threshold = 0.0
        if "frangi" in params.baselines.methods:
            fit = ((raw_images[i]().array, raw_labels[i]().array) for i in fit_ids)  # one volume at a time
            threshold = fit_frangi_threshold(fit, settings)
            logger.info("Frangi threshold %.4f fitted on %d volumes", threshold, len(fit_ids))
        for method in params.baselines.methods:

            def pairs(method=method, test_ids=test_ids, threshold=threshold):
                for volume_id in test_ids:
                    image, label = raw_images[volume_id](), raw_labels[volume_id]()
                    if method == "otsu":
                        mask = otsu_segmentation(image.array)
                    else:
                        mask = frangi_segmentation(image.array, threshold, settings)
                    yield VolumePair(volume_id, mask, label.array, label.spacing, "test")

            table = evaluate_volumes(pairs(), nsd_tau=taus, distance_units=params.distance_units)
            tables.append(table.assign(method=method, protocol=protocol, nsd_tau_rule=params.nsd_tau_rule))
    result = pd.concat(tables, ignore_index=True).sort_values(["method", "id"], kind="stable", ignore_index=True)
    atomic_write_text(cache, result.to_csv(index=False))
    return result
