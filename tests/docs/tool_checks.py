"""Checks a documented command by the tool it starts: each tool's own parser where it has one
(Kedro's and MLflow's click commands, pip's and torchrun's option parsers), otherwise that the
executable, module or file exists. A command that no check knows fails, naming its file and line."""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import entry_points

import click

from tests.docs.docs_project import CommandCheckError, DocsProject
from tests.docs.kedro_checks import check_kedro
from tests.docs.markdown_commands import PLACEHOLDER, DocCommand
from tests.docs.python_checks import check_pip, check_python, parser_exit_as_error

# Example values for the placeholders of the docs (a reader types their own).
EXAMPLES: dict[str, str] = {
    "loss": "cbdice",
    "k": "1",
    "fold_idx": "1",
    "env": "gpu_low",
    "node": "train_model",
    "pipeline": "evaluation",
    "run_id": "0123456789abcdef0123456789abcdef",
    "git_commit": "HEAD",
    "repository-url": "https://example.org/lab/minivess_kedro.git",
}
# Files a reader writes before the command that uses them (the docs show their content).
EXAMPLE_FILES: dict[str, str] = {"study.yml": "losses: [dice_ce, cbdice]\nfolds: [0, 1, 2]\n"}
# Commands no parser here can check, by their first words -> the file that runs them for real.
# Keep it short: a parser-based check is always better.
RUN_ELSEWHERE: dict[tuple[str, ...], str] = {
    ("dvc",): "tests/test_dvc.py",  # not a dependency; the test checks the dvc.yaml stages' commands
    ("sbatch",): "tests/sweep/test_slurm_script.py",  # runs the batch script with stand-ins for SLURM and Ray
    ("bash", "bench/gpu_all.sh"): "tests/bench/test_gpu_all.py",  # its --quick rehearsal and its refusals
    # run in an exported bundle's folder: the test exports one and runs these commands in it
    ("python", "-m", "monai.bundle"): "tests/pipelines/test_export_session.py",
}
SHELL_TOOLS = frozenset({"diff", "grep", "ls", "cat", "mkdir", "cp"})  # standard tools: being on PATH is enough


def substitute(command: DocCommand) -> list[str]:
    """The command's words with example values for its placeholders and the elision ``...`` dropped.

    Raises:
        CommandCheckError: for a placeholder without an example value.
    """
    unknown = sorted(set(command.placeholders()) - set(EXAMPLES))
    if unknown:
        raise CommandCheckError(f"placeholders {unknown} have no example value in tests/docs/tool_checks.py")
    words = [PLACEHOLDER.sub(lambda match: EXAMPLES[match.group(1)], word) for word in command.argv]
    return [word for word in words if word != "..."]


def _check_click(cli: click.Command, name: str, words: Sequence[str]) -> click.Context:
    """Parses ``name words`` with a click command tree; returns the leaf command's context."""
    try:
        ctx = cli.make_context(name, list(words))
        while isinstance(ctx.command, click.Group):
            # What click's Group.invoke resolves the subcommand from.
            sub_name, sub, rest = ctx.command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
            ctx = sub.make_context(sub_name, rest, parent=ctx)
    except click.ClickException as err:
        raise CommandCheckError(f"{name} {' '.join(words)}: {err.format_message()}") from err
    return ctx


LAB_STORES = ("http://", "https://", "postgresql", "mysql")


def _check_mlflow(project: DocsProject, words: Sequence[str], env: Mapping[str, str]) -> None:
    from mlflow.cli import cli  # noqa: PLC0415 - mlflow's own click commands

    ctx = _check_click(cli, "mlflow", words)
    for uri in filter(None, [ctx.params.get("backend_store_uri"), env.get("MLFLOW_TRACKING_URI")]):
        if uri.startswith(LAB_STORES):  # a lab's server or its database (docs/lab_server.md), not a local file
            continue
        if uri not in project.tracking_uris:
            raise CommandCheckError(f"mlflow: {uri} is not the project's store {sorted(project.tracking_uris)}")


def _check_torchrun(project: DocsProject, words: Sequence[str]) -> None:
    from torch.distributed.run import get_args_parser  # noqa: PLC0415 - torchrun's own parser

    with parser_exit_as_error(f"torchrun {' '.join(words)}"):
        args = get_args_parser().parse_args(list(words))
    inner = [args.training_script, *args.training_script_args]
    if args.module:
        check_python(project, ["-m", *inner], EXAMPLE_FILES)
    elif args.no_python:
        check_command_words(project, inner, {})
    else:
        check_python(project, inner, EXAMPLE_FILES)


