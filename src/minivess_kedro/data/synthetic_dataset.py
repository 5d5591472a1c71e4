"""A folder of synthetic MiniVess-like volumes in the canonical layout, made once per setting."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from minivess_kedro.data.layouts import CANONICAL_DIRS, VolumeFiles, canonical_paths
from minivess_kedro.data.synthetic import GENERATOR_VERSION, generate_volume
from minivess_kedro.io.atomic import atomic_write_text
from minivess_kedro.io.nifti import NiftiVolume, write_nifti

logger = logging.getLogger(__name__)
RECORD_NAME = "synthetic_settings.json"


@dataclass(frozen=True)
class SyntheticDatasetSettings:
    """What to generate.

    Attributes:
        num_volumes: volumes mv01..mvNN.
        seed: dataset seed; volume i uses ``seed * 1000 + i``.
        size_hw: in-plane size in voxels.
        depth_range: depths are drawn uniformly in this inclusive range (MiniVess: 5 to 110).
    """

    num_volumes: int = 12
    seed: int = 2023
    size_hw: tuple[int, int] = (128, 128)
    depth_range: tuple[int, int] = (12, 32)


def _record(settings: SyntheticDatasetSettings) -> dict:
    return {"generator_version": GENERATOR_VERSION, **json.loads(json.dumps(asdict(settings)))}


def _clear(root: Path) -> None:
    for folder in CANONICAL_DIRS.values():
        shutil.rmtree(root / folder, ignore_errors=True)
    (root / RECORD_NAME).unlink(missing_ok=True)


def write_synthetic_dataset(root: str | os.PathLike, settings: SyntheticDatasetSettings) -> list[VolumeFiles]:
    """Generates the volumes that are missing under ``root`` (all of them if the settings changed).

    The settings record is written first: every volume on disk next to a matching record was
    made with these settings, so an interrupted run keeps what it wrote (atomically) and the
    next run generates only the rest.

    Returns:
        The files of every volume, sorted by id.
    """
    root = Path(root)
    record_path = root / RECORD_NAME
    wanted = _record(settings)
    if not record_path.exists() or json.loads(record_path.read_text()) != wanted:
        logger.info("Generating synthetic MiniVess-like volumes in %s", root)
        _clear(root)
    atomic_write_text(record_path, json.dumps(wanted, indent=1))
    depths = np.random.default_rng(settings.seed).integers(
        settings.depth_range[0], settings.depth_range[1] + 1, size=settings.num_volumes
    )
    volumes = []
    for index in tqdm(range(1, settings.num_volumes + 1), desc="synthetic volumes", disable=None):
        files = canonical_paths(root, f"mv{index:02d}")
        volumes.append(files)
        if files.image.exists() and files.label.exists() and files.metadata.exists():
            continue
        shape = (*settings.size_hw, int(depths[index - 1]))
        volume = generate_volume(seed=settings.seed * 1000 + index, shape=shape)
        affine = np.diag([*volume.spacing, 1.0])
        write_nifti(files.image, NiftiVolume(volume.image, affine, volume.spacing))
        write_nifti(files.label, NiftiVolume(volume.label, affine, volume.spacing))
        atomic_write_text(files.metadata, json.dumps({"id": files.volume_id, **volume.metadata}, indent=1))
    return volumes
