"""The volume manifest (one row per validated volume) and the dataset fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import pandas as pd

from minivess_kedro.data.validation import VolumeSummary

MANIFEST_COLUMNS = [
    "volume_id",
    "image_path",
    "label_path",
    "metadata_path",
    "size_h",
    "size_w",
    "size_d",
    "spacing_h_um",
    "spacing_w_um",
    "spacing_d_um",
    "image_dtype",
    "label_dtype",
    "foreground_fraction",
    "intensity_p01",
    "intensity_p50",
    "intensity_p99",
    "image_sha256",
    "label_sha256",
]


def build_manifest(summaries: Sequence[VolumeSummary], files: Mapping[str, Mapping[str, str]]) -> pd.DataFrame:
    """Joins the validation summaries with the file records.

    Args:
        summaries: one per valid volume.
        files: ``{volume id: {"image", "label", "metadata", "image_sha256", "label_sha256"}}``.

    Returns:
        The manifest, one row per volume sorted by id, columns :data:`MANIFEST_COLUMNS`.
    """
    rows = []
    for summary in sorted(summaries, key=lambda s: s.volume_id):
        record = files[summary.volume_id]
        rows.append(
            {
                "volume_id": summary.volume_id,
                "image_path": record["image"],
                "label_path": record["label"],
                "metadata_path": record.get("metadata") or "",
                "size_h": summary.shape[0],
                "size_w": summary.shape[1],
                "size_d": summary.shape[2],
                "spacing_h_um": summary.spacing[0],
                "spacing_w_um": summary.spacing[1],
                "spacing_d_um": summary.spacing[2],
                "image_dtype": summary.image_dtype,
                "label_dtype": summary.label_dtype,
                "foreground_fraction": summary.foreground_fraction,
                "intensity_p01": summary.intensity_percentiles[0],
                "intensity_p50": summary.intensity_percentiles[1],
                "intensity_p99": summary.intensity_percentiles[2],
                "image_sha256": record["image_sha256"],
                "label_sha256": record["label_sha256"],
            }
        )
    return pd.DataFrame(rows, columns=MANIFEST_COLUMNS)


def dataset_fingerprint(manifest: pd.DataFrame) -> str:
    """A sha256 over the ids and file hashes: equal iff the volumes are byte-identical.

    Paths and timestamps are left out, so the same data in another folder has the same
    fingerprint (it tags MLflow runs and decides whether a sweep cell is already done).
    """
    lines = sorted(f"{row.volume_id} {row.image_sha256} {row.label_sha256}" for row in manifest.itertuples())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def coarsest_spacing_by_volume(manifest: pd.DataFrame) -> dict[str, float]:
    """Each volume's coarsest voxel dimension (its largest spacing on any axis), by volume id.

    The NSD tolerance of ``evaluation.nsd_tau: auto``: one voxel on every axis of that volume, so
    that a one-voxel boundary shift is within tolerance. Per volume, not the dataset's coarsest:
    a tolerance of 16 in-plane voxels on a finely sampled volume makes its NSD saturate near 1.

    Raises:
        ValueError: an empty manifest or one without ids or spacing columns.
    """
    columns = ["volume_id", "spacing_h_um", "spacing_w_um", "spacing_d_um"]
    missing = [c for c in columns if c not in manifest.columns]
    if missing or manifest.empty:
        raise ValueError(f"the volume manifest has no spacing to derive the NSD tolerance from (missing {missing})")
    coarsest = manifest[columns[1:]].to_numpy(dtype=float).max(axis=1)
    return {str(volume_id): float(value) for volume_id, value in zip(manifest["volume_id"], coarsest, strict=True)}
