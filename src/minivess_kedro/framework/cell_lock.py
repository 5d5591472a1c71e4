"""One writer per cell: a run holds its loss x fold x seed folder while it trains and evaluates.

The same cell started twice (a sweep and a manual run, two terminals, two machines on one shared
folder) would train twice into one checkpoint folder and rewrite the predictions under the other
run's evaluation. So a run that works on a cell first creates ``cell.lock`` in the cell's
``06_models`` folder, atomically (``O_CREAT | O_EXCL``), holding its host, pid, start time and
command, and refreshes the file's modification time every :data:`HEARTBEAT_S` seconds. A second
start refuses at once, naming the holder. A hold whose process is gone is taken over, and said so:
on the same host when its pid no longer runs, from another host when its heartbeat is older than
:data:`STALE_AFTER_S` seconds. The takeover renames the stale file first (only one of several
starting processes can), then creates a fresh one.

What it relies on: ``O_EXCL`` creation and ``rename`` being atomic on the folder's file system
(local disks; NFSv3 and later; Lustre, GPFS/Spectrum Scale, BeeGFS), and, across hosts, clocks
within a minute of each other (the heartbeat is compared with this host's clock).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from minivess_kedro.framework.expected_errors import CellHeldError
from minivess_kedro.framework.run_record import CELL_INPUT
from minivess_kedro.training.launch import launch_context

logger = logging.getLogger(__name__)

LOCK_NAME = "cell.lock"
HEARTBEAT_S = 30.0
STALE_AFTER_S = 300.0
_BEING_WRITTEN_S = 5.0  # an empty lock file this young is a start in progress, not a stale hold


def _pid_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        return True
    return True


class CellLock:
    """The hold of one cell folder (see the module docstring).

    Args:
        folder: the cell's folder (``06_models/<source>/<loss>/fold_<k>[-seed<s>]``).
        heartbeat_s: seconds between two refreshes of the lock file.
        stale_after_s: a lock of another host not refreshed for this long is stale.
    """

    def __init__(self, folder: Path, heartbeat_s: float = HEARTBEAT_S, stale_after_s: float = STALE_AFTER_S) -> None:
        self.path = Path(folder) / LOCK_NAME
        self._heartbeat_s, self._stale_after_s = heartbeat_s, stale_after_s
        self._record: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> None:
        """Holds the cell, taking over a stale hold.

        Raises:
            CellHeldError: another live process holds it (named, with how to wait or take over).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "token": uuid.uuid4().hex,  # two holds of one process (sessions in a notebook) differ
        }
        for _ in range(3):  # a takeover raced by another start is tried again
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder, age = self._holder()
                if not self._is_stale(holder, age):
                    raise CellHeldError(self._held_message(holder)) from None
                self._take_over(holder)
                continue
            with os.fdopen(descriptor, "w") as handle:
                json.dump(record, handle)
            self._record = record
            self._start_heartbeat()
            return
        raise CellHeldError(f"{self.path}: other processes keep taking this cell over; try again")

    def release(self) -> None:
        """Lets go of the cell (only a hold of this process's own is removed)."""
        if self._record is None:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        holder, _ = self._holder()
        if holder == self._record:
            self.path.unlink(missing_ok=True)
        self._record = None

    def _holder(self) -> tuple[dict[str, Any] | None, float]:
        """The lock file's record (``None``: unreadable or being written) and its age in seconds."""
        age = 0.0
        try:
            age = time.time() - self.path.stat().st_mtime
            return json.loads(self.path.read_text()), age
        except FileNotFoundError:
            return {}, 0.0
        except (OSError, ValueError):
            return None, age

    def _is_stale(self, holder: dict[str, Any] | None, age: float) -> bool:
        if holder == {}:
            return True  # released between our create and our read: just try again
        if holder is None:
            return age > max(_BEING_WRITTEN_S, self._stale_after_s)
        if holder.get("host") == socket.gethostname():
            pid = int(holder.get("pid", -1))
            # this very process: a hold an earlier session here left (a hook failed after it was taken)
            return pid == os.getpid() or not _pid_runs(pid)
        return age > self._stale_after_s

    def _take_over(self, holder: dict[str, Any] | None) -> None:
        if holder == {}:
            return
        aside = self.path.with_name(f"{LOCK_NAME}.stale-{socket.gethostname()}-{os.getpid()}")
        try:
            os.rename(self.path, aside)  # only one of the processes that found it stale succeeds
        except FileNotFoundError:
            return
        try:
            moved = json.loads(aside.read_text())
        except (OSError, ValueError):
            moved = None
        if moved != holder and not self.path.exists():  # a fresh hold was created in between: put it back
            os.rename(aside, self.path)
            return
        aside.unlink(missing_ok=True)
        if holder is not None and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
            logger.info("%s: took over the hold an earlier session of this process left", self.path)
            return
        who = "an unreadable hold" if holder is None else f"the hold of pid {holder.get('pid')} on {holder.get('host')}"
        logger.warning("%s: took over %s since %s (its process is gone)", self.path, who, (holder or {}).get("since"))

    def _held_message(self, holder: dict[str, Any] | None) -> str:
        who = (
            "another process (the lock file is being written)"
            if holder is None
            else f"pid {holder.get('pid')} on host {holder.get('host')} since {holder.get('since')} "
            f"(`{holder.get('command')}`)"
        )
        return (
            f"this cell is held by {who}: two runs of one cell would train into the same checkpoints and "
            f"rewrite each other's predictions. Wait for that run to finish (its MLflow run is RUNNING), or stop "
            f"it; a hold whose process is gone is taken over by the next start (at once on the same host, after "
            f"{self._stale_after_s:.0f} s without its heartbeat from another), or delete {self.path} once you "
            "are sure that run is gone"
        )

    def _start_heartbeat(self) -> None:
        self._stop.clear()

        def beat() -> None:
            while not self._stop.wait(self._heartbeat_s):
                try:
                    os.utime(self.path)
                except OSError:
                    return

        self._thread = threading.Thread(target=beat, name="cell-lock-heartbeat", daemon=True)
        self._thread.start()


class CellHold:
    """Holds the cell of a run that trains or evaluates one, from before its MLflow run opens
    (``tryfirst``: a refused start leaves no run behind) until the pipeline ends, fails, or the
    process exits (Ctrl-C). Under ``torchrun``, rank 0 holds it for the job."""

    def __init__(self) -> None:
        self._lock: CellLock | None = None
        self._registered = False

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        if not launch_context().is_main or not any(CELL_INPUT in node.inputs for node in pipeline.nodes):
            return
        described = catalog.get("best_model")._describe()
        self._lock = CellLock(Path(str(described["filepath"])).parent)
        self._lock.acquire()
        if not self._registered:
            atexit.register(self.release)
            self._registered = True

    @hook_impl
    def after_pipeline_run(self, **kwargs: Any) -> None:
        self.release()

    @hook_impl
    def on_pipeline_error(self, **kwargs: Any) -> None:
        self.release()

    def release(self) -> None:
        """Lets go of the cell held by this process, if any."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None
