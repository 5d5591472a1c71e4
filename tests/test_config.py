"""Configuration: every env loads, envs override only what they name, runtime params resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from kedro.config import OmegaConfigLoader

from minivess_kedro import settings
from minivess_kedro.framework.dotted_keys import dotted_keys
from minivess_kedro.pipelines.parameters import ParameterError, check_run_cell
from tests.conftest import PROJECT_ROOT

ENVS = ["cpu", "gpu_low", "gpu_high", "dgx_spark", "cloud_single", "cloud_multi", "demo", "test"]
PROFILES = {  # the previous study's values: batch, patch (H x W x D), workers, AMP, grad accumulation
    "cpu": (1, [64, 64, 16], 2, False, 4),
    "gpu_low": (2, [96, 96, 24], 4, True, 2),
    "gpu_high": (4, [128, 128, 32], 8, True, 1),
    "dgx_spark": (8, [128, 128, 48], 12, True, 1),
    "cloud_single": (8, [128, 128, 64], 16, True, 1),
    "cloud_multi": (32, [128, 128, 64], 16, True, 1),
}


def _loader(env: str, runtime_params: dict | None = None) -> dict[str, dict]:
    """The env's resolved config, read at once: the ``globals`` resolver is process-wide, so a
    loader's lazily read keys would resolve with the globals of the last loader created."""
    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"), env=env, runtime_params=runtime_params, **settings.CONFIG_LOADER_ARGS
    )
    return {kind: loader[kind] for kind in ("parameters", "catalog", "mlflow")}


def _env_overrides(env: str, kind: str) -> dict[str, object]:
    own: dict = {}
    for path in sorted((PROJECT_ROOT / "conf" / env).glob(f"{kind}*.yml")):
        own |= yaml.safe_load(path.read_text()) or {}
    return dotted_keys(own)


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("kind", ["parameters", "mlflow"])
def test_env_keeps_every_base_key_it_does_not_override(env: str, kind: str) -> None:
    base = dotted_keys(_loader("base")[kind])
    merged = dotted_keys(_loader(env)[kind])
    overrides = _env_overrides(env, kind)
    interpolated = {k for k, v in _env_overrides("base", kind).items() if isinstance(v, str) and "${" in v}

    for key, value in base.items():
        assert key in merged, f"--env {env} lost {kind} key {key}"
        if key not in interpolated:  # those follow globals.yml, checked below
            assert merged[key] == overrides.get(key, value), f"--env {env}: {key}"
    assert set(overrides) <= set(merged)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_compute_profiles_match_the_previous_study(profile: str) -> None:
    compute = _loader(profile)["parameters"]["training"]["compute"]
    batch, patch, workers, amp, accumulation = PROFILES[profile]
    assert compute["profile"] == profile
    assert (compute["batch_size"], compute["patch_size"], compute["num_workers"]) == (batch, patch, workers)
    assert (compute["amp"], compute["grad_accumulation"]) == (amp, accumulation)


def test_base_is_the_real_study_on_the_cpu_profile() -> None:
    loader = _loader("base")
    params = loader["parameters"]
    assert params["loss"] == "dice_ce" and params["fold_idx"] == 0
    assert params["data_ingestion"]["source"] == "ebrains"
    assert params["training"]["compute"]["profile"] == "cpu"
    assert loader["mlflow"]["server"]["mlflow_tracking_uri"] == "sqlite:///mlflow.db"
    assert loader["mlflow"]["tracking"]["run"]["nested"] is False


@pytest.mark.parametrize("env", ["demo", "test"])
def test_synthetic_envs_never_share_folders_or_experiments_with_the_study(env: str) -> None:
    study, synthetic = _loader("base"), _loader(env)
    assert synthetic["parameters"]["data_ingestion"]["source"] == "synthetic"
    assert "/synthetic/" in synthetic["catalog"]["raw_images"]["path"] + "/"
    assert study["catalog"]["raw_images"]["path"] != synthetic["catalog"]["raw_images"]["path"]
    assert study["catalog"]["splits"]["filepath"] != synthetic["catalog"]["splits"]["filepath"]
    assert study["mlflow"]["tracking"]["experiment"]["name"] == "minivess-loss-study"
    assert synthetic["mlflow"]["tracking"]["experiment"]["name"] == f"minivess-{env}"


def test_runtime_params_reach_parameters_catalog_and_run_name() -> None:
    loader = _loader("gpu_low", {"loss": "cbdice", "fold_idx": 1})
    assert loader["parameters"]["loss"] == "cbdice" and loader["parameters"]["fold_idx"] == 1
    assert loader["catalog"]["fold_split"]["filepath"].endswith("/splits/fold_1.json")
    assert loader["mlflow"]["tracking"]["run"]["name"] == "cbdice-fold1"


