"""MiniVess from EBRAINS: per-file or whole-bucket-zip download into the canonical layout.

Dataset ``bf268b89-1420-476b-b428-b85a913eb523`` (DOI 10.25493/HPBE-YHK, CC BY-NC-SA 4.0).
EBRAINS publishes no checksums, so the sha256 of every file is recorded in
``download_manifest.json`` on the first download and verified on every later run.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import requests

from minivess_kedro.io.atomic import atomic_write_text
from minivess_kedro.io.download import ChecksumMismatchError, download_file, sha256_of

logger = logging.getLogger(__name__)

DATASET_ID = "bf268b89-1420-476b-b428-b85a913eb523"
FILES_URL = f"https://data-proxy.ebrains.eu/api/v1/datasets/{DATASET_ID}"
ZIP_URL = f"https://data.kg.ebrains.eu/zip?container=https://data-proxy.ebrains.eu/api/v1/buckets/d-{DATASET_ID}"
MANIFEST_NAME = "download_manifest.json"
_REMOTE_PATTERN = re.compile(r"(?:^|/)(raw/mv\d+\.nii\.gz|seg/mv\d+_y\.nii\.gz|json/mv\d+\.json)$")


class UnsafeArchiveError(ValueError):
    """A zip entry that would be written outside the target folder (or is a link)."""


@dataclass(frozen=True)
class EbrainsSettings:
    """Where and how to download.

    Attributes:
        method: ``files`` (one request per file, resumable per file) or ``zip`` (the bucket).
        files_url: base URL of per-file downloads (``<files_url>/raw/mv01.nii.gz``).
        zip_url: URL of the whole-bucket zip.
        num_volumes: volumes mv01..mvNN to fetch in ``files`` mode.
        retries: retries per file.
        timeout_s: per-request timeout.
    """

    method: str = "files"
    files_url: str = FILES_URL
    zip_url: str = ZIP_URL
    num_volumes: int = 70
    retries: int = 3
    timeout_s: float = 60.0


def remote_files(num_volumes: int) -> list[str]:
    """The EBRAINS paths of MiniVess: images, labels and metadata of mv01..mvNN."""
    names = []
    for index in range(1, num_volumes + 1):
        volume_id = f"mv{index:02d}"
        names += [f"raw/{volume_id}.nii.gz", f"seg/{volume_id}_y.nii.gz", f"json/{volume_id}.json"]
    return names


def canonical_name(remote: str) -> str:
    """``raw/mv01.nii.gz`` -> ``imagesTr/mv01.nii.gz``; ``seg/mv01_y.nii.gz`` -> ``labelsTr/mv01.nii.gz``."""
    folder, name = remote.split("/", 1)
    if folder == "raw":
        return f"imagesTr/{name}"
    if folder == "seg":
        return f"labelsTr/{name.replace('_y.nii', '.nii')}"
    return f"metadata/{name}"


def _load_manifest(root: Path) -> dict[str, dict]:
    path = root / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())["files"]
    except (json.JSONDecodeError, KeyError) as err:
        raise ValueError(f"{path}: unreadable download manifest ({err}); delete it to re-record") from err


def _save_manifest(root: Path, files: dict[str, dict]) -> None:
    record = {"dataset_id": DATASET_ID, "files": dict(sorted(files.items()))}
    atomic_write_text(root / MANIFEST_NAME, json.dumps(record, indent=1) + "\n")


def _verify(path: Path, expected: str) -> None:
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumMismatchError(
            f"{path}: sha256 {actual} differs from {expected} recorded in {MANIFEST_NAME} "
            "at the first download; the file changed on disk. Delete it to download it again."
        )


def _safe_members(archive: zipfile.ZipFile, target: Path) -> list[tuple[zipfile.ZipInfo, str]]:
    """The MiniVess entries of the archive with their remote-style names; refuses escapes."""
    members, target = [], target.resolve()
    for info in archive.infolist():
        name = PurePosixPath(info.filename)
        mode = info.external_attr >> 16
        if name.is_absolute() or ".." in name.parts or stat.S_ISLNK(mode) or ":" in info.filename:
            raise UnsafeArchiveError(f"zip entry {info.filename!r} would escape {target}; archive refused")
        if not (target / name).resolve().is_relative_to(target):
            raise UnsafeArchiveError(f"zip entry {info.filename!r} would escape {target}; archive refused")
        match = _REMOTE_PATTERN.search(info.filename)
        if match and not info.is_dir():
            members.append((info, match.group(1)))
    return members


def extract_minivess_zip(archive_path: Path, root: Path) -> dict[str, str]:
    """Extracts the MiniVess entries of a bucket zip into the canonical layout under ``root``.

    Every entry is checked before anything is written, so a malicious archive writes nothing.

    Returns:
        ``{remote name: canonical relative path}`` of what was extracted.
    """
    placed = {}
    with zipfile.ZipFile(archive_path) as archive:
        members = _safe_members(archive, root)
        if not members:
            raise ValueError(f"{archive_path}: no MiniVess files (raw/, seg/, json/) in the archive")
        for info, remote in members:
            relative = canonical_name(remote)
            destination = root / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            partial = destination.with_name(f".{destination.name}.partial")
            with archive.open(info) as source, partial.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            os.replace(partial, destination)
            placed[remote] = relative
    return placed


def _download_files(root: Path, settings: EbrainsSettings, manifest: dict[str, dict]) -> None:
    session = requests.Session()
    for remote in remote_files(settings.num_volumes):
        relative = canonical_name(remote)
        destination = root / relative
        known = manifest.get(remote)
        if destination.exists():
            if not known:  # complete (renamed into place atomically) but not yet recorded
                manifest[remote] = {
                    "path": relative,
                    "sha256": sha256_of(destination),
                    "bytes": destination.stat().st_size,
                }
                _save_manifest(root, manifest)
            continue  # recorded files are verified after the loop
        try:
            result = download_file(
                f"{settings.files_url.rstrip('/')}/{remote}",
                destination,
                expected_sha256=known["sha256"] if known else None,
                retries=settings.retries,
                timeout_s=settings.timeout_s,
                session=session,
            )
        except Exception as err:
            not_found = getattr(getattr(err.__cause__, "response", None), "status_code", None) == 404
            if remote.startswith("json/") and not_found:
                logger.warning("No metadata file %s on EBRAINS; continuing without it", remote)
                continue
            raise
        manifest[remote] = {"path": relative, "sha256": result.sha256, "bytes": result.num_bytes}
        _save_manifest(root, manifest)  # after every file: an interrupted run keeps its progress


def _download_zip(root: Path, settings: EbrainsSettings, manifest: dict[str, dict]) -> None:
    archive = root / ".download" / "minivess.zip"
    download_file(settings.zip_url, archive, retries=settings.retries, timeout_s=settings.timeout_s)
    for remote, relative in extract_minivess_zip(archive, root).items():
        path = root / relative
        manifest[remote] = {"path": relative, "sha256": sha256_of(path), "bytes": path.stat().st_size}
    _save_manifest(root, manifest)
    archive.unlink()


def download_minivess(root: str | os.PathLike, settings: EbrainsSettings | None = None) -> dict[str, dict]:
    """Makes ``root`` hold MiniVess in the canonical layout, downloading only what is missing.

    Files already recorded in the manifest are verified against their sha256.

    Args:
        root: the target folder (``data/01_raw/ebrains``).
        settings: download settings.

    Returns:
        The manifest: ``{remote name: {"path", "sha256", "bytes"}}``.

    Raises:
        DownloadError: offline, or an HTTP error (named with its URL).
        ChecksumMismatchError: a recorded file changed.
        UnsafeArchiveError: a zip entry that would escape ``root``.
    """
    settings = settings or EbrainsSettings()
    if settings.method not in ("files", "zip"):
        raise ValueError(f"ebrains.method must be 'files' or 'zip', got {settings.method!r}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(root)
    expected = {canonical_name(r) for r in remote_files(settings.num_volumes) if not r.startswith("json/")}
    missing = {r for r in expected if not (root / r).exists()}
    if missing:
        (_download_files if settings.method == "files" else _download_zip)(root, settings, manifest)
    for record in manifest.values():
        _verify(root / record["path"], record["sha256"])
    return manifest
