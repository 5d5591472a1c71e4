"""Errors that are answers: the project's expected failures print their message, not a traceback.

A broken dataset, an offline download, a split that cannot be made, a parameter typo, a
checkpoint of other settings or a missing input are the user's to fix, and their messages say
how. On the console they are the message alone; the traceback still goes to the log files
(``info.log``) for whoever needs it. Any other error keeps its full traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import click

from minivess_kedro.data.layouts import LayoutError
from minivess_kedro.data.splits import SplitError
from minivess_kedro.data.validation import DataValidationError
from minivess_kedro.inference.registered_model import ModelReferenceError, UnsafeWeightsError
from minivess_kedro.inference.results import InferenceOutputError
from minivess_kedro.inference.sources import InferenceInputsError
from minivess_kedro.inference.verdict_postprocessing import PostprocessingMismatchError
from minivess_kedro.io.download import DownloadError
from minivess_kedro.io.ebrains import UnsafeArchiveError
from minivess_kedro.io.nifti import NiftiReadError
from minivess_kedro.pipelines.parameters import ParameterError
from minivess_kedro.training.checkpoint import CheckpointMismatchError
from minivess_kedro.training.lineage import LeakageError

logger = logging.getLogger(__name__)


class MissingInputsError(FileNotFoundError):
    """Inputs of a run that no selected node writes and that do not exist yet."""


class CellHeldError(RuntimeError):
    """Another live process trains or evaluates this loss x fold x seed cell."""


class DistributedRunError(ValueError):
    """A pipeline that ``torchrun`` must not run in N processes."""


EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    CellHeldError,
    CheckpointMismatchError,
    DataValidationError,
    DistributedRunError,
    DownloadError,
    InferenceInputsError,
    InferenceOutputError,
    LayoutError,
    LeakageError,
    MissingInputsError,
    ModelReferenceError,
    NiftiReadError,
    ParameterError,
    PostprocessingMismatchError,
    SplitError,
    UnsafeArchiveError,
    UnsafeWeightsError,
)


def _log_traceback_to_files(error: BaseException) -> None:
    """The traceback, to the log files only (the console shows the message)."""
    exc_info = (type(error), error, error.__traceback__)
    record = logger.makeRecord(logger.name, logging.ERROR, __file__, 0, "%s", (error,), exc_info)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def expected_cause(error: BaseException) -> BaseException | None:
    """The expected error in ``error``'s chain (Kedro wraps what a dataset raises while loading)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, EXPECTED_ERRORS):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


@contextmanager
def readable_errors() -> Iterator[None]:
    """Turns an expected error into ``Error: <message>`` and exit status 1 (click's way)."""
    try:
        yield
    except Exception as error:
        expected = expected_cause(error)
        if expected is None:
            raise
        _log_traceback_to_files(error)
        raise click.ClickException(f"{expected}\n(the traceback is in info.log)") from None
