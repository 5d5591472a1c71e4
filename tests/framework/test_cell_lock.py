"""One writer per cell: a second start refuses naming the holder; a hold whose process is gone is
taken over and said so; real processes, and two real `kedro run`s of one cell."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minivess_kedro.framework.cell_lock import LOCK_NAME, CellLock
from minivess_kedro.framework.expected_errors import CellHeldError

HOLD_AND_SLEEP = """
import sys, time
from minivess_kedro.framework.cell_lock import CellLock
CellLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(120)
"""


def _dead_pid() -> int:
    command = [sys.executable, "-c", "import os; print(os.getpid())"]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return int(done.stdout)


def _write_hold(folder: Path, host: str, pid: int, age_s: float = 0.0) -> Path:
    path = folder / LOCK_NAME
    folder.mkdir(parents=True, exist_ok=True)
    record = {"host": host, "pid": pid, "since": "2026-12-01T10:00:00+00:00", "command": "kedro run"}
    path.write_text(json.dumps(record))
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_a_second_hold_is_refused_naming_the_holder_until_the_first_lets_go(tmp_path) -> None:
    first, second = CellLock(tmp_path / "cell"), CellLock(tmp_path / "cell")
    first.acquire()
    _write_hold(tmp_path / "cell", "gpu-node-7", 4242)  # as if another machine held it

    with pytest.raises(CellHeldError, match=r"held by pid 4242 on host gpu-node-7 since 2026-12-01T10:00:00"):
        second.acquire()

    (tmp_path / "cell" / LOCK_NAME).unlink()
    second.acquire()
    record = json.loads((tmp_path / "cell" / LOCK_NAME).read_text())
    assert record["pid"] == os.getpid() and record["host"] == socket.gethostname()
    first.release()  # not its hold any more: left alone
    assert (tmp_path / "cell" / LOCK_NAME).exists()
    second.release()
    assert not (tmp_path / "cell" / LOCK_NAME).exists()


def test_a_hold_whose_process_is_gone_is_taken_over_and_said_so(tmp_path, caplog) -> None:
    _write_hold(tmp_path, socket.gethostname(), _dead_pid())
    lock = CellLock(tmp_path)

    with caplog.at_level(logging.WARNING):
        lock.acquire()

    assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert "took over the hold of pid" in caplog.text and "its process is gone" in caplog.text
    assert sorted(path.name for path in tmp_path.iterdir()) == [LOCK_NAME]  # the stale file is gone
    lock.release()


@pytest.mark.parametrize(("age_s", "taken_over"), [(10.0, False), (600.0, True)])
def test_another_hosts_hold_is_stale_once_its_heartbeat_stops(tmp_path, age_s, taken_over) -> None:
    _write_hold(tmp_path, "gpu-node-7", 4242, age_s=age_s)
    lock = CellLock(tmp_path, stale_after_s=300)
    if taken_over:
        lock.acquire()
        assert json.loads((tmp_path / LOCK_NAME).read_text())["host"] == socket.gethostname()
        lock.release()
    else:
        with pytest.raises(CellHeldError, match="after 300 s without its heartbeat"):
            lock.acquire()


def test_the_heartbeat_keeps_a_long_hold_fresh(tmp_path) -> None:
    lock = CellLock(tmp_path, heartbeat_s=0.05)
    lock.acquire()
    stamp = time.time() - 3600
    os.utime(tmp_path / LOCK_NAME, (stamp, stamp))
    time.sleep(0.3)
    assert time.time() - (tmp_path / LOCK_NAME).stat().st_mtime < 5
    lock.release()


def test_a_hold_of_another_process_on_the_same_folder(tmp_path) -> None:
    """A second process holds the folder: refused while it runs, taken over once it is killed."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_AND_SLEEP, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert any(line.strip() == "held" for line in holder.stdout)  # after Kedro's logging notice
        with pytest.raises(CellHeldError, match=f"held by pid {holder.pid} on host {socket.gethostname()}"):
            CellLock(tmp_path).acquire()
        holder.send_signal(signal.SIGKILL)  # kill -9: no chance to let go
        holder.wait(timeout=10)
        lock = CellLock(tmp_path)
        lock.acquire()
        lock.release()
    finally:
        holder.kill()


def _kedro_run(project: Path, params: str) -> subprocess.Popen:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    command = [sys.executable, "-m", "kedro", "run", "--env", "test", "--pipelines", "training", "--params", params]
    return subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_kedro_runs_of_one_cell(project_copy) -> None:
    """kedro run --env test --pipelines training --params loss=dice_ce,fold_idx=0 twice at once: the second
    refuses at once naming the first; after a kill -9 of the first, the next start takes over."""
    from tests.pipelines.mlflow_record import kedro_run  # noqa: PLC0415

    kedro_run(project_copy, ["data_ingestion", "splitting"], {"loss": "dice_ce", "fold_idx": 0})
    lock = project_copy / "data" / "test-env" / "06_models" / "synthetic" / "dice_ce" / "fold_0" / LOCK_NAME
    long = "loss=dice_ce,fold_idx=0,training.max_epochs=500,training.patience=500"
    first = _kedro_run(project_copy, long)
    try:
        deadline = time.time() + 120
        while not lock.exists() and first.poll() is None and time.time() < deadline:
            time.sleep(0.2)
        assert lock.exists(), first.communicate()[1][-2000:]

        second = _kedro_run(project_copy, long)
        _, err = second.communicate(timeout=300)
        assert second.returncode == 1 and f"this cell is held by pid {first.pid}" in err
        assert first.poll() is None  # the first trains on, untouched
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)

    third = _kedro_run(project_copy, "loss=dice_ce,fold_idx=0,training.restart=true")  # afresh: the kill left last.pt
    _, err = third.communicate(timeout=600)
    assert third.returncode == 0, err[-2000:]
    log = (project_copy / "info.log").read_text()  # the console wraps lines; the log file does not
    assert f"took over the hold of pid {first.pid} on {socket.gethostname()}" in log and not lock.exists()
