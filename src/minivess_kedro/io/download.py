"""Resumable HTTP downloads: streamed, retried, verified, renamed into place atomically."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import requests
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)
_CHUNK_BYTES = 1 << 16  # small enough that a broken transfer keeps almost all it received


class DownloadError(RuntimeError):
    """A file that could not be downloaded; the message names the URL and what to do."""


class ChecksumMismatchError(DownloadError):
    """A file whose sha256 differs from the one recorded for it."""


@dataclass(frozen=True)
class DownloadedFile:
    """A file on disk with its size and sha256."""

    path: Path
    sha256: str
    num_bytes: int


def sha256_of(path: str | os.PathLike) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _partial_path(destination: Path) -> Path:
    return destination.with_name(f"{destination.name}.part")


def _stream_once(session: requests.Session, url: str, partial: Path, timeout: float) -> None:
    """One attempt: resumes ``partial`` with an HTTP Range request where the server allows it."""
    offset = partial.stat().st_size if partial.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    with session.get(url, headers=headers, stream=True, timeout=timeout) as response:
        if response.status_code == 416:  # nothing left to fetch: the partial file is whole
            return
        response.raise_for_status()
        if offset and response.status_code != 206:  # server ignored the range: start over
            offset = 0
        total = int(response.headers.get("Content-Length", 0)) + offset or None
        mode = "ab" if offset else "wb"
        with (
            partial.open(mode) as handle,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                desc=partial.name[:-5],
                disable=None,
                leave=False,
            ) as bar,
        ):
            for chunk in response.iter_content(_CHUNK_BYTES):
                handle.write(chunk)
                bar.update(len(chunk))


def download_file(
    url: str,
    destination: str | os.PathLike,
    *,
    expected_sha256: str | None = None,
    retries: int = 3,
    backoff_s: float = 1.0,
    timeout_s: float = 60.0,
    session: requests.Session | None = None,
) -> DownloadedFile:
    """Downloads ``url`` to ``destination``.

    The bytes go to ``<destination>.part`` first; a broken transfer is resumed from where it
    stopped (HTTP Range) on the next attempt or the next run, and the file is renamed into place
    only when complete and verified.

    Args:
        url: the file's URL.
        destination: the final path; parent folders are created.
        expected_sha256: when given, the download must have this hash.
        retries: attempts after the first one, with exponential back-off.
        backoff_s: the first back-off delay in seconds.
        timeout_s: connect and read timeout of one request.
        session: a ``requests`` session to reuse connections.

    Returns:
        The file with its sha256 and size.

    Raises:
        DownloadError: unreachable host or HTTP error after all retries.
        ChecksumMismatchError: the complete file has another sha256 than expected (it is
            deleted, so the next run downloads it again).
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial_path(destination)
    session = session or requests.Session()
    last_error: Exception | None = None
    for attempt in range(retries + 1):
        try:
            _stream_once(session, url, partial, timeout_s)
            last_error = None
            break
        except requests.HTTPError as err:
            last_error = err
            if err.response is not None and 400 <= err.response.status_code < 500:
                break  # a missing or forbidden file does not come back by retrying
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as err:
            last_error = err
        if attempt < retries:
            delay = backoff_s * 2**attempt
            logger.warning("Download of %s failed (%s); retrying in %.1f s", url, last_error, delay)
            time.sleep(delay)
    if last_error is not None:
        host = urlparse(url).netloc
        hint = (
            ""
            if isinstance(last_error, requests.HTTPError)
            else (
                f" Is this machine online and is {host} reachable? Without network, put MiniVess in a "
                "folder and run with data_ingestion.source=local (see README)."
            )
        )
        raise DownloadError(f"could not download {url}: {last_error}.{hint}") from last_error
    digest = sha256_of(partial)
    if expected_sha256 is not None and digest != expected_sha256:
        partial.unlink()
        raise ChecksumMismatchError(
            f"{destination}: sha256 {digest} differs from the recorded {expected_sha256} "
            f"(downloaded from {url}); the partial file was removed"
        )
    os.replace(partial, destination)
    return DownloadedFile(destination, digest, destination.stat().st_size)
