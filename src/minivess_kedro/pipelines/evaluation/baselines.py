"""Node of the classical baselines: Otsu and Frangi on the held-out volumes, once per dataset."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from minivess_kedro.baselines import FrangiSettings, fit_frangi_threshold, frangi_segmentation, otsu_segmentation
from minivess_kedro.io import NiftiVolume, atomic_write_text
from minivess_kedro.metrics import VolumePair, evaluate_volumes
from minivess_kedro.pipelines.evaluation.params import EvaluationParams

logger = logging.getLogger(__name__)
Loaders = dict[str, Callable[[], NiftiVolume]]


def _cache_key(splits: dict, fingerprint: dict, params: EvaluationParams) -> str:
    record = {
        "fingerprint": fingerprint["fingerprint"],
        "test": sorted(splits.get("test", [])),
        "baselines": params.baselines.model_dump(mode="json", exclude={"cache_dir"}),
        "nsd_tau": params.nsd_tau,
        "distance_units": params.distance_units,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]


def evaluate_baselines(
    raw_images: Loaders, raw_labels: Loaders, splits: dict, dataset_fingerprint: dict, evaluation: dict
) -> pd.DataFrame:
    """Otsu and Frangi (threshold fitted on the non-test volumes) scored on the test volumes.

    They do not depend on the loss or the fold, so the table is cached per dataset, split and
    setting in ``evaluation.baselines.cache_dir`` and read back on later runs. Without a held-out
    test set, every volume is scored (and the Frangi threshold fitted on all of them).

    Returns:
        The per-volume table with a ``method`` column.
    """
    params = EvaluationParams.model_validate(evaluation)
    cache = Path(params.baselines.cache_dir) / f"baselines_{_cache_key(splits, dataset_fingerprint, params)}.csv"
    if cache.exists():
        logger.info("Baselines read from %s", cache)
        return pd.read_csv(cache)
    test_ids = sorted(splits.get("test", [])) or sorted(raw_images)
    fit_ids = sorted(set(raw_images) - set(splits.get("test", []))) or test_ids
    settings = FrangiSettings(sigmas=params.baselines.frangi_sigmas)
    tables = []
    if "frangi" in params.baselines.methods:
        fit = [(raw_images[i]().array, raw_labels[i]().array) for i in fit_ids]
        threshold = fit_frangi_threshold([image for image, _ in fit], [label for _, label in fit], settings)
        logger.info("Frangi threshold %.4f fitted on %d volumes", threshold, len(fit))
    for method in params.baselines.methods:

        def pairs(method=method):
            for volume_id in test_ids:
                image, label = raw_images[volume_id](), raw_labels[volume_id]()
                if method == "otsu":
                    mask = otsu_segmentation(image.array)
                else:
                    mask = frangi_segmentation(image.array, threshold, settings)
                yield VolumePair(volume_id, mask, label.array, label.spacing, "test")

        table = evaluate_volumes(pairs(), nsd_tau=params.nsd_tau, distance_units=params.distance_units)
        tables.append(table.assign(method=method))
    result = pd.concat(tables, ignore_index=True)
    atomic_write_text(cache, result.to_csv(index=False))
    return result
