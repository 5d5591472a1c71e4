"""Nodes of ``data_ingestion``.

``prepare_raw_data`` is the one node that writes files itself: downloads and imports are
streams into ``data/01_raw/<source>/`` that a Kedro dataset cannot express ("fetch if missing").
Everything after it goes through the catalog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from minivess_kedro.data.layouts import VolumeFiles, import_volumes, scan_volumes
from minivess_kedro.data.manifest import build_manifest, dataset_fingerprint
from minivess_kedro.data.synthetic_dataset import SyntheticDatasetSettings, write_synthetic_dataset
from minivess_kedro.data.validation import DataValidationError, validate_pairs
from minivess_kedro.io.download import sha256_of
from minivess_kedro.io.ebrains import EbrainsSettings, download_minivess
from minivess_kedro.io.nifti import NiftiVolume
from minivess_kedro.pipelines.data_ingestion.params import DataIngestionParams

logger = logging.getLogger(__name__)


def _index(volumes: list[VolumeFiles], known_sha256: dict[Path, str] | None = None) -> dict[str, dict[str, str]]:
    """Paths and sha256 of every volume; hashes already verified this run are not recomputed."""
    known_sha256 = known_sha256 or {}

    def digest(path: Path) -> str:
        return known_sha256.get(path) or sha256_of(path)

    return {
        v.volume_id: {
            "image": v.image.as_posix(),
            "label": v.label.as_posix(),
            "metadata": v.metadata.as_posix() if v.metadata else "",
            "image_sha256": digest(v.image),
            "label_sha256": digest(v.label),
        }
        for v in volumes
    }


def prepare_raw_data(params: dict) -> dict:
    """Makes ``<raw_root>/<source>/`` hold the volumes in the canonical layout.

    Synthetic volumes are generated once per setting; a local folder is linked or copied (never
    re-encoded); EBRAINS files are downloaded once and verified by sha256 on later runs.

    Returns:
        The raw-data index: ``{"source", "root", "volumes": {id: {paths, sha256s}}, "problems"}``;
        file problems (bad names, duplicate ids, unpaired files) are reported by validation,
        together with the content problems.
    """
    params = DataIngestionParams.model_validate(params)
    root = Path(params.raw_root) / params.source
    problems: list[str] = []
    known: dict[Path, str] = {}
    if params.source == "synthetic":
        volumes = write_synthetic_dataset(root, SyntheticDatasetSettings(**params.synthetic.model_dump()))
    elif params.source == "local":
        found, problems = scan_volumes(params.local.path)
        volumes = import_volumes(found, root)
    else:
        manifest = download_minivess(root, EbrainsSettings(**params.ebrains.model_dump()))
        known = {root / record["path"]: record["sha256"] for record in manifest.values()}  # verified just now
        volumes, problems = scan_volumes(root)
    logger.info("%d %s volumes in %s", len(volumes), params.source, root)
    return {"source": params.source, "root": root.as_posix(), "volumes": _index(volumes, known), "problems": problems}


def validate_volumes(
    raw_images: dict[str, Callable[[], NiftiVolume]],
    raw_labels: dict[str, Callable[[], NiftiVolume]],
    raw_data_index: dict,
) -> tuple[pd.DataFrame, dict]:
    """Checks every pair and writes down what the study will train on.

    Returns:
        The volume manifest and ``{"fingerprint", "source", "num_volumes"}``.

    Raises:
        DataValidationError: every problem of every file, in one message.
    """
    files = raw_data_index["volumes"]
    names = {i: (f["image"], f["label"]) for i, f in files.items()}
    problems = list(raw_data_index.get("problems", []))
    problems += [
        f"{raw_data_index['root']}: {i} is not in the raw-data index" for i in sorted(set(raw_images) - set(files))
    ]
    problems += [  # the catalog reads another folder than the one prepared (raw_root vs data_root)
        f"{files[i]['image']}: indexed but not found by the catalog's raw_images"
        for i in sorted(set(files) - set(raw_images))
    ]
    try:
        summaries = validate_pairs(raw_images, raw_labels, names)
    except DataValidationError as err:
        raise DataValidationError(problems + err.problems) from None
    if problems:
        raise DataValidationError(problems)
    manifest = build_manifest(summaries, files)
    fingerprint = {
        "fingerprint": dataset_fingerprint(manifest),
        "source": raw_data_index["source"],
        "num_volumes": len(manifest),
    }
    return manifest, fingerprint
