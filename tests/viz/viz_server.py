"""Starts ``kedro viz run`` in a subprocess and waits until it serves its API."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.local_ports import free_port


def kedro(*args: str) -> list[str]:
    """The ``kedro`` command of this interpreter's environment."""
    return [sys.executable, "-m", "kedro", *args]


def kedro_env(**extra: str) -> dict[str, str]:
    """The environment for a ``kedro`` subprocess: no telemetry, no network, plus ``extra``.

    ``kedro viz`` asks PyPI for a newer version (30 s timeout); a proxy on the discard port makes
    that fail at once, so the tests never leave 127.0.0.1 (the viz server itself is plain http).
    """
    offline = {"HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    return {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", **offline, **extra}


@contextmanager
def viz_run(project: Path, log: Path, timeout_s: float = 120.0) -> Iterator[str]:
    """``kedro viz run --host 127.0.0.1 --port <free> --no-browser`` in ``project``; yields its URL.

    The command starts the server in a child process and returns only when that ends, so both
    run in a session of their own and are stopped together.

    Raises:
        AssertionError: the server exits or does not answer within ``timeout_s`` (with its log).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        process = subprocess.Popen(
            kedro("viz", "run", "--host", "127.0.0.1", "--port", str(port), "--no-browser"),
            cwd=project,
            env=kedro_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            assert process.poll() is None, f"kedro viz run exited {process.returncode}:\n{log.read_text()[-5000:]}"
            assert time.monotonic() < deadline, f"kedro viz run did not serve in {timeout_s} s:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(f"{url}/api/main", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        yield url
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the command and the server it spawned (one process group), then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    time.sleep(0.5)  # the spawned server leaves just after its parent
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
