"""docs/profiles.md (and the README's summary) state the real compute profiles, and the env
folders it tells a reader to write load, merge softly over conf/base and pass validation."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from kedro.config import OmegaConfigLoader

from minivess_kedro import settings
from minivess_kedro.framework.dotted_keys import dotted_keys
from minivess_kedro.pipelines.parameters import validate_parameters
from tests.conftest import PROJECT_ROOT
from tests.docs.markdown_parts import code_spans, fences_after_text, table_under

PAGE = PROJECT_ROOT / "docs" / "profiles.md"
TABLES = [  # (page, heading, lists every env)
    (PAGE, "The profiles", True),
    (PROJECT_ROOT / "README.md", "Compute profiles (`conf/<env>/`)", False),
]


def _parameters(conf: Path, env: str) -> dict:
    loader = OmegaConfigLoader(conf_source=str(conf), env=env, **settings.CONFIG_LOADER_ARGS)
    return loader["parameters"]


@pytest.mark.parametrize(("page", "heading", "complete"), TABLES, ids=["profiles.md", "README.md"])
def test_the_profile_table_states_the_conf_values(page: Path, heading: str, complete: bool) -> None:
    rows = table_under(page, heading)
    envs = {path.name for path in (PROJECT_ROOT / "conf").iterdir() if path.is_dir()} - {"base", "local"}
    documented = set()
    for row in rows:
        env = code_spans(row["env"])[0]
        documented.add(env)
        compute = _parameters(PROJECT_ROOT / "conf", env)["training"]["compute"]
        assert int(row["batch"]) == compute["batch_size"], env
        assert [int(side) for side in row["patch (H x W x D)"].split("x")] == compute["patch_size"], env
        assert int(row["workers"]) == compute["num_workers"], env
        assert row["AMP"] == ("yes" if compute["amp"] else "no"), env
        assert int(row["grad accumulation"]) == compute["grad_accumulation"], env
        if "GPUs" in row:
            assert int(row["GPUs"]) == compute["gpus"] and row["device"] == compute["device"], env
    assert documented == envs if complete else documented <= envs


def _write_documented_files(tmp_path: Path) -> dict[str, dict]:
    """Writes each YAML block of the page to the file the paragraph before it names, in a copy of
    conf/; returns {env: the parameters the blocks set}."""
    shutil.copytree(PROJECT_ROOT / "conf", tmp_path / "conf")
    written: dict[str, dict] = {}
    for intro, block in fences_after_text(PAGE, "yaml"):
        (target,) = [span for span in code_spans(intro) if re.fullmatch(r"conf/\w+/\w+\.yml", span)]
        assert not (PROJECT_ROOT / target).exists(), f"{target} is an example: it must not be in conf/"
        (tmp_path / target).parent.mkdir(exist_ok=True)
        (tmp_path / target).write_text(block)
        env = Path(target).parent.name
        written.setdefault(env, {})
        if Path(target).name.startswith("parameters"):
            written[env] |= dotted_keys(yaml.safe_load(block))
    return written


def test_the_env_folders_the_page_describes_load_and_validate(tmp_path: Path) -> None:
    written = _write_documented_files(tmp_path)
    conf = tmp_path / "conf"
    # As the page says: the data env takes a copy of the compute profile it wants.
    shutil.copy(conf / "gpu_low" / "parameters_training.yml", conf / "lab_gpu" / "parameters_training.yml")
    assert set(written) == {"my_gpu", "lab_gpu"}

    base = dotted_keys({"training": _parameters(conf, "base")["training"]})
    copied = dotted_keys(yaml.safe_load((conf / "gpu_low" / "parameters_training.yml").read_text()))
    for env, overrides in written.items():
        parameters = _parameters(conf, env)
        validate_parameters(parameters)  # what every run checks before it starts
        merged = dotted_keys(parameters)
        assert {key: merged[key] for key in overrides} == overrides, env
        own = set(overrides) | (set(copied) if env == "lab_gpu" else set())
        for key, value in base.items():  # soft merge: every other training key keeps its base value
            if key not in own and not key.startswith("training.compute.") and key != "training.checkpoint_dir":
                assert merged[key] == value, (env, key)
    lab = _parameters(conf, "lab_gpu")
    assert lab["data_ingestion"]["source"] == "local"  # from the env's globals.yml
    assert lab["training"]["compute"] == _parameters(conf, "gpu_low")["training"]["compute"]
    assert "/local/" in lab["training"]["checkpoint_dir"]
