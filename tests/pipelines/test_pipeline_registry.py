"""A typo in --pipelines names the typo and the choices, not a broken import."""

from __future__ import annotations

import pytest

from minivess_kedro.pipeline_registry import _refuse_unknown_name, pipeline_names


def _kedro_error(name: str) -> ImportError:
    # What kedro's find_pipelines raises for a requested name it cannot import.
    return ImportError(f"An error occurred while importing the 'minivess_kedro.pipelines.{name}' module.")


def test_the_five_pipelines_are_found() -> None:
    assert pipeline_names() == ["data_ingestion", "evaluation", "reporting", "splitting", "training"]


def test_unknown_name_is_refused_with_the_choices_and_the_closest() -> None:
    with pytest.raises(ValueError, match=r"no pipeline 'trainig'; the pipelines are data_ingestion, .*'training'\?"):
        _refuse_unknown_name(_kedro_error("trainig"))


def test_import_error_inside_a_real_pipeline_is_left_to_kedro() -> None:
    assert _refuse_unknown_name(_kedro_error("training")) is None  # the caller re-raises the real error
    assert _refuse_unknown_name(ImportError("No module named 'gudhi'")) is None
