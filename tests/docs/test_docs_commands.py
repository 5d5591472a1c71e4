"""Every shell command of README.md and docs/ works as written: each is parsed by the tool it
starts (Kedro's, the project's, MLflow's, pip's, torchrun's own parsers) and what it names (envs,
pipelines, nodes, parameters, losses, folds, extras, modules, files) must exist and validate."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.docs.docs_project import CommandCheckError, DocsProject
from tests.docs.markdown_commands import DocCommand, all_commands, commands_in
from tests.docs.tool_checks import RUN_ELSEWHERE, check_command

COMMANDS = all_commands(PROJECT_ROOT)


@pytest.fixture(scope="module")
def project() -> DocsProject:
    return DocsProject(PROJECT_ROOT)


def _commands_of(tmp_path: Path, markdown: str) -> list[DocCommand]:
    (tmp_path / "page.md").write_text(markdown)
    return commands_in(tmp_path / "page.md", tmp_path)


def _command(tmp_path: Path, line: str) -> DocCommand:
    (command,) = _commands_of(tmp_path, f"```bash\n{line}\n```\n")
    return command


@pytest.mark.parametrize("command", COMMANDS, ids=[f"{c.where} {' '.join(c.argv)[:60]}" for c in COMMANDS])
def test_documented_command_works_as_written(project: DocsProject, command: DocCommand) -> None:
    check_command(project, command)


def test_the_readme_commands_are_found() -> None:
    readme = {(c.path, " ".join(c.argv)) for c in COMMANDS if c.path == "README.md"}
    assert ("README.md", "kedro run --env demo") in readme
    assert ("README.md", "python -m pytest") in readme
    assert len({c.path for c in COMMANDS}) >= 5  # README and several docs pages have commands


def test_blocks_are_split_into_simple_commands_with_lines(tmp_path: Path) -> None:
    markdown = (
        "# Title\n\n"
        "```bash\n"
        "# a comment line\n"
        'python -m pip install -e ".[dev]" && kedro run --env demo   # trailing comment\n'
        "RAY_ADDRESS=head:6379 kedro sweep \\\n"
        "    --env cpu --losses dice_ce --folds 0\n"
        "```\n\n"
        "```console\n"
        "$ kedro run --env test\n"
        "INFO output that is not a command\n"
        "```\n\n"
        "```python\nimport os\n```\n\n"
        "```\nkedro run --not-a-shell-block\n```\n"
    )
    commands = _commands_of(tmp_path, markdown)
    assert [(c.line, c.argv) for c in commands] == [
        (5, ("python", "-m", "pip", "install", "-e", ".[dev]")),
        (5, ("kedro", "run", "--env", "demo")),
        (6, ("kedro", "sweep", "--env", "cpu", "--losses", "dice_ce", "--folds", "0")),
        (11, ("kedro", "run", "--env", "test")),
    ]
    assert commands[2].env == {"RAY_ADDRESS": "head:6379"}
    assert commands[0].where == "page.md:5"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("kedro run --env demo --bogus", "No such option"),
        ("kedro run --env nowhere", "there is no conf/nowhere/"),
        ("kedro run --pipelines trainin", "not registered"),
        ("kedro run --pipeline training", "deprecated"),
        ("kedro run --pipelines training --nodes create_splits", "create_splits"),
        ("kedro run --from-nodes no_such_node", "no_such_node"),
        ("kedro run --env gpu_low --params loss=cbdcie", "is not a loss of the study"),
        ("kedro run --params fold_idx=3", "out of range"),
        ("kedro run --params splitting.num_fold=3", "splitting.num_fold"),
        ("kedro run --params data_ingestion.source=local", "data_ingestion.local.path must name"),
        ("kedro run --runner NoSuchRunner", "NoSuchRunner"),
        ("kedro sweep --env gpu_low --losses dice_ce,cbdcie --folds 0", "unknown losses ['cbdcie']"),
        ("kedro sweep --env gpu_low --losses dice_ce --folds 0,3", "cell dice_ce-fold3"),
        ("kedro sweep --env nowhere --losses dice_ce --folds 0", "there is no conf/nowhere/"),
        ("kedro sweep --losses dice_ce --folds 0 --grid nowhere.yml", "does not exist"),
        ("kedro sweep --env gpu_low --grid conf/base/parameters.yml", "the grid needs ['losses', 'folds']"),
        ("kedro viz run --env nowhere", "there is no conf/nowhere/"),
        ("kedro vizz", "No such command"),
        ("python -m kedro run --env nowhere", "there is no conf/nowhere/"),
        ("python -m minivess_kedro --params loss=cbdcie", "is not a loss of the study"),
        ("torchrun --nproc_per_node=2 -m kedro run --pipelines trainin", "not registered"),
        ("mlflow ui --backend-store-uri sqlite:///other.db", "not the project's store"),
        ("mlflow uii", "No such command"),
        ('python -m pip install -e ".[cuda]"', "extras ['cuda'] not in pyproject"),
        ("python -m pip install --no-such-option .", "no such option"),
        ("python -m no_such_module", "no such module"),
        ("python -m minivess_kedro.tools.crosscheck FOLDER --no-such-option", "not in its --help"),
        ("python -m pytest tests/no_such_test.py", "no such test path"),
        ("python bench/no_such_script.py", "no such script"),
        ("git clonee <repository-url>", "not a git command"),
        ("jupyter labb", "no jupyter-labb installed"),
        ("jupyter nbconvert --no-such-flag notebooks/*.ipynb", "unrecognized arguments"),
        ("jupyter nbconvert --clear-output --inplace notebooks/*.txt", "no such file"),
        ("KEDRO_ENV=nowhere kedro viz build", "there is no conf/nowhere/"),
        ("kedro run --params loss=<no_example>", "placeholders ['no_example']"),
        ("curl https://example.org", "no check knows 'curl'"),
    ],
)
def test_a_command_that_would_fail_is_refused(project: DocsProject, tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(CommandCheckError, match="page.md:2") as err:
        check_command(project, _command(tmp_path, line))
    assert message in str(err.value)


@pytest.mark.parametrize("prefix", list(RUN_ELSEWHERE), ids=[" ".join(p) for p in RUN_ELSEWHERE])
def test_a_command_left_to_another_test_names_a_file_that_runs_it(prefix: tuple[str, ...]) -> None:
    runner = PROJECT_ROOT / RUN_ELSEWHERE[prefix]
    assert runner.is_file(), f"{' '.join(prefix)}: {runner} does not exist"
    is_itself = RUN_ELSEWHERE[prefix] in prefix  # e.g. `bash .ci/run`: CI runs the script itself
    assert is_itself or prefix[-1] in runner.read_text(), f"{runner} never mentions {prefix[-1]}"
