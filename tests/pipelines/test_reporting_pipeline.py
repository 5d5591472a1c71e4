"""The reporting pipeline's MLflow side: runs collected from a temporary store, report built."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from kedro.config import OmegaConfigLoader
from kedro.io.core import DatasetError
from mlflow import MlflowClient

from minivess_kedro import settings
from minivess_kedro.datasets import EnsembleRegistryDataset, RegistryAliasesDataset
from minivess_kedro.datasets.mlflow_study_runs_dataset import StudyRuns
from minivess_kedro.datasets.registered_model_dataset import RegisteredModelDataset
from minivess_kedro.datasets.registry_model_dataset import RegistryModelDataset
from minivess_kedro.io import NiftiVolume, write_nifti
from minivess_kedro.models import DynUNetConfig, build_dynunet, build_ensemble
from minivess_kedro.pipelines.reporting.collect import collect_study_runs, read_registry_aliases
from minivess_kedro.pipelines.reporting.nodes import build_study_report, plan_ensembles, promote_models
from minivess_kedro.reporting.clustered import clustered_difference
from minivess_kedro.training.distributed import state_digest

METRICS = ["dsc", "cldice", "masd", "hd95", "nsd", "betti0_error", "betti1_error"]
TEST_IDS = ["mv01", "mv02", "mv03", "mv04", "mv05", "mv06"]
SPACING = (1.0, 1.0, 2.0)
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _study_runs() -> StudyRuns:
    """The ``study_mlflow_runs`` dataset of the project's catalog (the artifact paths its sinks log)."""
    catalog = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env="test", **settings.CONFIG_LOADER_ARGS)["catalog"]
    return StudyRuns(catalog["study_mlflow_runs"]["artifacts"])


def _volume_metrics(offset: float) -> pd.DataFrame:
    rng = np.random.default_rng(int(abs(offset) * 1000))
    rows = []
    for index, volume_id in enumerate(TEST_IDS):
        dsc = 0.6 + 0.03 * index + offset + rng.normal(0, 0.005)
        values = {"dsc": dsc, "cldice": dsc - 0.05, "masd": 2 - dsc, "hd95": 8 - dsc, "nsd": dsc, "betti0_error": 1.0}
        rows.append(
            {
                "id": volume_id,
                "split": "test",
                **values,
                "betti1_error": 3.0,
                "diagonal": 40.0,
                "postprocessing": "none",
            }
        )
    return pd.DataFrame(rows)


def _log_run(
    loss: str,
    fold_idx: int,
    offset: float,
    evaluated: bool = True,
    fingerprint: str = "f" * 64,
    seed: int | None = None,
) -> str:
    with mlflow.start_run(run_name=f"{loss}-fold{fold_idx}") as run:
        mlflow.set_tags(
            {
                **({} if seed is None else {"seed": str(seed)}),  # runs from before seeds have no tag
                "loss": loss,
                "fold_idx": str(fold_idx),
                "compute_profile": "cpu",
                "git_commit": "abc",
                "dataset_fingerprint": fingerprint,
                "experiment_phase": "test",
            }
        )
        if evaluated:
            mlflow.set_tag("evaluated", "true")
        mlflow.log_params({"training.max_epochs": 2, "training.seed": 42})
        mlflow.log_text(_volume_metrics(offset).to_csv(index=False), "evaluation/volume_metrics.csv")
        history = pd.DataFrame({"epoch": [0, 1], "train_loss": [1.0, 0.5], "val_dsc": [0.4, 0.6], "lr": [1e-3, 5e-4]})
        mlflow.log_text(history.to_csv(index=False), "training_history.csv")
    return run.info.run_id


