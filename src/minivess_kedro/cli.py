"""Project commands: ``kedro sweep`` runs a loss x fold x seed grid, then the report."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

import click
from kedro.config import OmegaConfigLoader
from kedro.framework.cli.project import run as kedro_run_command
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

from minivess_kedro import settings
from minivess_kedro.framework.expected_errors import readable_errors
from minivess_kedro.framework.mlflow_store import resolved_server
from minivess_kedro.framework.provenance import git_commit
from minivess_kedro.losses import LOSS_NAMES
from minivess_kedro.pipelines.parameters import ParameterError, parameters_hash, validate_parameters
from minivess_kedro.sweep import Cell, CellResult, load_grid_file, parse_grid, run_cells
from minivess_kedro.sweep.commands import cell_commands, kedro_run
from minivess_kedro.sweep.ray_backend import run_cells_on_ray

logger = logging.getLogger(__name__)


@click.group(name="minivess_kedro")
def cli() -> None:
    """Commands of the minivess_kedro project."""


def _run(**kwargs: Any) -> dict[str, Any]:
    with readable_errors():
        return kedro_run_command.callback(**kwargs)


# `kedro run` itself, with the project's expected errors (framework/expected_errors.py) printed as
# their message: Kedro takes a project's `run` over its own.
cli.add_command(
    click.Command(
        "run",
        params=kedro_run_command.params,
        callback=_run,
        help=kedro_run_command.help,
        context_settings=kedro_run_command.context_settings,
    )
)


class _FinishedRuns:
    """Whether a cell already has a finished, evaluated run of this code, data and parameters."""

    def __init__(self, project: Path, env: str | None, fingerprint: str) -> None:
        self.project, self.env, self.fingerprint, self.commit = project, env, fingerprint, git_commit(project)

    def _config(self, cell: Cell) -> dict:
        loader = OmegaConfigLoader(
            conf_source=str(self.project / "conf"),
            env=self.env or "local",
            runtime_params={"loss": cell.loss, "fold_idx": cell.fold_idx, "seed": cell.seed},
            **settings.CONFIG_LOADER_ARGS,
        )
        return {"parameters": loader["parameters"], "mlflow": loader["mlflow"]}

    def _client(self, config: dict) -> MlflowClient:
        """A client of the store the cells log to (the environment's MLFLOW_TRACKING_URI first)."""
        server = resolved_server(config["mlflow"]["server"], self.project)
        return MlflowClient(tracking_uri=server["mlflow_tracking_uri"], registry_uri=server.get("mlflow_registry_uri"))

    def parameters(self, cell: Cell) -> dict:
        """The resolved parameters of a cell's run."""
        return self._config(cell)["parameters"]

    def compute(self) -> dict:
        """The compute profile of the env (resource requests of a cell)."""
        return self._config(Cell("dice_ce", 0))["parameters"]["training"]["compute"]

    def report_is_current(self) -> bool:
        """Whether the experiment's latest report run was made, with today's parameters, after its
        latest evaluated run finished: a repeated sweep whose cells are all done then opens no run."""
        config = self._config(Cell("dice_ce", 0))  # the defaults, as `kedro run --pipelines reporting`
        client = self._client(config)
        experiment = client.get_experiment_by_name(config["mlflow"]["tracking"]["experiment"]["name"])
        if experiment is None:
            return False
        finished = "attributes.status = 'FINISHED'"
        evaluated = client.search_runs(
            [experiment.experiment_id],
            f"tags.evaluated = 'true' and {finished}",
            order_by=["attributes.end_time DESC"],
            max_results=1,
        )
        same_parameters = f"tags.params_hash = '{parameters_hash(config['parameters'])}'"
        reports = client.search_runs(
            [experiment.experiment_id],
            f"attributes.run_name = 'report' and {same_parameters} and {finished}",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        return bool(evaluated and reports) and reports[0].info.start_time > evaluated[0].info.end_time

    def __call__(self, cell: Cell) -> bool:
        config = self._config(cell)
        client = self._client(config)
        experiment = client.get_experiment_by_name(config["mlflow"]["tracking"]["experiment"]["name"])
        if experiment is None:
            return False
        expected = {
            "loss": cell.loss,
            "fold_idx": str(cell.fold_idx),
            "seed": str(cell.seed),
            "evaluated": "true",
            "git_commit": self.commit,
            "dataset_fingerprint": self.fingerprint,
            "params_hash": parameters_hash(config["parameters"]),
        }
        query = " and ".join(f"tags.{key} = '{value}'" for key, value in expected.items())
        return bool(client.search_runs([experiment.experiment_id], f"{query} and attributes.status = 'FINISHED'"))


@cli.command()
@click.option("--env", "-e", default=None, help="Compute profile (conf/<env>), as for kedro run.")
@click.option("--losses", default="", help="Comma-separated losses, e.g. dice_ce,cbdice.")
@click.option("--folds", default="", help="Comma-separated fold indices, e.g. 0,1,2.")
@click.option("--seeds", default="0", show_default=True, help="Comma-separated seed indices, e.g. 0,1,2.")
@click.option(
    "--grid", "grid_file", type=click.Path(exists=True, dir_okay=False), help="YAML grid (losses, folds, seeds)."
)
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--jobs", "-j", default=1, show_default=True, help="Cells running at once (local backend).")
@click.option("--report/--no-report", default=True, show_default=True, help="Run the reporting pipeline at the end.")
def sweep(
    env: str | None,
    losses: str,
    folds: str,
    seeds: str,
    grid_file: str | None,
    backend: str,
    jobs: int,
    report: bool,
) -> None:
    """Runs every loss x fold x seed of a grid, one ``kedro run`` per cell, then the report.

    A cell whose run already FINISHED with the same parameters, git commit and dataset fingerprint
    is skipped; an interrupted cell resumes from its last checkpoint. One failed cell does not stop
    the others; the command then exits non-zero naming the failed cells.
    """
    try:
        cells = load_grid_file(grid_file, LOSS_NAMES) if grid_file else parse_grid(losses, folds, LOSS_NAMES, seeds)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--grid" if grid_file else "--losses/--folds/--seeds") from None
    project = Path.cwd()
    bootstrap_project(project)
    profile = _FinishedRuns(project, env, fingerprint="")
    for cell in cells:  # every cell's parameters as its `kedro run` will check them, before any work
        try:
            validate_parameters(profile.parameters(cell))
        except ParameterError as err:
            raise click.BadParameter(f"cell {cell.name}: {err}", param_hint="--losses/--folds") from None
    compute = profile.compute()
    if backend == "local" and jobs > 1 and compute["gpus"] > 1 and compute["device"] != "cpu":
        raise click.BadParameter(
            f"cells of profile {env!r} each train on training.compute.gpus={compute['gpus']} GPUs with DDP; "
            "on one machine they run one at a time (--jobs 1), or use --backend ray to place them",
            param_hint="--jobs",
        )
    # Data, splits and every fold's split file before any cell: cells running at once then only
    # read them (they run training and evaluation), so nothing is written by two processes.
    folds = sorted({cell.fold_idx for cell in cells})
    prepare = [kedro_run(env, "--pipelines", "data_ingestion,splitting", "--params", f"fold_idx={folds[0]}")]
    prepare += [kedro_run(env, "--pipelines", "splitting", "--params", f"fold_idx={fold}") for fold in folds[1:]]
    for command in prepare:
        if subprocess.run(command, check=False).returncode:
            raise click.ClickException(f"{' '.join(command[2:])} failed: no cell was started")
    with KedroSession.create(project_path=project, env=env) as session:
        fingerprint = session.load_context().catalog.load("dataset_fingerprint")["fingerprint"]
    logger.info("Sweep of %d cells on %s (dataset %s)", len(cells), env, fingerprint[:12])
    is_done = _FinishedRuns(project, env, fingerprint)
    log_dir = project / "logs" / "sweep" / (env or "local")
    command_for = lambda cell: cell_commands(cell, env, compute["gpus"], compute["device"])  # noqa: E731
    if backend == "ray":
        pending = [cell for cell in cells if not is_done(cell)]
        ran = run_cells_on_ray(
            pending, command_for, log_dir, project, num_cpus=compute["num_workers"] + 1, num_gpus=compute["gpus"]
        )
        by_cell = {result.cell: result for result in ran}
        results = [by_cell.get(cell, CellResult(cell, "skipped")) for cell in cells]
    else:
        results = run_cells(cells, command_for=command_for, is_done=is_done, log_dir=log_dir, jobs=jobs)
    for result in results:
        click.echo(f"{result.cell.name:<24} {result.status:<9} {result.seconds:7.0f} s  {result.log or ''}")
    failed = [r.cell.name for r in results if r.status == "failed"]
    if report and len(failed) < len(results):
        if all(r.status == "skipped" for r in results) and is_done.report_is_current():
            click.echo(f"{'report':<24} current: no cell ran since it (`kedro run --pipelines reporting` rebuilds it)")
        else:
            subprocess.run(kedro_run(env, "--pipelines", "reporting"), check=False)
    if failed:
        raise click.ClickException(f"{len(failed)} cell(s) failed: {', '.join(failed)} (see their logs above)")
