"""Checks a documented ``kedro ...`` command with the project's own Kedro CLI.

``kedro run`` goes through Kedro's real ``run`` command with the session replaced by a recorder,
so Kedro itself parses the options, loads the runner and warns about deprecated options; the
recorded request is then checked as a session would: the env exists, the pipelines are
registered, the node filters select nodes, and the parameters pass the project hook's validation
when the catalog is created. ``kedro sweep`` is parsed by the project's click command and its grid
built by the same functions, each cell checked as the ``kedro run`` it starts. Any other kedro
command (viz, jupyter, mlflow, ...) is parsed by its click command and its env, pipeline and
parameters options checked.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar
from unittest import mock

import click
from kedro import KedroDeprecationWarning
from kedro.framework.cli import project as kedro_project_cli
from kedro.framework.context import KedroContext
from kedro.framework.hooks.manager import _create_hook_manager, _register_hooks
from kedro.framework.session import KedroSession
from kedro.pipeline import Pipeline

from minivess_kedro import settings
from minivess_kedro.losses import LOSS_NAMES
from minivess_kedro.pipelines.parameters import ParameterError, validate_parameters
from minivess_kedro.sweep import load_grid_file, parse_grid
from tests.docs.docs_project import CommandCheckError, DocsProject


@dataclass
class RunRequest:
    """What ``kedro run`` asked of its session: ``create()`` and ``run()`` keyword arguments."""

    create_kwargs: dict[str, Any]
    run_kwargs: dict[str, Any] = field(default_factory=dict)

    def __enter__(self) -> RunRequest:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, **kwargs: Any) -> dict[str, Any]:
        self.run_kwargs = kwargs
        return {}


class _RecordingSession(KedroSession):
    """Stands in for the session (a subclass, so that ``kedro run`` passes the runtime params to
    ``create`` as it does for a real one)."""

    requests: ClassVar[list[RunRequest]] = []

    @classmethod
    def create(cls, **kwargs: Any) -> RunRequest:  # type: ignore[override]
        request = RunRequest(kwargs)
        cls.requests.append(request)
        return request


@contextlib.contextmanager
def _in_folder(folder: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def _click_error(err: click.ClickException, words: Sequence[str]) -> CommandCheckError:
    return CommandCheckError(f"kedro {' '.join(words)}: {err.format_message()}")


def _resolve(project: DocsProject, words: Sequence[str]) -> tuple[click.Context, click.Command, list[str]]:
    """Walks the kedro command groups down to the leaf command; returns its parent context, the
    command and its own arguments."""
    group: click.Command = project.kedro_cli
    ctx = group.make_context("kedro", list(words), resilient_parsing=False)
    rest = [*ctx._protected_args, *ctx.args]  # what click's Group.invoke resolves the subcommand from
    while isinstance(group, click.Group):
        if not rest:
            raise CommandCheckError(f"kedro {' '.join(words)}: no subcommand")
        name, command, rest = group.resolve_command(ctx, rest)
        if isinstance(command, click.Group):
            ctx = command.make_context(name, rest, parent=ctx)
            rest = [*ctx._protected_args, *ctx.args]
        group = command
    return ctx, group, rest


def check_parameters(project: DocsProject, env: str | None, runtime_params: Mapping[str, Any]) -> None:
    """Creates the catalog as a session would, with the project's hooks: ``RunParameterChecks``
    validates every parameter group (and the catalog resolves with these runtime params).
    Each (env, params) is checked once: loading the config is the slow part."""
    project.check_env(env)
    key = json.dumps([env, runtime_params], sort_keys=True, default=str)
    if key not in project.parameter_checks:
        project.parameter_checks[key] = _create_catalog(project, env, runtime_params)
    if project.parameter_checks[key]:
        raise CommandCheckError(f"--params {dict(runtime_params)} in env {env}: {project.parameter_checks[key]}")


def _create_catalog(project: DocsProject, env: str | None, runtime_params: Mapping[str, Any]) -> str:
    """The error creating the run's catalog raises (empty when there is none)."""
    hook_manager = _create_hook_manager()
    _register_hooks(hook_manager, settings.HOOKS)
    context = KedroContext(
        package_name="minivess_kedro",
        project_path=project.root,
        config_loader=project.config_loader(env, dict(runtime_params)),
        hook_manager=hook_manager,
        env=env,
        runtime_params=dict(runtime_params),
    )
    try:
        context.catalog  # noqa: B018 - creating it runs the after_catalog_created hooks
    except Exception as err:  # any error a session would stop with
        return f"{type(err).__name__}: {err}"
    return ""


