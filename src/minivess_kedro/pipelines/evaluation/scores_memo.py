"""Metrics computed while the next volume is predicted, and reused by ``score_predictions``.

``predict_volumes`` scores each volume's masks in a background thread (skeletons, distance
transforms and KD-trees release the GIL) while the network predicts the next volume; on a GPU the
metrics then cost no wall time beyond the last volume's. The results travel to
``score_predictions`` as a memo keyed by ``<postprocessing>/<volume id>``. Each entry carries the
digests of the prediction and reference it was computed on and the NSD settings, and is used only
when the arrays ``score_predictions`` loads and its settings match; anything else (a prediction
file replaced, another ``nsd_tau``, a run from before the memo) is scored afresh, so the memo can
only save time, never change a number.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np


def mask_digest(mask: np.ndarray) -> str:
    """SHA-256 of a binary mask's shape and voxels (independent of its integer or bool dtype)."""
    values = np.asarray(mask)
    digest = hashlib.sha256(repr(values.shape).encode())
    digest.update(np.packbits(values.astype(bool), axis=None).tobytes())
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def memo_entry(result: dict, pred: np.ndarray, ref: np.ndarray, nsd_tau: float, distance_units: str) -> dict:
    """One memo entry: :func:`~minivess_kedro.metrics.evaluate_pair`'s result (JSON values) and
    what it was computed on."""
    return {
        "pred_sha256": mask_digest(pred),
        "ref_sha256": mask_digest(ref),
        "nsd_tau": float(nsd_tau),
        "distance_units": distance_units,
        "result": {key: _plain(value) for key, value in result.items()},
    }


def reusable_result(
    entry: dict | None, pred: np.ndarray, ref: np.ndarray, nsd_tau: float, distance_units: str
) -> dict | None:
    """The entry's result if it was computed on these masks with these settings, else ``None``."""
    if not entry:
        return None
    same_settings = entry.get("nsd_tau") == float(nsd_tau) and entry.get("distance_units") == distance_units
    if (
        not same_settings
        or entry.get("pred_sha256") != mask_digest(pred)
        or entry.get("ref_sha256") != mask_digest(ref)
    ):
        return None
    return dict(entry["result"])
