"""Validation of image/label pairs: every problem of every file, reported together."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from minivess_kedro.data.layouts import normalise_id
from minivess_kedro.io.nifti import NiftiVolume

VolumeLoader = Callable[[], NiftiVolume]


class DataValidationError(ValueError):
    """The dataset has problems; the message lists each file and what is wrong with it."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the dataset:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class VolumeSummary:
    """What the manifest records of one valid pair."""

    volume_id: str
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    image_dtype: str
    label_dtype: str
    foreground_fraction: float
    intensity_percentiles: tuple[float, float, float]


def _check_ids(ids: list[str], kind: str) -> list[str]:
    """Ids must read as ``mvXX`` and stay unique once normalised (``mv1`` and ``mv01`` clash)."""
    problems, seen = [], {}
    for volume_id in sorted(ids):
        normalised = normalise_id(f"{volume_id}.nii.gz")
        if normalised is None:
            problems.append(f"{kind} {volume_id!r}: id does not follow mvXX")
        elif normalised in seen:
            problems.append(f"{kind} {volume_id!r}: duplicate id {normalised} (also {seen[normalised]!r})")
        else:
            seen[normalised] = volume_id
    return problems


def _load(loader: VolumeLoader, what: str, problems: list[str]) -> NiftiVolume | None:
    try:
        return loader()
    except Exception as err:
        problems.append(f"{what}: unreadable ({err})")
        return None


def image_problems(volume: NiftiVolume, name: str) -> list[str]:
    """What makes an image unusable: not 3D, non-finite voxels, non-positive spacing (one line each,
    starting with ``name``)."""
    return _check_image(volume, name)


def _check_image(volume: NiftiVolume, name: str) -> list[str]:
    problems = []
    if volume.array.ndim != 3:
        problems.append(f"{name}: {volume.array.ndim}D with shape {volume.array.shape}, expected 3D")
    elif not np.all(np.isfinite(volume.array)):
        problems.append(
            f"{name}: {int(np.size(volume.array) - np.isfinite(volume.array).sum())} non-finite voxels (NaN/Inf)"
        )
    if any(not np.isfinite(s) or s <= 0 for s in volume.spacing):
        problems.append(f"{name}: non-positive spacing {volume.spacing} in the header")
    return problems


def _check_label(label: NiftiVolume, image: NiftiVolume | None, name: str) -> list[str]:
    problems = []
    if label.array.ndim != 3:
        return [f"{name}: {label.array.ndim}D with shape {label.array.shape}, expected 3D"]
    if image is not None and image.array.ndim == 3 and image.array.shape != label.array.shape:
        problems.append(f"{name}: shape {label.array.shape} differs from its image's {image.array.shape}")
    values = np.unique(label.array)
    bad = values[~np.isin(values, (0, 1))]
    if bad.size:
        problems.append(f"{name}: label values {bad[:5].tolist()} outside {{0, 1}}")
    return problems


def validate_pairs(
    images: Mapping[str, VolumeLoader],
    labels: Mapping[str, VolumeLoader],
    names: Mapping[str, tuple[str, str]] | None = None,
) -> list[VolumeSummary]:
    """Loads every pair once and checks it.

    Checks: both readable, 3D, same shape, label values within {0, 1}, finite image, positive
    spacing, every image has a label and vice versa.

    Args:
        images: ``{volume id: loader}`` of images (e.g. a ``PartitionedDataset`` load).
        labels: ``{volume id: loader}`` of labels.
        names: ``{volume id: (image file, label file)}`` used in messages; ids otherwise.

    Returns:
        One summary per volume, sorted by id.

    Raises:
        DataValidationError: listing every problem found, after all pairs were checked.
    """
    names = names or {}
    problems = _check_ids(list(images), "image") + _check_ids(list(labels), "label")
    problems += [f"{names.get(i, (i, i))[0]}: image without a label" for i in sorted(set(images) - set(labels))]
    problems += [f"{names.get(i, (i, i))[1]}: label without an image" for i in sorted(set(labels) - set(images))]
    if not images and not labels:
        problems.append("no volumes found")
    summaries = []
    for volume_id in sorted(set(images) & set(labels)):
        image_name, label_name = names.get(volume_id, (f"{volume_id} (image)", f"{volume_id} (label)"))
        found: list[str] = []
        image = _load(images[volume_id], image_name, found)
        label = _load(labels[volume_id], label_name, found)
        if image is not None:
            found += _check_image(image, image_name)
        if label is not None:
            found += _check_label(label, image, label_name)
        problems += found
        if not found and image is not None and label is not None:
            summaries.append(_summarise(volume_id, image, label))
    if problems:
        raise DataValidationError(problems)
    return summaries


def _summarise(volume_id: str, image: NiftiVolume, label: NiftiVolume) -> VolumeSummary:
    p1, p50, p99 = np.percentile(image.array, [1, 50, 99])
    return VolumeSummary(
        volume_id=volume_id,
        shape=tuple(int(s) for s in image.array.shape),
        spacing=image.spacing,
        image_dtype=str(image.array.dtype),
        label_dtype=str(label.array.dtype),
        foreground_fraction=float(np.count_nonzero(label.array) / label.array.size),
        intensity_percentiles=(float(p1), float(p50), float(p99)),
    )