def check_run_request(project: DocsProject, request: RunRequest) -> None:
    """Checks what ``kedro run`` asked its session for, as ``KedroSession.run`` would use it."""
    env = request.create_kwargs.get("env")
    project.check_env(env)
    if request.create_kwargs.get("conf_source"):
        raise CommandCheckError("--conf-source: the docs use the project's conf/")
    names = request.run_kwargs.get("pipeline_names") or ["__default__"]
    unknown = [name for name in names if name not in project.pipelines]
    if unknown:
        raise CommandCheckError(f"pipelines {unknown} are not registered (registered: {sorted(project.pipelines)})")
    pipeline = sum((project.pipelines[name] for name in names), Pipeline([]))
    try:
        pipeline.filter(
            tags=request.run_kwargs.get("tags"),
            from_nodes=request.run_kwargs.get("from_nodes"),
            to_nodes=request.run_kwargs.get("to_nodes"),
            node_names=request.run_kwargs.get("node_names"),
            from_inputs=request.run_kwargs.get("from_inputs"),
            to_outputs=request.run_kwargs.get("to_outputs"),
            node_namespaces=request.run_kwargs.get("namespaces"),
        )
    except ValueError as err:
        raise CommandCheckError(f"pipelines {names}: {err}") from err
    check_parameters(project, env, request.create_kwargs.get("runtime_params") or {})


def _check_run(project: DocsProject, command: click.Command, args: list[str], words: Sequence[str]) -> None:
    _RecordingSession.requests.clear()
    recorder = SimpleNamespace(SESSION_CLASS=_RecordingSession)
    with (
        mock.patch.object(kedro_project_cli, "settings", recorder),
        warnings.catch_warnings(record=True) as caught,
        _in_folder(project.root),
    ):
        warnings.simplefilter("always")
        try:
            command.main(args, prog_name="kedro run", standalone_mode=False)
        except click.ClickException as err:
            raise _click_error(err, words) from err
        except Exception as err:  # e.g. an unknown runner, which kedro run imports before the session
            raise CommandCheckError(f"kedro {' '.join(words)}: {type(err).__name__}: {err}") from err
    deprecated = [str(w.message) for w in caught if issubclass(w.category, KedroDeprecationWarning)]
    if deprecated:
        raise CommandCheckError(f"kedro {' '.join(words)}: deprecated in this Kedro: {' '.join(deprecated)}")
    (request,) = _RecordingSession.requests
    check_run_request(project, request)


def _check_sweep(project: DocsProject, ctx: click.Context, words: Sequence[str]) -> None:
    params = ctx.params
    project.check_env(params["env"])
    try:
        if params["grid_file"]:
            cells = load_grid_file(params["grid_file"], LOSS_NAMES)
        else:
            cells = parse_grid(params["losses"], params["folds"], LOSS_NAMES)
    except ValueError as err:
        raise CommandCheckError(f"kedro {' '.join(words)}: {err}") from err
    # Each cell is one `kedro run --env <env> --params loss=...,fold_idx=...`: the first is checked as
    # that run; the others differ only in loss and fold, checked by the validator the hook calls.
    check_parameters(project, params["env"], {"loss": cells[0].loss, "fold_idx": cells[0].fold_idx})
    resolved = project.config_loader(params["env"])["parameters"]
    for cell in cells[1:]:
        try:
            validate_parameters({**resolved, "loss": cell.loss, "fold_idx": cell.fold_idx})
        except ParameterError as err:
            raise CommandCheckError(f"kedro {' '.join(words)}: cell {cell.name}: {err}") from err


def _check_options(project: DocsProject, params: Mapping[str, Any]) -> None:
    """The env, pipeline and parameter options that kedro plugins share with ``kedro run``."""
    project.check_env(params.get("env"))
    pipelines = [params["pipeline"]] if params.get("pipeline") else list(params.get("pipelines") or [])
    unknown = [name for name in pipelines if name not in project.pipelines]
    if unknown:
        raise CommandCheckError(f"pipelines {unknown} are not registered (registered: {sorted(project.pipelines)})")
    if params.get("params"):
        check_parameters(project, params.get("env"), params["params"])


def check_kedro(project: DocsProject, words: Sequence[str], files: Mapping[str, str]) -> None:
    """Checks ``kedro <words>``.

    Args:
        project: the project.
        words: the arguments after ``kedro``.
        files: example files a reader writes before the command (name -> content), e.g. a sweep
            grid. The command is parsed in a scratch folder that links every entry of the
            project folder (relative paths work as in the project) and holds these files.
    """
    with tempfile.TemporaryDirectory() as scratch, _in_folder(Path(scratch)):
        for entry in project.root.iterdir():
            if entry.name not in files:
                Path(entry.name).symlink_to(entry)
        for name, content in files.items():
            Path(name).write_text(content)
        try:
            parent, command, args = _resolve(project, words)
            if command.name == "run" and parent.info_name == "kedro":
                ctx = None
            else:
                ctx = command.make_context(command.name, args, parent=parent)
        except click.ClickException as err:
            raise _click_error(err, words) from err
        if ctx is None:
            _check_run(project, command, args, words)
        elif command.name == "sweep":
            _check_sweep(project, ctx, words)
        else:
            _check_options(project, ctx.params)
