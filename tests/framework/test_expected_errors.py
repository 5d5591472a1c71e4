"""Expected errors read like answers: the message on the console, the traceback in the log file."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import click
import pytest
from kedro.io import DatasetError

from minivess_kedro.data.layouts import LayoutError
from minivess_kedro.data.splits import SplitError
from minivess_kedro.data.validation import DataValidationError
from minivess_kedro.framework.expected_errors import MissingInputsError, readable_errors
from minivess_kedro.io.download import DownloadError
from minivess_kedro.io.nifti import NiftiReadError
from minivess_kedro.pipelines.parameters import ParameterError
from minivess_kedro.training.checkpoint import CheckpointMismatchError


@pytest.fixture
def log_file(tmp_path):
    """A file handler on the root logger, as Kedro's info.log, and a console handler beside it."""
    path, console_path = tmp_path / "info.log", tmp_path / "console.log"
    handlers = [logging.FileHandler(path), logging.StreamHandler(console_path.open("w"))]
    for handler in handlers:
        logging.getLogger().addHandler(handler)
    yield path, console_path
    for handler in handlers:
        logging.getLogger().removeHandler(handler)
        handler.close()


@pytest.mark.parametrize(
    "error",
    [
        ParameterError("1 parameter problem(s):\n  splitting.num_fold: did you mean 'num_folds'?"),
        DataValidationError("mv03: label is not binary"),
        DownloadError("offline: https://example.org/minivess.zip"),
        SplitError("7 volumes cannot make 10 folds"),
        CheckpointMismatchError("the checkpoint was trained with other settings"),
        LayoutError("two MiniVess layouts in one folder"),
        MissingInputsError("1 input(s) of this run are missing"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_an_expected_error_is_its_message_and_its_traceback_goes_to_the_log_file(error, log_file) -> None:
    path, console = log_file
    with pytest.raises(click.ClickException) as caught, readable_errors():
        raise error

    assert caught.value.message == f"{error}\n(the traceback is in info.log)"
    logged = path.read_text()
    assert "Traceback (most recent call last)" in logged and str(error).splitlines()[0] in logged
    assert console.read_text() == ""  # the console shows click's message only


def test_a_dataset_error_shows_the_expected_error_it_wraps(log_file) -> None:
    """Kedro wraps what a dataset raises while loading (a truncated volume, read by a node)."""
    with pytest.raises(click.ClickException, match=r"^mv01.nii.gz: not a readable NIfTI file"), readable_errors():
        try:
            raise NiftiReadError("mv01.nii.gz: not a readable NIfTI file")
        except NiftiReadError as err:
            raise DatasetError("Failed while loading data from dataset raw_images") from err


def test_an_unexpected_error_keeps_its_type_and_traceback(log_file) -> None:
    with pytest.raises(ZeroDivisionError), readable_errors():
        _ = 1 / 0
    assert log_file[0].read_text() == ""  # left to Python (and Kedro's rich traceback)


def _kedro(project, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    command = [sys.executable, "-m", "kedro", "run", "--env", "test", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--params", "splitting.num_fold=3"), "splitting.num_fold: Extra inputs are not permitted"),
        (
            ("--pipelines", "evaluation", "--params", "loss=cbdice"),
            "`kedro run --env test --pipelines training --params loss=cbdice` writes it",
        ),
    ],
    ids=["parameter typo", "missing inputs"],
)
def test_kedro_run_prints_the_message_without_a_traceback(project_copy, args, message) -> None:
    """kedro run --env test --params splitting.num_fold=3; kedro run --env test --pipelines evaluation ..."""
    done = _kedro(project_copy, *args)

    assert done.returncode == 1
    assert message in done.stderr and done.stderr.rstrip().endswith("(the traceback is in info.log)")
    console = done.stdout + done.stderr
    assert "Traceback" not in console and "╭" not in console  # neither Python's nor Rich's
    assert "Traceback (most recent call last)" in (project_copy / "info.log").read_text()
