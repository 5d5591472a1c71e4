"""A typo in --pipelines names the typo and the choices, not a broken import."""

from __future__ import annotations

import pytest
from kedro.framework.startup import bootstrap_project

from minivess_kedro.pipeline_registry import DATA_FLOW, STUDY, _refuse_unknown_name, pipeline_names, register_pipelines
from tests.conftest import PROJECT_ROOT


def _kedro_error(name: str) -> ImportError:
    # What kedro's find_pipelines raises for a requested name it cannot import.
    return ImportError(f"An error occurred while importing the 'minivess_kedro.pipelines.{name}' module.")


def test_the_seven_pipelines_are_found_and_a_bare_run_is_the_studys_five() -> None:
    names = ["data_ingestion", "evaluation", "export", "inference", "reporting", "splitting", "training"]
    assert pipeline_names() == names
    bootstrap_project(PROJECT_ROOT)
    pipelines = register_pipelines()
    study = {node.name for name in STUDY for node in pipelines[name].nodes}
    assert {node.name for node in pipelines["__default__"].nodes} == study
    for by_name in ("inference", "export"):  # run by name only
        assert not study & {node.name for node in pipelines[by_name].nodes}


def test_the_data_flow_names_every_pipeline_after_those_it_reads_from() -> None:
    assert sorted(DATA_FLOW) == pipeline_names()
    bootstrap_project(PROJECT_ROOT)
    pipelines = register_pipelines()
    for later, name in enumerate(DATA_FLOW):
        for earlier in DATA_FLOW[:later]:  # nothing a pipeline writes is read by one before it
            assert not pipelines[name].all_outputs() & pipelines[earlier].inputs(), (earlier, name)


def test_unknown_name_is_refused_with_the_choices_and_the_closest() -> None:
    with pytest.raises(ValueError, match=r"no pipeline 'trainig'; the pipelines are data_ingestion, .*'training'\?"):
        _refuse_unknown_name(_kedro_error("trainig"))


def test_import_error_inside_a_real_pipeline_is_left_to_kedro() -> None:
    assert _refuse_unknown_name(_kedro_error("training")) is None  # the caller re-raises the real error
    assert _refuse_unknown_name(ImportError("No module named 'gudhi'")) is None
