"""Checks ``python -m ...``, ``python script.py`` and ``pip ...`` commands with pip's own option
parser, pyproject's extras, the installed modules and each module's ``--help``."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import runpy
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from unittest import mock

from tests.docs.docs_project import CommandCheckError, DocsProject
from tests.docs.kedro_checks import check_kedro


@contextlib.contextmanager
def parser_exit_as_error(what: str) -> Iterator[None]:
    """Turns an argparse/optparse exit (a bad option) into a check error carrying its message."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            yield
    except SystemExit as err:
        if err.code:
            raise CommandCheckError(f"{what}: {' '.join(stderr.getvalue().split()[-12:])}") from err


def check_pip(project: DocsProject, words: Sequence[str]) -> None:
    """``pip <command> ...``: pip's parser takes the options, every requirement is one pip accepts,
    and ``-e`` installs the project itself with extras that pyproject.toml declares."""
    from pip._internal.commands import commands_dict, create_command  # noqa: PLC0415 - pip's own parser
    from pip._internal.exceptions import InstallationError  # noqa: PLC0415
    from pip._internal.req.constructors import install_req_from_line  # noqa: PLC0415

    if not words or words[0] not in commands_dict:
        raise CommandCheckError(f"pip {' '.join(words)}: not a pip command")
    with parser_exit_as_error(f"pip {' '.join(words)}"):
        options, requirements = create_command(words[0]).parse_args(list(words[1:]))
    for requirement in requirements if words[0] == "install" else []:
        try:
            install_req_from_line(requirement)
        except InstallationError as err:
            raise CommandCheckError(f"pip install {requirement}: {err}") from err
    pyproject = tomllib.loads((project.root / "pyproject.toml").read_text())
    declared = set(pyproject["project"].get("optional-dependencies", {}))
    for editable in getattr(options, "editables", None) or []:
        match = re.fullmatch(r"(?P<path>[^\[]+)(?:\[(?P<extras>[^\]]*)\])?", editable)
        if match is None or (project.root / match["path"]).resolve() != project.root.resolve():
            raise CommandCheckError(f"pip install -e {editable}: the docs install the project itself (.)")
        extras = {extra.strip() for extra in (match["extras"] or "").split(",") if extra.strip()}
        if extras - declared:
            raise CommandCheckError(f"pip install -e {editable}: extras {sorted(extras - declared)} not in pyproject")


@cache
def _pytest_options() -> frozenset[str]:
    result = subprocess.run([sys.executable, "-m", "pytest", "--help"], capture_output=True, text=True, check=True)
    return frozenset(re.findall(r"(?<![\w-])(--?\w[\w-]*)", result.stdout))


def _check_pytest(project: DocsProject, words: Sequence[str]) -> None:
    for word in words:
        if word.startswith("-"):
            if word.split("=")[0] not in _pytest_options():
                raise CommandCheckError(f"pytest {word}: not an option of pytest --help")
        elif not (project.root / word.split("::")[0]).exists():
            raise CommandCheckError(f"pytest {word}: no such test path")


def _module_help(project: DocsProject, module: str) -> tuple[int, str]:
    """Exit code and output of ``python -m module --help``; the project's own modules run in this
    process (their imports are loaded already), others in a subprocess."""
    if module.split(".", maxsplit=1)[0] != "minivess_kedro":
        result = subprocess.run(
            [sys.executable, "-m", module, "--help"], cwd=project.root, capture_output=True, text=True, check=False
        )
        return result.returncode, result.stdout + result.stderr
    output, code = io.StringIO(), 0
    with (
        mock.patch.object(sys, "argv", [module, "--help"]),
        contextlib.redirect_stdout(output),
        contextlib.redirect_stderr(output),
    ):
        try:
            runpy.run_module(module, run_name="__main__")
        except SystemExit as err:
            code = err.code if isinstance(err.code, int) else 1
    return code, output.getvalue()


def _check_module_options(project: DocsProject, module: str, words: Sequence[str]) -> None:
    code, text = _module_help(project, module)
    if code:
        raise CommandCheckError(f"python -m {module} --help exits {code}: {text[-300:]}")
    missing = [word.split("=")[0] for word in words if word.startswith("-") and word.split("=")[0] not in text]
    if missing:
        raise CommandCheckError(f"python -m {module}: options {missing} are not in its --help")


def check_python(project: DocsProject, words: Sequence[str], files: Mapping[str, str]) -> None:
    """``python -m <module> ...`` or ``python <script> ...``.

    Args:
        project: the project.
        words: the arguments after ``python``.
        files: example files the reader writes first (see ``check_kedro``).
    """
    if not words:
        raise CommandCheckError("python without a module or script")
    if words[0] != "-m":
        if not (project.root / words[0]).is_file():
            raise CommandCheckError(f"python {words[0]}: no such script in the project")
        return
    if len(words) < 2:
        raise CommandCheckError("python -m without a module")
    module, rest = words[1], list(words[2:])
    if module == "kedro":
        check_kedro(project, rest, files)
    elif module == "minivess_kedro":  # the package's __main__ is `kedro run`
        check_kedro(project, ["run", *rest], files)
    elif module == "pip":
        check_pip(project, rest)
    elif module == "pytest":
        _check_pytest(project, rest)
    elif importlib.util.find_spec(module) is None:
        raise CommandCheckError(f"python -m {module}: no such module installed")
    elif rest:
        _check_module_options(project, module, rest)