def _check_jupyter(project: DocsProject, words: Sequence[str]) -> None:
    """``jupyter <sub> ...``: the ``jupyter-<sub>`` entry point exists and its traitlets application
    parses the options; the files it is given (globs expanded as the shell would) exist."""
    from traitlets.config import Application  # noqa: PLC0415 - Jupyter's own option parser

    if not words:
        raise CommandCheckError("jupyter without a subcommand")
    found = entry_points(group="console_scripts", name=f"jupyter-{words[0]}")
    if not found:
        raise CommandCheckError(f"jupyter {words[0]}: no jupyter-{words[0]} installed")
    (entry,) = found
    application = getattr(entry.load(), "__self__", None)  # main = Application.launch_instance
    if not isinstance(application, type) or not issubclass(application, Application):
        raise CommandCheckError(f"jupyter {words[0]}: {entry.value} is not a Jupyter application")
    app = application()
    with parser_exit_as_error(f"jupyter {' '.join(words)}"):
        app.parse_command_line(list(words[1:]))
    for argument in app.extra_args:
        if not glob.glob(argument, root_dir=project.root):
            raise CommandCheckError(f"jupyter {words[0]} {argument}: no such file in the project")


def _check_git(words: Sequence[str]) -> None:
    if not words:
        raise CommandCheckError("git without a subcommand")
    usage = subprocess.run(["git", words[0], "-h"], capture_output=True, text=True, check=False)
    if usage.returncode != 129:  # git prints a subcommand's usage with 129, and exits 1 for an unknown one
        raise CommandCheckError(f"git {words[0]}: not a git command")


def _check_file(project: DocsProject, words: Sequence[str]) -> None:
    if len(words) != 1 or not (project.root / words[0]).exists():
        raise CommandCheckError(f"{' '.join(words)}: no such file in the project")


def _check_cd(words: Sequence[str]) -> None:
    if len(words) != 1:
        raise CommandCheckError("cd takes one folder")


def _check_export(words: Sequence[str]) -> None:
    if not words or not all(re.fullmatch(r"[A-Za-z_]\w*=\S*", word) for word in words):
        raise CommandCheckError(f"export {' '.join(words)}: expected NAME=value")


def check_command_words(project: DocsProject, words: Sequence[str], env: Mapping[str, str]) -> None:
    """Checks one simple command, placeholders already substituted.

    Raises:
        CommandCheckError: when a parser refuses it, something it names does not exist, or no
            check knows the command.
    """
    if "KEDRO_ENV" in env:  # what --env would say
        project.check_env(env["KEDRO_ENV"])
    if not words:
        return  # a bare NAME=value assignment
    for prefix, runner in RUN_ELSEWHERE.items():
        if tuple(words[: len(prefix)]) == prefix:
            if not (project.root / runner).is_file():
                raise CommandCheckError(f"{' '.join(prefix)} is run by {runner}, which does not exist")
            return
    program, rest = words[0], list(words[1:])
    handlers: dict[str, Callable[[], None]] = {
        "kedro": lambda: check_kedro(project, rest, EXAMPLE_FILES),
        "python": lambda: check_python(project, rest, EXAMPLE_FILES),
        "python3": lambda: check_python(project, rest, EXAMPLE_FILES),
        "pip": lambda: check_pip(project, rest),
        "mlflow": lambda: _check_mlflow(project, rest, env),
        "torchrun": lambda: _check_torchrun(project, rest),
        "jupyter": lambda: _check_jupyter(project, rest),
        "git": lambda: _check_git(rest),
        "cd": lambda: _check_cd(rest),
        "export": lambda: _check_export(rest),
        "source": lambda: _check_file(project, rest),
        ".": lambda: _check_file(project, rest),
    }
    if program in handlers:
        handlers[program]()
    elif program in SHELL_TOOLS:
        if shutil.which(program) is None:
            raise CommandCheckError(f"{program}: not on PATH")
    else:
        raise CommandCheckError(
            f"no check knows {program!r}: add a parser-based check to tests/docs/tool_checks.py or, if it "
            "cannot be parsed, a RUN_ELSEWHERE entry naming the test that runs it"
        )


def check_command(project: DocsProject, command: DocCommand) -> None:
    """Checks one documented command; the error names its file and line."""
    try:
        check_command_words(project, substitute(command), command.env)
    except CommandCheckError as err:
        raise CommandCheckError(f"{command.where}: `{command.text}`: {err}") from err