def test_catalog_defaults_without_runtime_params() -> None:
    catalog = _loader("base")["catalog"]
    assert catalog["fold_split"]["filepath"] == "data/03_primary/ebrains/splits/fold_0.json"
    assert catalog["raw_labels"]["path"] == "data/01_raw/ebrains/labelsTr"


def test_source_override_moves_every_data_path() -> None:
    catalog = _loader("base", {"data_ingestion": {"source": "local"}})["catalog"]
    assert catalog["raw_images"]["path"] == "data/01_raw/local/imagesTr"
    assert catalog["volume_manifest"]["filepath"] == "data/02_intermediate/local/volume_manifest.csv"


def _catalog_error(project: Path, env: str, runtime_params: dict) -> str:
    """The error creating a session's catalog raises, with the project's hooks (``""`` if none)."""
    from kedro.framework.session import KedroSession  # noqa: PLC0415
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env, runtime_params=runtime_params) as session:
        try:
            session.load_context().catalog  # noqa: B018 - creating it runs the after_catalog_created hooks
        except ValueError as err:
            return str(err)
    return ""


@pytest.mark.slow
def test_a_cell_set_in_the_configuration_alone_is_refused(project_copy: Path) -> None:
    """``seed: 1`` in conf/test alone would train seed 1 into seed 0's folder and MLflow run: the
    catalog follows --params. Refused before anything runs, naming the key and the command."""
    (project_copy / "conf" / "test" / "parameters.yml").write_text("seed: 1\nloss: cbdice\n")

    error = _catalog_error(project_copy, "test", {})

    assert "fold_idx, seed: the parameters say 'fold_0-seed1', the catalog's folders 'fold_0'" in error
    assert "loss: the parameters say 'cbdice', the catalog's folders 'dice_ce'" in error
    assert "`--params loss=cbdice,fold_idx=0,seed=1`" in error
    assert _catalog_error(project_copy, "test", {"loss": "cbdice", "seed": 1}) == ""


@pytest.mark.parametrize(
    ("parameters", "path", "message"),
    [
        ({"loss": "dice_ce", "fold_idx": 0, "seed": 0}, "d/06_models/synthetic/dice_ce/fold_0/best_model.pt", None),
        ({"loss": "cbdice", "fold_idx": 2, "seed": 3}, "d/06_models/synthetic/cbdice/fold_2-seed3/best_model.pt", None),
        (
            {"loss": "dice_ce", "fold_idx": 1, "seed": 0},
            "d/06_models/synthetic/dice_ce/fold_0/best_model.pt",
            "fold_idx, seed: the parameters say 'fold_1', the catalog's folders 'fold_0'",
        ),
        (
            {"loss": "dice_ce", "fold_idx": 0, "seed": 0, "data_ingestion": {"source": "local"}},
            "d/06_models/synthetic/dice_ce/fold_0/best_model.pt",
            "data_ingestion.source: the parameters say 'local', the catalog's folders 'synthetic'",
        ),
    ],
)
def test_run_cell_matches_the_catalog_folders(parameters: dict, path: str, message: str | None) -> None:
    if message is None:
        check_run_cell(parameters, path)
        return
    with pytest.raises(ParameterError, match=re.escape(message)):
        check_run_cell(parameters, path)


def test_the_study_uses_the_one_definition_of_the_bootstrap_settings() -> None:
    """conf/base's evaluation and reporting bootstrap blocks, the parameter models and the report
    settings all say what minivess_kedro.metrics.bootstrap.DEFAULT_BOOTSTRAP says."""
    from dataclasses import asdict  # noqa: PLC0415

    from minivess_kedro.metrics.bootstrap import DEFAULT_BOOTSTRAP  # noqa: PLC0415
    from minivess_kedro.pipelines.params_base import BootstrapParams  # noqa: PLC0415
    from minivess_kedro.reporting.report_settings import ReportSettings  # noqa: PLC0415

    defaults = asdict(DEFAULT_BOOTSTRAP)
    parameters = _loader("base")["parameters"]
    assert parameters["evaluation"]["bootstrap"] == defaults == parameters["reporting"]["bootstrap"]
    assert BootstrapParams().model_dump() == defaults
    report = ReportSettings()
    assert (report.bootstrap_method, report.n_resamples, report.confidence_level, report.seed) == tuple(
        defaults.values()
    )
