"""Evaluation through Kedro sessions: logged with the training run; re-evaluation of a past run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from minivess_kedro.metrics.tolerance import AUTO_SCORING
from minivess_kedro.training.lineage import LeakageError
from tests.pipelines.test_training_session import _client, _run, _runs

ALL = ["data_ingestion", "splitting", "training", "evaluation", "reporting"]


@pytest.mark.slow
def test_evaluation_is_logged_and_rerun_alone_gives_the_same_metrics(project_copy) -> None:
    """kedro run --env test, then kedro run --env test --pipelines evaluation --params loss=dice_ce,fold_idx=0"""
    _run(project_copy, {"loss": "dice_ce", "fold_idx": 0}, pipelines=ALL)
    report = project_copy / "data" / "test-env" / "08_reporting" / "synthetic"
    assert "dice_ce (reference)" in (report / "report.md").read_text()
    # one loss: every alias goes to its ensemble (the reference's; nothing was compared): version 2, of
    # the one network that training registered as version 1
    client = _client(project_copy)
    aliases = client.get_registered_model("minivess-dynunet-test").aliases
    assert aliases == {"best-dsc": 2, "best-cldice": 2, "reference": 2}
    ensemble, trained = (client.get_model_version("minivess-dynunet-test", v) for v in ("2", "1"))
    assert (ensemble.tags["kind"], ensemble.tags["members"]) == ("ensemble", trained.run_id)
    assert "## Models promoted" in (report / "report.md").read_text()
    assert (report / "figures" / "examples.png").stat().st_size > 1000
    output = project_copy / "data" / "test-env" / "07_model_output" / "synthetic" / "dice_ce" / "fold_0"
    first = pd.read_csv(output / "volume_metrics.csv")
    (prediction,) = (output / "predictions" / "none").glob(f"{first[first['split'] == 'test']['id'].iloc[0]}.nii.gz")
    stamp = prediction.stat().st_mtime_ns

    _run(project_copy, {"loss": "dice_ce", "fold_idx": 0}, pipelines=["evaluation"])

    again = pd.read_csv(output / "volume_metrics.csv")
    pd.testing.assert_frame_equal(again.drop(columns="seconds"), first.drop(columns="seconds"))
    assert prediction.stat().st_mtime_ns != stamp  # predicted again, from the saved checkpoint
    runs = sorted(_runs(project_copy, "dice_ce-fold0"), key=lambda r: r.info.start_time)
    assert {a.path for a in _client(project_copy).list_artifacts(runs[0].info.run_id, "report")} >= {
        "report/report.md",
        "report/report.html",
    }
    assert [r.info.status for r in runs] == ["FINISHED", "FINISHED"]
    client = _client(project_copy)
    for run in runs:
        assert run.data.tags["evaluated"] == "true"
        assert (run.data.tags["loss"], run.data.tags["fold_idx"]) == ("dice_ce", "0")  # re-evaluations too
        assert len(run.data.tags["dataset_fingerprint"]) == 64
        assert run.data.metrics["test_dsc"] == pytest.approx(
            first[(first["split"] == "test") & (first["postprocessing"] == "none")]["dsc"].mean()
        )
        assert "test_components_dsc" in run.data.metrics and "val_eval_dsc" in run.data.metrics
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
        assert artifacts == {
            "evaluation/volume_metrics.csv",
            "evaluation/metrics_summary.csv",
            "evaluation/baseline_metrics.csv",
        }


@pytest.mark.slow
def test_seed_runs_and_reevaluation_after_a_split_change(project_copy, tmp_path) -> None:
    """kedro run --env test --params loss=dice_ce,fold_idx=0,seed=1; then the splits change and
    kedro run --env test --pipelines evaluation ... is refused, naming the volumes the model saw."""
    _run(project_copy, {"loss": "dice_ce", "fold_idx": 0, "seed": 1}, pipelines=ALL[:4])
    models = project_copy / "data" / "test-env" / "06_models" / "synthetic" / "dice_ce"
    lineage = json.loads((models / "fold_0-seed1" / "model_lineage.json").read_text())
    summary = json.loads((models / "fold_0-seed1" / "training_summary.json").read_text())
    fold = json.loads((project_copy / "data/test-env/03_primary/synthetic/splits/fold_0.json").read_text())
    assert not (models / "fold_0").exists()  # seed 0's folder is another run's
    assert (lineage["train_ids"], lineage["val_ids"], lineage["test_ids"]) == (fold["train"], fold["val"], fold["test"])
    assert lineage["protocol"] == "nested" and lineage["seed"] == 1 and summary["training_seed"] == 42 + 1
    (run,) = _runs(project_copy, "dice_ce-fold0-seed1")
    assert (run.data.tags["seed"], run.data.tags["protocol"]) == ("1", "nested")
    manifest = pd.read_csv(project_copy / "data/test-env/02_intermediate/synthetic/volume_manifest.csv")
    # nsd_tau: auto: each volume scored at its own coarsest spacing, the tag naming the rule
    coarsest = manifest.set_index("volume_id")[["spacing_h_um", "spacing_w_um", "spacing_d_um"]].max(axis=1)
    scored = pd.read_csv(
        project_copy / "data/test-env/07_model_output/synthetic/dice_ce/fold_0-seed1/volume_metrics.csv"
    )
    assert run.data.tags["nsd_tau"] == AUTO_SCORING and set(scored["nsd_tau_rule"]) == {"auto"}
    assert scored["nsd_tau"].to_numpy() == pytest.approx(coarsest[scored["id"]].to_numpy())
    logged = _client(project_copy).download_artifacts(
        run.info.run_id, "model_lineage.json", str(tmp_path / "artifacts")
    )
    assert json.loads(Path(logged).read_text()) == lineage

    # The lab switches to a fixed hold-out set: today's test volumes include the model's training volumes.
    holdout = {"loss": "dice_ce", "fold_idx": 0, "seed": 1, "splitting": {"protocol": "holdout", "test_size": 3}}
    _run(project_copy, holdout, pipelines=["splitting"])
    with pytest.raises(LeakageError, match=r"(?s)would be scored on volumes it saw.*that it was trained on: \['mv"):
        _run(project_copy, holdout, pipelines=["evaluation"])


@pytest.mark.slow
def test_evaluation_of_a_run_that_was_never_trained_names_the_missing_input(project_copy) -> None:
    _run(project_copy, {"loss": "dice_ce", "fold_idx": 0}, pipelines=["data_ingestion", "splitting"])
    with pytest.raises(FileNotFoundError) as caught:
        _run(project_copy, {"loss": "cbdice", "fold_idx": 0}, pipelines=["evaluation"])
    message = str(caught.value)
    assert "best_model (" in message and "cbdice/fold_0/best_model.pt" in message
    assert "`kedro run --env test --pipelines training --params loss=cbdice,fold_idx=0` writes it" in message
    assert "predictions" not in message  # evaluation writes those itself
    runs = _runs(project_copy, "cbdice-fold0")
    assert [r.info.status for r in runs] == ["FAILED"]  # the run opened for it is not left RUNNING
