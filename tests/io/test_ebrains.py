"""MiniVess download into the canonical layout: files, zip, checksums, malicious archives."""

from __future__ import annotations

import io
import json
import stat
import zipfile

import pytest

from minivess_kedro.io.download import ChecksumMismatchError
from minivess_kedro.io.ebrains import (
    MANIFEST_NAME,
    EbrainsSettings,
    UnsafeArchiveError,
    canonical_name,
    download_minivess,
    extract_minivess_zip,
    remote_files,
)
from tests.io.http_server import serve


def _bucket(num_volumes: int = 2) -> dict[str, bytes]:
    return {name: f"content of {name}".encode() * 100 for name in remote_files(num_volumes)}


def _settings(server, **kwargs) -> EbrainsSettings:
    return EbrainsSettings(
        files_url=f"{server.base_url}/files",
        zip_url=f"{server.base_url}/bucket.zip",
        num_volumes=2,
        retries=0,
        timeout_s=5,
        **kwargs,
    )


def _zip(entries: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("remote", "canonical"),
    [
        ("raw/mv01.nii.gz", "imagesTr/mv01.nii.gz"),
        ("seg/mv01_y.nii.gz", "labelsTr/mv01.nii.gz"),
        ("json/mv01.json", "metadata/mv01.json"),
    ],
)
def test_canonical_names(remote, canonical) -> None:
    assert canonical_name(remote) == canonical


def test_remote_file_list_covers_the_211_files_pattern() -> None:
    names = remote_files(70)
    assert len(names) == 210 and names[:3] == ["raw/mv01.nii.gz", "seg/mv01_y.nii.gz", "json/mv01.json"]


def test_files_download_records_and_verifies_sha256(tmp_path) -> None:
    bucket = _bucket()
    with serve({f"files/{k}": v for k, v in bucket.items()}) as server:
        manifest = download_minivess(tmp_path, _settings(server))
        requests_first_run = len(server.requests)
        download_minivess(tmp_path, _settings(server))  # everything present: nothing fetched

    assert requests_first_run == 6 and len(server.requests) == 6
    assert (tmp_path / "labelsTr" / "mv02.nii.gz").read_bytes() == bucket["seg/mv02_y.nii.gz"]
    recorded = json.loads((tmp_path / MANIFEST_NAME).read_text())["files"]
    assert recorded == manifest and set(recorded) == set(bucket)

    (tmp_path / "imagesTr" / "mv01.nii.gz").write_bytes(b"tampered")
    with pytest.raises(
        ChecksumMismatchError, match="imagesTr/mv01.nii.gz: sha256 .* recorded in download_manifest.json"
    ):
        download_minivess(tmp_path, _settings(server))


def test_missing_metadata_is_tolerated_missing_image_is_not(tmp_path) -> None:
    bucket = _bucket()
    del bucket["json/mv02.json"]
    with serve({f"files/{k}": v for k, v in bucket.items()}) as server:
        download_minivess(tmp_path / "ok", _settings(server))
    assert not (tmp_path / "ok" / "metadata" / "mv02.json").exists()

    del bucket["raw/mv02.nii.gz"]
    with (
        serve({f"files/{k}": v for k, v in bucket.items()}) as server,
        pytest.raises(Exception, match="raw/mv02.nii.gz.*404"),
    ):
        download_minivess(tmp_path / "broken", _settings(server))


def test_interrupted_download_keeps_finished_files(tmp_path) -> None:
    bucket = _bucket()
    partial_bucket = {f"files/{k}": v for k, v in bucket.items() if k != "seg/mv02_y.nii.gz"}
    with serve(partial_bucket) as server, pytest.raises(Exception, match="404"):
        download_minivess(tmp_path, _settings(server))
    assert len(json.loads((tmp_path / MANIFEST_NAME).read_text())["files"]) == 4

    with serve({f"files/{k}": v for k, v in bucket.items()}) as server:
        download_minivess(tmp_path, _settings(server))
    assert [path for path, _ in server.requests] == ["files/seg/mv02_y.nii.gz", "files/json/mv02.json"]


def test_zip_download_extracts_into_canonical_layout(tmp_path) -> None:
    bucket = _bucket()
    archive = _zip({f"d-bf268b89/{k}": v for k, v in bucket.items()} | {"d-bf268b89/README.txt": b"hi"})
    with serve({"bucket.zip": archive}) as server:
        manifest = download_minivess(tmp_path, _settings(server, method="zip"))

    assert (tmp_path / "imagesTr" / "mv02.nii.gz").read_bytes() == bucket["raw/mv02.nii.gz"]
    assert len(manifest) == 6
    assert not (tmp_path / ".download" / "minivess.zip").exists()


@pytest.mark.parametrize(
    "evil",
    [
        {"../../escaped.nii.gz": b"x"},
        {"/etc/cron.d/raw/mv01.nii.gz": b"x"},
        {"bucket/raw/../../../mv01.nii.gz": b"x"},
    ],
)
def test_malicious_zip_is_refused_and_writes_nothing(tmp_path, evil) -> None:
    archive_path = tmp_path / "evil.zip"
    archive_path.write_bytes(_zip({"raw/mv01.nii.gz": b"fine", **evil}))
    target = tmp_path / "target"
    target.mkdir()

    with pytest.raises(UnsafeArchiveError, match="would escape"):
        extract_minivess_zip(archive_path, target)
    assert not list(target.iterdir())
    assert not (tmp_path / "escaped.nii.gz").exists()


def test_zip_with_a_symlink_is_refused(tmp_path) -> None:
    archive_path = tmp_path / "evil.zip"
    archive_path.write_bytes(_zip({"raw/mv01.nii.gz": b"fine"}, links=("seg/mv01_y.nii.gz",)))
    with pytest.raises(UnsafeArchiveError, match="seg/mv01_y.nii.gz"):
        extract_minivess_zip(archive_path, tmp_path / "target")


def test_unknown_method_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="'files' or 'zip', got 'torrent'"):
        download_minivess(tmp_path, EbrainsSettings(method="torrent"))
