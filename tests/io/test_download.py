"""The resumable downloader against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import socket

import pytest

from minivess_kedro.io.download import ChecksumMismatchError, DownloadError, download_file
from tests.io.http_server import serve

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


def test_plain_download(tmp_path) -> None:
    with serve({"raw/mv01.nii.gz": PAYLOAD}) as server:
        result = download_file(f"{server.base_url}/raw/mv01.nii.gz", tmp_path / "mv01.nii.gz", retries=0)

    assert result.path.read_bytes() == PAYLOAD
    assert result.sha256 == hashlib.sha256(PAYLOAD).hexdigest() and result.num_bytes == len(PAYLOAD)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mv01.nii.gz"]


def test_truncated_transfer_resumes_with_range(tmp_path) -> None:
    with serve({"big.bin": PAYLOAD}, truncate_once={"big.bin"}) as server:
        result = download_file(f"{server.base_url}/big.bin", tmp_path / "big.bin", retries=2, backoff_s=0.01)

    assert result.path.read_bytes() == PAYLOAD
    assert server.requests[0] == ("big.bin", None)
    resumed_from = int(server.requests[1][1].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_from <= len(PAYLOAD) // 2  # resumed where it broke off, not restarted


def test_partial_file_from_an_interrupted_run_is_resumed(tmp_path) -> None:
    (tmp_path / "big.bin.part").write_bytes(PAYLOAD[:1000])
    with serve({"big.bin": PAYLOAD}) as server:
        download_file(f"{server.base_url}/big.bin", tmp_path / "big.bin", retries=0)

    assert server.requests == [("big.bin", "bytes=1000-")]
    assert (tmp_path / "big.bin").read_bytes() == PAYLOAD


def test_checksum_mismatch_removes_the_download(tmp_path) -> None:
    with serve({"f.bin": PAYLOAD}) as server, pytest.raises(ChecksumMismatchError, match="f.bin: sha256 .* differs"):
        download_file(f"{server.base_url}/f.bin", tmp_path / "f.bin", expected_sha256="0" * 64, retries=0)
    assert not list(tmp_path.iterdir())


def test_missing_file_is_not_retried(tmp_path) -> None:
    with serve({}) as server, pytest.raises(DownloadError, match="404"):
        download_file(f"{server.base_url}/absent.bin", tmp_path / "absent.bin", retries=3, backoff_s=10)
    assert len(server.requests) == 1


def test_offline_error_says_what_to_do(tmp_path) -> None:
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DownloadError, match="reachable.*data_ingestion.source=local"):
        download_file(f"http://127.0.0.1:{port}/f.bin", tmp_path / "f.bin", retries=1, backoff_s=0.01, timeout_s=2)
    assert not (tmp_path / "f.bin").exists()