@pytest.fixture
def study(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("minivess-test")
    runs = {
        "stale": _log_run("cbdice", 0, 0.0),  # replaced by the rerun below
        "not evaluated": _log_run("cldice", 0, 0.0, evaluated=False),
        "other data": _log_run("focal", 0, 0.0, fingerprint="e" * 64),
    }
    for fold in (0, 1):
        runs[f"dice_ce-{fold}"] = _log_run("dice_ce", fold, 0.0)
        runs[f"cbdice-{fold}"] = _log_run("cbdice", fold, 0.05)
    yield runs
    mlflow.set_tracking_uri(previous)


def _reporting(tmp_path) -> dict:
    return {"predictions_root": str(tmp_path / "predictions"), "bootstrap": {"n_resamples": 500}}


def test_latest_evaluated_run_of_each_cell_is_collected(study, tmp_path) -> None:
    with mlflow.start_run(run_name="report"):
        runs, volume_metrics, histories = collect_study_runs(
            _study_runs(), _reporting(tmp_path), {}, {"fingerprint": "f" * 64}
        )

    assert sorted(zip(runs["loss"], runs["fold_idx"], strict=True)) == [
        ("cbdice", 0),
        ("cbdice", 1),
        ("dice_ce", 0),
        ("dice_ce", 1),
    ]
    assert study["stale"] not in set(runs["run_id"]) and study["not evaluated"] not in set(runs["run_id"])
    assert study["other data"] not in set(runs["run_id"])  # another dataset's run never mixes in
    assert len(volume_metrics) == 4 * len(TEST_IDS) and set(histories["run_id"]) == set(runs["run_id"])


def test_each_seed_of_a_cell_is_a_run_of_its_own(study, tmp_path) -> None:
    second_seed = _log_run("dice_ce", 0, 0.01, seed=1)
    seed_zero = _log_run("dice_ce", 0, 0.0, seed=0)  # tagged seed 0: replaces the untagged dice_ce fold 0
    with mlflow.start_run(run_name="report"):
        runs, _, _ = collect_study_runs(_study_runs(), _reporting(tmp_path), {}, {"fingerprint": "f" * 64})

    cells = runs.set_index(["loss", "fold_idx", "seed"])["run_id"].to_dict()
    assert cells[("dice_ce", 0, 1)] == second_seed and cells[("dice_ce", 0, 0)] == seed_zero
    assert len(cells) == 5 and study["dice_ce-0"] not in set(runs["run_id"])


def test_no_evaluated_run_names_what_to_do(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'empty.db'}")
    mlflow.set_experiment("minivess-test")
    with mlflow.start_run(), pytest.raises(ValueError, match="no finished, evaluated run to report on"):
        collect_study_runs(_study_runs(), _reporting(tmp_path), {}, {"fingerprint": "f" * 64})


def test_report_statistics_match_a_direct_computation(study, tmp_path) -> None:
    with mlflow.start_run(run_name="report"):
        runs, volume_metrics, histories = collect_study_runs(
            _study_runs(), _reporting(tmp_path), {}, {"fingerprint": "f" * 64}
        )
    labels = {i: np.pad(np.ones((4, 4, 4), np.uint8), 4) for i in TEST_IDS}
    raw_images = {
        i: (lambda v=v: NiftiVolume.from_array(v.astype(np.uint16) * 500, SPACING)) for i, v in labels.items()
    }
    raw_labels = {i: (lambda v=v: NiftiVolume.from_array(v, SPACING)) for i, v in labels.items()}
    for loss in ("cbdice", "dice_ce"):
        for fold in (0, 1):
            for volume_id, label in labels.items():
                path = tmp_path / "predictions" / loss / f"fold_{fold}" / "predictions" / "none" / f"{volume_id}.nii.gz"
                write_nifti(path, NiftiVolume.from_array(label, SPACING))
    fingerprint = {"source": "synthetic", "num_volumes": 6, "fingerprint": "f" * 64}
    baselines = _volume_metrics(-0.3).drop(columns="postprocessing").assign(method="otsu")

    loss_table, _, comparisons, _, figures, markdown, html, promotions = build_study_report(
        runs, volume_metrics, histories, baselines, raw_images, raw_labels, fingerprint, _reporting(tmp_path), {}, {}
    )

    row = comparisons[(comparisons["loss"] == "cbdice") & (comparisons["metric"] == "dsc")].iloc[0]
    table = volume_metrics.merge(runs[["run_id", "loss", "fold_idx"]], on="run_id")
    per_volume = table.groupby(["loss", "id"])["dsc"].mean().unstack(0)  # each volume averaged over folds
    difference = per_volume["cbdice"] - per_volume["dice_ce"]
    assert row["mean_diff"] == pytest.approx(difference.mean())
    wide = table.pivot_table(index="id", columns=["fold_idx", "loss"], values="dsc")
    block = np.stack([wide[(fold, "cbdice")] - wide[(fold, "dice_ce")] for fold in (0, 1)], axis=1)
    expected = clustered_difference([block])  # holdout: both folds' runs score the same 6 volumes
    assert (row["p_value"], row["ci_low"], row["ci_high"]) == pytest.approx(
        (expected.p_value, expected.ci_low, expected.ci_high)
    )
    assert row["n_volumes"] == len(TEST_IDS) and row["verdict"] in {"better", "not significant"}
    assert set(figures) == {"metric_boxplots.png", "training_curves.png", "dsc_vs_cldice.png", "examples.png"}
    assert "otsu (baseline)" in markdown and "<img" in html and 'src="http' not in html
    cbdice = loss_table[(loss_table["loss"] == "cbdice") & (loss_table["metric"] == "dsc")].iloc[0]
    fold_means = table[table["loss"] == "cbdice"].groupby("fold_idx")["dsc"].mean()
    assert cbdice["mean"] == pytest.approx(fold_means.mean())  # mean over folds of the per-fold means
    assert set(loss_table["kind"]) == {"loss", "baseline"}
    assert set(promotions["action"]) == {"none"}  # these runs registered no model: nothing to promote
    assert "Models promoted" in markdown and "but no ensemble of" in markdown


MODEL = "minivess-dynunet-test"
NETWORK = {**DynUNetConfig(filters=(4, 8, 16, 32)).to_dict(), "patch_size": [16, 16, 8]}


def _register(client: MlflowClient, run_id: str, evaluated: str | None = None) -> str:
    """A version of MODEL registered in ``run_id`` by the training's registered model dataset (a
    small network of its own), and the run's evaluation record of it (``evaluated``: the digest
    the evaluation scored, default the registered one)."""
    torch.manual_seed(int(run_id[:6], 16))
    weights = build_dynunet(DynUNetConfig.from_dict(NETWORK)).state_dict()
    record_path = Path(client.get_run(run_id).info.artifact_uri.removeprefix("file://")).parent / "registered.json"
    with mlflow.start_run(run_id=run_id):
        RegisteredModelDataset(filepath=str(record_path)).save(
            {"name": MODEL, "state_dict": weights, "model_config": NETWORK}
        )
    version = json.loads(record_path.read_text())["version"]
    record = {"run_id": run_id, "registered_model": MODEL, "version": version}
    client.log_dict(
        run_id, record | {"evaluated_weights_sha256": evaluated or state_digest(weights)}, "registered_model.json"
    )
    return version


def _report_and_promote(tmp_path) -> pd.DataFrame:
    """collect_study_runs, read_registry_aliases, plan_ensembles (saved: registered),
    build_study_report and promote_models, as wired."""
    with mlflow.start_run(run_name="report"):
        study_runs = _study_runs()
        runs, volume_metrics, histories = collect_study_runs(
            study_runs, _reporting(tmp_path), {}, {"fingerprint": "f" * 64}
        )
        aliases = read_registry_aliases(study_runs, runs)
        fingerprint = {"source": "synthetic", "num_volumes": 6, "fingerprint": "f" * 64}
        ensembles = EnsembleRegistryDataset(filepath=str(tmp_path / "ensembles.json"))
        ensembles.save(plan_ensembles(runs, volume_metrics, histories, fingerprint, _reporting(tmp_path), aliases))
        outputs = build_study_report(
            runs, volume_metrics, histories, None, {}, {}, fingerprint, _reporting(tmp_path), aliases, ensembles.load()
        )
        RegistryAliasesDataset().save(promote_models(outputs[-1], _reporting(tmp_path)))
    return outputs[-1].set_index("alias")


def _aliased(client: MlflowClient) -> dict[str, tuple[str, str]]:
    model = client.get_registered_model(MODEL)
    return {alias: (client.get_model_version(MODEL, v).run_id, str(v)) for alias, v in model.aliases.items()}


def test_the_verdicts_ensembles_get_the_aliases_and_keep_them_until_it_changes(study, tmp_path) -> None:
    client = MlflowClient()
    versions = {
        key: _register(client, run_id) for key, run_id in study.items() if key.startswith(("dice_ce", "cbdice"))
    }
    # A re-evaluation run registers nothing: its record names the version it evaluated.
    reevaluated = _log_run("dice_ce", 1, 0.0)
    digest = client.get_model_version(MODEL, versions["dice_ce-1"]).tags["weights_sha256"]
    with mlflow.start_run(run_id=reevaluated):
        record = {"run_id": study["dice_ce-1"], "registered_model": MODEL, "version": versions["dice_ce-1"]}
        mlflow.log_dict(record | {"evaluated_weights_sha256": digest}, "registered_model.json")

    first = _report_and_promote(tmp_path)

    # cbdice is 0.05 DSC above dice_ce on every volume: significantly better (Holm, n = 6 volumes)
    assert first.loc["best-dsc", "loss"] == "cbdice" and first.loc["best-dsc", "action"] == "set"
    ensemble = client.get_model_version(MODEL, first.loc["best-dsc", "version"])
    assert ensemble.tags["kind"] == "ensemble" and ensemble.tags["loss"] == "cbdice"
    assert ensemble.tags["members"] == f"{study['cbdice-0']},{study['cbdice-1']}"
    assert ensemble.tags["member_versions"] == f"{versions['cbdice-0']},{versions['cbdice-1']}"
    assert json.loads(ensemble.tags["postprocessing"]) == {"mode": "none"}
    assert first.loc["best-dsc", "member_run_ids"] == f"{study['cbdice-0']};{study['cbdice-1']}"
    assert _aliased(client)["best-dsc"][1] == first.loc["best-dsc", "version"]
    # the reference's ensemble of the latest dice_ce runs; fold 1's through the re-evaluation's record
    reference = client.get_model_version(MODEL, first.loc["reference", "version"])
    assert reference.tags["member_versions"] == f"{versions['dice_ce-0']},{versions['dice_ce-1']}"

    # the registered ensemble loads as every member's plain weights and predicts their mean softmax
    loaded = RegistryModelDataset(uri=f"models:/{MODEL}@best-dsc").load()
    members = [RegistryModelDataset(uri=f"models:/{MODEL}/{versions[f'cbdice-{f}']}").load() for f in (0, 1)]
    assert len(loaded["members"]) == 2 and loaded["ensemble"]["loss"] == "cbdice"
    for got, member in zip(loaded["members"], members, strict=True):
        assert all(torch.equal(got[k], member["members"][0][k]) for k in got)
    x = torch.rand(1, 1, 16, 16, 8)
    nets = [build_dynunet(DynUNetConfig.from_dict(NETWORK)).eval() for _ in members]
    for net, member in zip(nets, members, strict=True):
        net.load_state_dict(member["members"][0])
    with torch.no_grad():
        expected = (torch.softmax(nets[0](x), 1) + torch.softmax(nets[1](x), 1)) / 2
        assert torch.allclose(build_ensemble(NETWORK, loaded["members"])(x), expected, atol=1e-6)

    # outside any MLflow run a registered ensemble is found by its key; a new one stops the save
    recorded = EnsembleRegistryDataset(filepath=str(tmp_path / "ensembles.json")).load()["cbdice"]
    request = {key: recorded[key] for key in ("loss", "members", "postprocessing")} | {"model_name": MODEL}
    outside = EnsembleRegistryDataset(filepath=str(tmp_path / "outside.json"))
    outside.save({"cbdice": request})
    assert outside.load()["cbdice"]["version"] == first.loc["best-dsc", "version"]
    with pytest.raises(DatasetError, match="the ensemble of cbdice must be registered, but no MLflow run is active"):
        outside.save({"cbdice": request | {"postprocessing": {"mode": "components"}}})

    aliased = _aliased(client)
    again = _report_and_promote(tmp_path)
    assert set(again["action"]) == {"kept"} and _aliased(client) == aliased  # same verdict: nothing moves
    assert len(client.search_model_versions(f"name = '{MODEL}' and tags.kind = 'ensemble'")) == 2  # none again

    # cbdice is retrained and now falls 0.05 below the reference: the verdict changes
    for fold in (0, 1):
        _register(client, _log_run("cbdice", fold, -0.05))
    changed = _report_and_promote(tmp_path)
    assert changed.loc["best-dsc", "loss"] == "dice_ce" and changed.loc["best-dsc", "action"] == "moved"
    assert changed.loc["best-dsc", "previous_version"] == aliased["best-dsc"][1]
    assert _aliased(client)["best-dsc"] == aliased["reference"]


def test_a_stale_registry_record_is_refused_naming_both_digests(study, tmp_path) -> None:
    """The registered version holds other weights than the best_model.pt the evaluation scored
    (registered_model.json left from an earlier registration): no ensemble of it, no alias."""
    client = MlflowClient()
    for key in ("dice_ce-0", "dice_ce-1"):
        _register(client, study[key])
    for key in ("cbdice-0", "cbdice-1"):
        _register(client, study[key], evaluated="0123456789abcdef")
    plan = _report_and_promote(tmp_path)
    row = plan.loc["best-dsc"]
    assert row["loss"] == "cbdice" and row["action"] == "none"  # the verdict holds, its model is refused
    digest = client.get_model_version(MODEL, "3").tags["weights_sha256"]
    assert f"holds weights {digest[:12]}" in row["reason"]
    assert "but the evaluated best_model.pt has 0123456789ab" in row["reason"]
    assert "best-dsc" not in _aliased(client)
