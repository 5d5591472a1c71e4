"""Project pipelines."""

import difflib
import re
from pathlib import Path

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

PIPELINES_DIR = Path(__file__).with_name("pipelines")
# The study: what a bare `kedro run` runs (`__default__`).
STUDY = ("data_ingestion", "splitting", "training", "evaluation", "reporting")
# The pipelines in the order data flow through them: the order of the commands that make what a
# run is missing (framework/hooks.py); a test checks it names every folder under pipelines/.
# `inference` uses a registered model on new volumes and `export` writes it as a MONAI Bundle: run by
# name, never part of the study.
DATA_FLOW = (*STUDY, "inference", "export")


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline under ``pipelines/`` by folder name, and ``__default__`` = the study's
    (:data:`STUDY`; Kedro orders the nodes by their inputs and outputs)."""
    try:
        pipelines = find_pipelines(raise_errors=True)
    except ImportError as err:
        _refuse_unknown_name(err)
        raise  # a real import error inside a pipeline module
    pipelines["__default__"] = sum((pipelines[name] for name in STUDY if name in pipelines), Pipeline([]))
    return pipelines


def pipeline_names() -> list[str]:
    """The folders under ``pipelines/`` that define a pipeline."""
    return sorted(path.parent.name for path in PIPELINES_DIR.glob("*/pipeline.py"))


def _refuse_unknown_name(err: ImportError) -> None:
    """Kedro imports ``--pipelines`` names as modules, so a typo reads as a broken import; this
    names the typo and the valid choices instead."""
    found, names = re.search(r"'[\w.]+\.pipelines\.(\w+)' module", str(err)), pipeline_names()
    if found is None or found.group(1) in names:
        return
    name = found.group(1)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    choices = ", ".join(names)
    raise ValueError(f"--pipelines: there is no pipeline {name!r}; the pipelines are {choices}.{hint}") from None
