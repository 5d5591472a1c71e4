"""The two MiniVess folder layouts, and the project's canonical raw layout.

- EBRAINS: ``raw/mvXX.nii.gz``, ``seg/mvXX_y.nii.gz``, ``json/mvXX.json``.
- nnU-Net / MONAI (also the project's canonical layout under ``data/01_raw/<source>/``):
  ``imagesTr/mvXX.nii.gz``, ``labelsTr/mvXX.nii.gz``, ``metadata/mvXX.json``.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from minivess_kedro.io.download import sha256_of

CANONICAL_DIRS = {"image": "imagesTr", "label": "labelsTr", "metadata": "metadata"}
EBRAINS_DIRS = {"image": "raw", "label": "seg", "metadata": "json"}
_ID_PATTERN = re.compile(r"^(mv\d+)(?:_y)?(?:_0000)?\.(nii\.gz|nii|json)$", re.IGNORECASE)


class LayoutError(ValueError):
    """A folder that holds neither MiniVess layout, or pairs that do not match up."""


@dataclass(frozen=True)
class VolumeFiles:
    """The files of one volume; ``metadata`` is ``None`` when the layout has none for it."""

    volume_id: str
    image: Path
    label: Path
    metadata: Path | None


def normalise_id(filename: str) -> str | None:
    """``mv1.nii.gz``, ``MV01_y.nii.gz``, ``mv01_0000.nii.gz`` -> ``mv01``; ``None`` if no match."""
    match = _ID_PATTERN.match(filename)
    if match is None:
        return None
    return f"mv{int(match.group(1)[2:]):02d}"


def _count_volumes(folder: Path) -> int:
    return sum(1 for path in folder.glob("*.nii*") if path.name.endswith((".nii", ".nii.gz"))) if folder.is_dir() else 0


def _refuse_two_layouts(root: Path) -> None:
    """Both layouts holding volumes: one would be used and the other silently ignored."""
    names = {"imagesTr": "nnU-Net/MONAI", "raw": "EBRAINS"}
    counts = {
        names[dirs["image"]]: (dirs, _count_volumes(root / dirs["image"]), _count_volumes(root / dirs["label"]))
        for dirs in (CANONICAL_DIRS, EBRAINS_DIRS)
    }
    if all(images + labels for _, images, labels in counts.values()):
        found = "; ".join(
            f"{dirs['image']}/ + {dirs['label']}/ ({name}): {images} image(s), {labels} label(s)"
            for name, (dirs, images, labels) in counts.items()
        )
        raise LayoutError(
            f"{root}: two MiniVess layouts in one folder ({found}); only one would be read and the other "
            "ignored: move one layout out of the folder (or point data_ingestion.local.path at a folder "
            "holding one) and rerun"
        )


def detect_layout(root: Path) -> dict[str, str]:
    """Returns the sub-folder names of the layout found in ``root``.

    Raises:
        LayoutError: neither layout, naming what was looked for; or both, with their counts.
    """
    _refuse_two_layouts(root)
    for dirs in (CANONICAL_DIRS, EBRAINS_DIRS):
        if (root / dirs["image"]).is_dir() and (root / dirs["label"]).is_dir():
            return dirs
    raise LayoutError(
        f"{root}: no MiniVess layout found: expected sub-folders imagesTr/ + labelsTr/ "
        "(nnU-Net/MONAI) or raw/ + seg/ (EBRAINS)"
    )


def _index(folder: Path, suffixes: tuple[str, ...]) -> tuple[dict[str, Path], list[str]]:
    found: dict[str, Path] = {}
    problems = []
    if not folder.is_dir():
        return found, problems
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.name.endswith(suffixes):
            continue
        volume_id = normalise_id(path.name)
        if volume_id is None:
            problems.append(f"{path}: name does not follow mvXX")
        elif volume_id in found:
            problems.append(f"{path}: duplicate id {volume_id} (also {found[volume_id].name})")
        else:
            found[volume_id] = path
    return found, problems


def scan_volumes(root: str | os.PathLike) -> tuple[list[VolumeFiles], list[str]]:
    """Lists the complete volumes of a MiniVess folder and the problems of the other files.

    Args:
        root: a folder in either layout.

    Returns:
        ``(volumes, problems)``: one entry per id that has an image and a label, sorted by id
        (of duplicate ids, the first file name in sort order); one line per file problem
        (bad names, duplicate ids, unmatched images or labels).

    Raises:
        LayoutError: ``root`` holds neither layout.
    """
    root = Path(root)
    dirs = detect_layout(root)
    images, problems = _index(root / dirs["image"], (".nii.gz", ".nii"))
    labels, label_problems = _index(root / dirs["label"], (".nii.gz", ".nii"))
    metadata, metadata_problems = _index(root / dirs["metadata"], (".json",))
    problems += label_problems + metadata_problems
    problems += [f"{images[i]}: no label file for {i}" for i in sorted(set(images) - set(labels))]
    problems += [f"{labels[i]}: no image file for {i}" for i in sorted(set(labels) - set(images))]
    if not images and not problems:
        problems.append(f"{root / dirs['image']}: no .nii/.nii.gz volumes")
    paired = sorted(set(images) & set(labels))
    return [VolumeFiles(i, images[i], labels[i], metadata.get(i)) for i in paired], problems


def discover_volumes(root: str | os.PathLike) -> list[VolumeFiles]:
    """Like :func:`scan_volumes`, but any problem is an error.

    Raises:
        LayoutError: no layout, or every file problem listed in one message.
    """
    volumes, problems = scan_volumes(root)
    if problems:
        raise LayoutError(f"{root}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    return volumes


def file_stem(filename: str) -> str:
    """``mv01.nii.gz`` -> ``mv01``, ``scan 3.nii`` -> ``scan 3``."""
    return filename.removesuffix(".gz").removesuffix(".nii")


@dataclass(frozen=True)
class ImageFile:
    """One image to segment; ``problem`` says why it cannot be (found from its name alone)."""

    volume_id: str
    path: Path
    problem: str | None = None


def images_to_segment(root: str | os.PathLike) -> list[ImageFile]:
    """The images of a folder to segment; labels are not needed and are ignored.

    A MiniVess folder (nnU-Net ``imagesTr/`` or EBRAINS ``raw/``) gives the images of its layout,
    ids normalised as in :func:`normalise_id` (``mv1`` -> ``mv01``; a name that does not follow
    mvXX keeps its file stem); any other folder gives its own ``.nii``/``.nii.gz`` files, ids
    their file stems.

    Args:
        root: the folder.

    Returns:
        One entry per file, sorted by id then file name; a file whose id an earlier one has
        carries that problem.

    Raises:
        LayoutError: no such folder, both layouts in it, or no volumes.
    """
    root = Path(root)
    if not root.is_dir():
        raise LayoutError(f"{root}: no such folder")
    _refuse_two_layouts(root)
    layout = next((dirs for dirs in (CANONICAL_DIRS, EBRAINS_DIRS) if (root / dirs["image"]).is_dir()), None)
    folder = root / layout["image"] if layout else root
    files = sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.name.endswith((".nii.gz", ".nii"))
    )
    if not files:
        raise LayoutError(f"{folder}: no .nii/.nii.gz volumes")
    images, seen = [], {}
    for volume_id, path in sorted(((layout and normalise_id(p.name)) or file_stem(p.name), p) for p in files):
        duplicate = seen.setdefault(volume_id, path)
        problem = None if duplicate == path else f"duplicate id {volume_id} (also {duplicate.name})"
        images.append(ImageFile(volume_id, path, problem))
    return images


def _place(source: Path, target: Path) -> None:
    """Hard-links when possible (no extra disk), else copies; gzips a plain ``.nii`` (same
    NIfTI bytes inside) so that the canonical layout is ``.nii.gz`` only. Atomic at the target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    if source.name.endswith(".nii") and target.name.endswith(".nii.gz"):
        with source.open("rb") as raw, gzip.open(partial, "wb", compresslevel=1) as packed:
            shutil.copyfileobj(raw, packed)
    else:
        try:
            os.link(source, partial)
        except OSError:
            shutil.copyfile(source, partial)
    os.replace(partial, target)


