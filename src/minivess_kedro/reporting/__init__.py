"""The loss-study comparison report, from already-collected run data.

Given finished runs (one loss x one fold each: per-volume metrics, epoch history, MLflow params
and tags), optional classical baselines, example slices and the study's protocol,
:func:`build_report` returns the result tables, paired comparisons with a reference loss, the
post-processing effect, figures, and the report as Markdown and self-contained HTML.

This package never imports kedro or mlflow and does no file I/O. See docs/reporting.md.
"""

from __future__ import annotations

from minivess_kedro.reporting.examples import ExampleChoice, example_from_volumes, middle_slice, pick_examples
from minivess_kedro.reporting.records import ExampleSlices, RunRecord
from minivess_kedro.reporting.report import Report, build_report
from minivess_kedro.reporting.report_settings import ReportSettings

__all__ = [
    "ExampleChoice",
    "ExampleSlices",
    "Report",
    "ReportSettings",
    "RunRecord",
    "build_report",
    "example_from_volumes",
    "middle_slice",
    "pick_examples",
]
