"""dvc.yaml agrees with the project: every command is a valid ``kedro run`` of existing pipelines,
nodes and envs; every output is a path of the catalog; every input is a dependency."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import click
import pytest
import yaml
from kedro.framework.cli.project import run
from kedro.framework.project import pipelines, settings
from kedro.framework.startup import bootstrap_project
from kedro.pipeline import Pipeline

from tests.pipelines.test_catalog_persistence import dataset_path, load_catalog

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STAGES: dict = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]


@dataclass
class KedroRun:
    """One ``kedro run`` command of a stage, as Kedro's own CLI parses it."""

    env: str
    params: dict
    pipeline: Pipeline


def _parse(command: str) -> KedroRun:
    argv = shlex.split(command)
    assert argv[:2] == ["kedro", "run"], command
    options = run.make_context("run", argv[2:]).params  # an unknown option or a bad value raises here
    names = ([options["pipeline"]] if options["pipeline"] else []) + list(options["pipelines"])
    assert set(names) <= set(pipelines), f"{command}: no pipeline {set(names) - set(pipelines)}"
    pipeline = sum((pipelines[name] for name in names or ["__default__"]), Pipeline([]))
    selected = pipeline.filter(  # as KedroSession.run does; unknown node names raise here
        node_names=options["node_names"] or None,
        from_nodes=options["from_nodes"] or None,
        to_nodes=options["to_nodes"] or None,
        tags=options["tags"] or None,
    )
    return KedroRun(env=options["env"], params=options["params"], pipeline=selected)


def _commands(stage: dict) -> list[KedroRun]:
    commands = stage["cmd"] if isinstance(stage["cmd"], list) else [stage["cmd"]]
    return [_parse(command) for command in commands]


def _paths(entries: list) -> list[PurePosixPath]:
    """``outs``/``deps`` entries: a path, or ``{path: {options}}``."""
    return [PurePosixPath(next(iter(entry)) if isinstance(entry, dict) else entry) for entry in entries]


def _within(path: PurePosixPath, roots: list[PurePosixPath]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _locations(command: KedroRun, names: set[str]) -> set[PurePosixPath]:
    catalog = load_catalog(PROJECT_ROOT, command.env, command.params)
    return {dataset_path(catalog, name) for name in names if not name.startswith("params:") and name != "parameters"}


@pytest.fixture(scope="module", autouse=True)
def project() -> None:
    bootstrap_project(PROJECT_ROOT)


def test_stages_run_the_ingestion_and_the_splitting() -> None:
    ran = {node.name for stage in STAGES.values() for command in _commands(stage) for node in command.pipeline.nodes}
    assert ran == {node.name for name in ("data_ingestion", "splitting") for node in pipelines[name].nodes}


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_commands_are_kedro_runs_in_a_versioned_env(name) -> None:
    for command in _commands(STAGES[name]):
        assert command.env and command.env != settings.CONFIG_LOADER_ARGS["default_run_env"]  # conf/local: per user
        assert (PROJECT_ROOT / settings.CONF_SOURCE / command.env).is_dir(), command.env
        assert command.pipeline.nodes


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_outputs_are_the_catalog_paths_it_writes(name) -> None:
    stage, outs = STAGES[name], _paths(STAGES[name]["outs"])
    written: set[PurePosixPath] = set()
    for command in _commands(stage):
        catalog_paths = _locations(command, command.pipeline.datasets())
        for out in outs:  # a dataset's file or folder, or the folder around it
            assert out in catalog_paths or out in {path.parent for path in catalog_paths}, f"{name}: {out}"
        written |= _locations(command, command.pipeline.all_outputs())
    assert not [path for path in written if not _within(path, outs)], f"{name}: writes files that DVC does not track"


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_inputs_are_declared_dependencies(name) -> None:
    stage, outs, deps = STAGES[name], _paths(STAGES[name]["outs"]), _paths(STAGES[name]["deps"])
    earlier = [out for other in STAGES.values() if other is not stage for out in _paths(other["outs"])]
    for dep in deps:
        assert (PROJECT_ROOT / dep).exists() or dep in earlier, f"{name}: {dep} is neither a file nor an output"
    for command in _commands(stage):
        for path in _locations(command, command.pipeline.inputs()):  # read, not written, by this command
            assert _within(path, deps) or _within(path, outs), f"{name}: reads {path}, not a dependency"
    for entry in stage.get("params", []):
        ((file, keys),) = entry.items()
        values = yaml.safe_load((PROJECT_ROOT / file).read_text())
        assert set(keys) <= set(values), f"{name}: {file} has no {set(keys) - set(values)}"


def test_split_stage_writes_the_split_file_of_every_fold() -> None:
    commands = _commands(STAGES["split"])
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(PROJECT_ROOT / "conf"), env=commands[0].env, **settings.CONFIG_LOADER_ARGS
    )
    folds = [
        command.params["fold_idx"]
        for command in commands
        if "split_for_fold" in {node.name for node in command.pipeline.nodes}
    ]
    assert sorted(folds) == list(range(loader["parameters"]["splitting"]["num_folds"]))


def test_python_dependencies_leave_bytecode_out() -> None:
    """A folder of sources as a dependency: ``__pycache__`` (written on import) would change its hash."""
    ignored = (PROJECT_ROOT / ".dvcignore").read_text().split()
    code = [dep for stage in STAGES.values() for dep in _paths(stage["deps"]) if (PROJECT_ROOT / dep).is_dir()]
    assert code and "__pycache__/" in ignored


def test_a_bad_option_or_node_is_refused() -> None:
    with pytest.raises(click.NoSuchOption):
        _parse("kedro run --env cpu --pipeline splitting --param fold_idx=1")
    with pytest.raises(ValueError, match="split_for_folds"):
        _parse("kedro run --env cpu --nodes split_for_folds")