def _same_content(source: Path, destination: Path) -> bool:
    """The same file, or the same bytes (a gzipped ``.nii`` compares to its decompressed form)."""
    if destination.samefile(source):
        return True
    if source.name.endswith(".nii") and destination.name.endswith(".nii.gz"):
        with gzip.open(destination, "rb") as packed:
            return packed.read() == source.read_bytes()
    return destination.stat().st_size == source.stat().st_size and sha256_of(destination) == sha256_of(source)


def _prune(root: Path, keep: set[str]) -> None:
    """Removes volumes of an earlier import that the source no longer has."""
    for folder in CANONICAL_DIRS.values():
        for path in (root / folder).glob("mv*"):
            if normalise_id(path.name) not in keep:
                path.unlink()


def canonical_paths(root: Path, volume_id: str) -> VolumeFiles:
    """Where a volume lives in the canonical layout under ``root``."""
    return VolumeFiles(
        volume_id,
        root / CANONICAL_DIRS["image"] / f"{volume_id}.nii.gz",
        root / CANONICAL_DIRS["label"] / f"{volume_id}.nii.gz",
        root / CANONICAL_DIRS["metadata"] / f"{volume_id}.json",
    )


def import_volumes(volumes: list[VolumeFiles], target_root: str | os.PathLike) -> list[VolumeFiles]:
    """Places volumes in the canonical layout under ``target_root``, never re-encoding voxels.

    A target that already holds the source's bytes is kept (anything else is replaced, whatever
    the timestamps); volumes of an earlier import that are not in ``volumes`` are removed.

    Returns:
        The canonical files, in the order given (``metadata`` ``None`` where there was none).
    """
    target_root = Path(target_root)
    _prune(target_root, {volume.volume_id for volume in volumes})
    placed = []
    for volume in volumes:
        target = canonical_paths(target_root, volume.volume_id)
        pairs = [(volume.image, target.image), (volume.label, target.label)]
        if volume.metadata is not None:
            pairs.append((volume.metadata, target.metadata))
        for source, destination in pairs:
            if destination.exists() and _same_content(source, destination):
                continue
            _place(source, destination)
        placed.append(
            VolumeFiles(
                volume.volume_id, target.image, target.label, target.metadata if volume.metadata is not None else None
            )
        )
    return placed
