"""Starts a Jupyter server command (``kedro jupyter lab`` or ``jupyter lab``) and waits for its API."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.local_ports import free_port


class Server:
    """A server command started in a session of its own (``kedro jupyter lab`` starts ``jupyter lab``
    as a child: both are stopped together), headless on a free port of 127.0.0.1."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
        port, self.token = free_port(), secrets.token_hex(16)
        self.url, self.command, self.log = f"http://127.0.0.1:{port}", command, log
        options = ["--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0"]
        if os.geteuid() == 0:
            options.append("--allow-root")  # CI and containers run as root; Jupyter refuses it otherwise
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [*command, *options, f"--IdentityProvider.token={self.token}"],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def get(self, path: str) -> dict:
        """The JSON answer of ``GET <url><path>``."""
        response = requests.get(f"{self.url}{path}", headers={"Authorization": f"token {self.token}"}, timeout=10)
        response.raise_for_status()
        return response.json()

    def wait_until_serving(self, timeout_s: float = 180.0) -> Server:
        """Returns once ``/api/status`` answers.

        Raises:
            AssertionError: the command exits or does not answer within ``timeout_s`` (with its log).
        """
        deadline = time.monotonic() + timeout_s
        while True:
            code = self.process.poll()
            assert code is None, f"{self.command} exited {code}:\n{self.log.read_text()[-5000:]}"
            assert time.monotonic() < deadline, (
                f"{self.command} did not serve in {timeout_s} s:\n{self.log.read_text()}"
            )
            try:
                self.get("/api/status")
                return self
            except requests.RequestException:
                time.sleep(0.5)

    def stop(self, grace_s: float = 15.0) -> None:
        """SIGTERM to the command's process group, SIGKILL to what is left of it after ``grace_s``."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            self.process.poll()  # reaps the command itself; its children are reaped by init
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@contextmanager
def serve(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> Iterator[Server]:
    """The server of ``command``, once it answers; stopped on exit."""
    server = Server(command, cwd, env, log)
    try:
        yield server.wait_until_serving()
    finally:
        server.stop()
