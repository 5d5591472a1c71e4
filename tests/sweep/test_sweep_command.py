"""``kedro sweep`` on a tiny grid in the test env: cells run, finished cells are never repeated."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pandas as pd
import pytest
from mlflow import MlflowClient


def _sweep(project, *args: str, report: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    command = [sys.executable, "-m", "kedro", "sweep", "--env", "test", "--report" if report else "--no-report", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.slow
def test_grid_resumes_without_repeating_finished_cells(project_copy) -> None:
    first = _sweep(project_copy, "--losses", "dice_ce", "--folds", "0,1")
    assert first.returncode == 0, first.stderr[-2000:]

    # the grid grew by a loss and a seed
    second = _sweep(project_copy, "--losses", "dice_ce,cbdice", "--folds", "0,1", "--seeds", "0,1")
    assert second.returncode == 0, second.stderr[-2000:]

    pattern = r"^(\S+-fold\d+(?:-seed\d+)?)\s+(finished|skipped|failed)\b"
    lines = dict(re.findall(pattern, second.stdout, flags=re.MULTILINE))
    assert lines == {
        "dice_ce-fold0": "skipped",
        "dice_ce-fold0-seed1": "finished",
        "dice_ce-fold1": "skipped",
        "dice_ce-fold1-seed1": "finished",
        "cbdice-fold0": "finished",
        "cbdice-fold0-seed1": "finished",
        "cbdice-fold1": "finished",
        "cbdice-fold1-seed1": "finished",
    }
    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("minivess-test")
    runs = client.search_runs([experiment.experiment_id], "tags.evaluated = 'true'")
    cells = sorted((r.data.tags["loss"], r.data.tags["fold_idx"], r.data.tags["seed"]) for r in runs)
    expected = [(loss, fold, seed) for loss in ("cbdice", "dice_ce") for fold in "01" for seed in "01"]
    assert cells == expected  # each cell once
    assert {r.info.run_name for r in runs} >= {"dice_ce-fold0", "cbdice-fold1-seed1"}
    everything = client.search_runs([experiment.experiment_id])
    assert len(everything) == len(runs)  # data preparation (run first by every sweep) opens no run

    # the same grid again, with its report: every cell skipped, one report run; then nothing new
    grid = ("--losses", "dice_ce,cbdice", "--folds", "0,1", "--seeds", "0,1")
    third = _sweep(project_copy, *grid, report=True)
    assert third.returncode == 0, third.stderr[-2000:]
    names = [r.info.run_name for r in client.search_runs([experiment.experiment_id])]
    assert len(names) == len(runs) + 1 and names.count("report") == 1
    promoted = _assert_aliases_follow_the_verdict(client, project_copy, runs)
    fourth = _sweep(project_copy, *grid, report=True)
    assert fourth.returncode == 0 and re.search(r"^report\s+current", fourth.stdout, flags=re.MULTILINE)
    assert len(client.search_runs([experiment.experiment_id])) == len(runs) + 1  # a repeated sweep: no new run
    assert _aliases(client) == promoted  # nothing rebuilt: nothing moved


def _aliases(client: MlflowClient) -> dict[str, str]:
    model = client.get_registered_model("minivess-dynunet-test")
    return {alias: str(version) for alias, version in model.aliases.items()}


def _assert_aliases_follow_the_verdict(client: MlflowClient, project, runs) -> dict[str, str]:
    """best-<metric> is on the ensemble of cbdice when the report judged it better than dice_ce on
    that metric, else of dice_ce; reference on dice_ce's; each ensemble holds its loss's four runs
    (fold x seed, in that order); promotions.csv says the same."""
    report = project / "data" / "test-env" / "08_reporting" / "synthetic"
    comparisons = pd.read_csv(report / "comparisons.csv")
    promotions = pd.read_csv(report / "promotions.csv", dtype={"version": str})
    aliases = _aliases(client)
    assert set(aliases) == {"best-dsc", "best-cldice", "reference"}
    assert dict(zip(promotions["alias"], promotions["version"], strict=True)) == aliases
    cell = {run.info.run_id: (run.data.tags["loss"], run.data.tags["fold_idx"], run.data.tags["seed"]) for run in runs}
    for alias, version in aliases.items():
        metric = alias.removeprefix("best-")
        row = comparisons[(comparisons["loss"] == "cbdice") & (comparisons["metric"] == metric)]
        winner = "cbdice" if alias != "reference" and (row["verdict"] == "better").any() else "dice_ce"
        model = client.get_model_version("minivess-dynunet-test", version)
        assert (model.tags["kind"], model.tags["loss"]) == ("ensemble", winner), (alias, row.to_dict("records"))
        members = [cell[run_id] for run_id in model.tags["members"].split(",")]
        assert members == [(winner, fold, seed) for fold in "01" for seed in "01"], alias
    return aliases


def test_unknown_loss_stops_before_any_run(project_copy) -> None:
    result = _sweep(project_copy, "--losses", "cbdcie", "--folds", "0")
    assert result.returncode != 0 and "unknown losses ['cbdcie']" in result.stderr
    assert not (project_copy / "data").exists()


@pytest.mark.slow
def test_four_cells_at_once_on_one_sqlite_store_lose_no_metric(project_copy) -> None:
    """kedro sweep --env test --jobs 4 --losses dice_ce,cbdice --folds 0,1: four processes write one
    mlflow.db at once; every cell finishes and every metric history is complete."""
    done = _sweep(project_copy, "--jobs", "4", "--losses", "dice_ce,cbdice", "--folds", "0,1")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "database is locked" not in done.stdout + done.stderr

    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("minivess-test")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_name for r in runs) == ["cbdice-fold0", "cbdice-fold1", "dice_ce-fold0", "dice_ce-fold1"]
    for run in runs:
        assert run.info.status == "FINISHED" and run.data.tags["evaluated"] == "true", run.info.run_name
        for key in ("train_loss", "val_dsc", "lr"):  # logged live, every epoch
            assert [m.step for m in client.get_metric_history(run.info.run_id, key)] == [0, 1], (run.info.run_name, key)
        assert {"best_val_dsc", "test_dsc", "test_dsc_ci_low"} <= set(run.data.metrics), run.info.run_name
