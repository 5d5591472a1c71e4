"""The Ray backend: each pending cell becomes a Ray task with the profile's resource request.

Ray is an optional extra (``pip install -e ".[ray]"``). Without ``RAY_ADDRESS`` a local Ray
instance is started; with it, the tasks go to that cluster, whose nodes must see the project at
the same path (a shared file system, as on SLURM).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from tqdm.auto import tqdm

from minivess_kedro.sweep.grid import Cell
from minivess_kedro.sweep.runner import CellResult, Command, run_one

logger = logging.getLogger(__name__)


def run_cells_on_ray(
    cells: Sequence[Cell],
    command_for: Callable[[Cell], Sequence[Command]],
    log_dir: str | Path,
    project: Path,
    num_cpus: float,
    num_gpus: float,
    address: str | None = None,
) -> list[CellResult]:
    """Runs ``cells`` as Ray tasks, as many at once as the cluster's resources allow.

    Args:
        cells: the cells to run (already filtered of the finished ones).
        command_for: each cell's command lines, run in order.
        log_dir: where each cell's log goes.
        project: the project folder (each task runs its command there).
        num_cpus: CPUs one cell asks for (loader workers + 1).
        num_gpus: GPUs one cell asks for (the profile's ``training.compute.gpus``).
        address: a Ray cluster; default ``RAY_ADDRESS`` or a new local instance.

    Returns:
        One result per cell, in the given order.

    Raises:
        ImportError: Ray is not installed, with the install command.
        ValueError: no node of the cluster can hold one cell (Ray would wait for ever).
    """
    try:
        import ray  # noqa: PLC0415 - optional extra
    except ImportError as err:
        raise ImportError('the Ray backend needs Ray: pip install -e ".[ray]"') from err
    # The workers log where the driver does: a lab's tracking server named in the environment.
    stores = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    env_vars = {name: os.environ[name] for name in stores if os.environ.get(name)}
    ray.init(
        address=address or os.environ.get("RAY_ADDRESS"),
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": env_vars} if env_vars else None,
    )
    try:
        check_some_node_fits(ray.nodes(), num_cpus, num_gpus)
        task = ray.remote(run_one).options(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=0)
        refs = {task.remote(cell, command_for(cell), Path(log_dir), project): cell for cell in cells}
        results: dict[Cell, CellResult] = {}
        with tqdm(total=len(cells), desc="sweep (ray)", unit="cell", disable=None) as progress:
            while refs:
                (done,), _ = ray.wait(list(refs), num_returns=1)
                result = ray.get(done)
                results[refs.pop(done)] = result
                progress.set_postfix(running=len(refs), failed=sum(r.status == "failed" for r in results.values()))
                progress.update()
                logger.info("%s %s in %.0f s (log: %s)", result.cell.name, result.status, result.seconds, result.log)
    finally:
        ray.shutdown()
    return [results[cell] for cell in cells]


def check_some_node_fits(nodes: Sequence[dict], num_cpus: float, num_gpus: float) -> None:
    """Refuses a request that no live node can hold: Ray would keep the tasks pending for ever.

    Args:
        nodes: ``ray.nodes()`` (each with ``Alive`` and ``Resources``).
        num_cpus: CPUs one cell asks for.
        num_gpus: GPUs one cell asks for.

    Raises:
        ValueError: naming the request, the largest node, and the profile keys behind the request.
    """
    sizes = [(n["Resources"].get("CPU", 0), n["Resources"].get("GPU", 0)) for n in nodes if n.get("Alive")]
    if any(cpus >= num_cpus and gpus >= num_gpus for cpus, gpus in sizes):
        return
    largest = max(sizes, default=(0, 0))
    raise ValueError(
        f"each cell asks for {num_cpus:g} CPUs and {num_gpus:g} GPUs (training.compute.num_workers + 1 and "
        f"training.compute.gpus), but the largest Ray node has {largest[0]:g} CPUs and {largest[1]:g} GPUs; "
        "lower them in the profile or add a node that large (an autoscaling cluster: start one first)"
    )
