"""Runs the cells of a sweep, each as its own process, and keeps going when one fails."""

from __future__ import annotations

import logging
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from minivess_kedro.sweep.grid import Cell

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CellResult:
    """What happened to one cell: ``finished``, ``skipped`` (done before) or ``failed``.

    ``started`` and ``ended`` are wall-clock times (``time.time()``) of the cell's process.
    """

    cell: Cell
    status: str
    seconds: float = 0.0
    log: Path | None = None
    started: float = 0.0
    ended: float = 0.0


Command = Sequence[str]


def run_one(cell: Cell, commands: Sequence[Command], log_dir: Path, cwd: Path | None = None) -> CellResult:
    """Runs one cell's commands one after the other (one ``kedro run``, or a DDP training launch
    and then the evaluation), stopping at the first that fails; the output goes to
    ``<log_dir>/<cell>.log``."""
    log = log_dir / f"{cell.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started, code = time.time(), 0
    with log.open("w") as handle:
        for command in commands:
            handle.write(f"$ {shlex.join(command)}\n")
            handle.flush()
            code = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, cwd=cwd, check=False).returncode
            if code:
                break
    ended = time.time()
    return CellResult(cell, "finished" if code == 0 else "failed", ended - started, log, started, ended)


def run_cells(
    cells: Sequence[Cell],
    command_for: Callable[[Cell], Sequence[Command]],
    is_done: Callable[[Cell], bool],
    log_dir: str | Path,
    jobs: int = 1,
) -> list[CellResult]:
    """Runs every cell not already done, ``jobs`` at a time.

    Args:
        cells: the grid.
        command_for: the command lines of a cell, run in order (processes: Kedro sessions cannot
            be reused, and a crash stays inside its cell).
        is_done: whether a cell already has a finished run with the same code, data and
            parameters (those are skipped).
        log_dir: each cell's output goes to ``<log_dir>/<loss>-fold<k>.log``.
        jobs: cells running at once on this machine.

    Returns:
        One result per cell, in grid order.
    """
    results: dict[Cell, CellResult] = {}
    pending = []
    for cell in cells:
        if is_done(cell):
            results[cell] = CellResult(cell, "skipped")
        else:
            pending.append(cell)
    jobs = max(1, jobs)
    progress = tqdm(total=len(cells), initial=len(results), desc="sweep", unit="cell", disable=None)
    progress.set_postfix(running=min(jobs, len(pending)), failed=0)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_one, cell, command_for(cell), Path(log_dir)) for cell in pending]
        for done, future in enumerate(as_completed(futures), start=1):
            result = future.result()
            results[result.cell] = result
            failed = sum(r.status == "failed" for r in results.values())
            progress.set_postfix(running=min(jobs, len(pending) - done), failed=failed)
            progress.update()
            logger.info("%s %s in %.0f s (log: %s)", result.cell.name, result.status, result.seconds, result.log)
    progress.close()
    return [results[cell] for cell in cells]
