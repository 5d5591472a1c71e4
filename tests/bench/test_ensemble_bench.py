"""bench/ensemble.py stays runnable on a registered ensemble: every member and the ensemble segment
the same fresh volumes (the numbers it prints are measured, never asserted: a benchmark)."""

from __future__ import annotations

import sys

import mlflow
import pytest
import torch

from minivess_kedro.data.synthetic_dataset import SyntheticDatasetSettings
from minivess_kedro.datasets import EnsembleRegistryDataset
from minivess_kedro.datasets.registered_model_dataset import RegisteredModelDataset
from minivess_kedro.inference import SlidingWindowConfig, segment_volume
from minivess_kedro.metrics import compute_dsc
from minivess_kedro.models import DynUNetConfig, build_dynunet, build_ensemble
from tests.conftest import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import ensemble as ensemble_bench

CONFIG = {**DynUNetConfig(filters=(4, 8, 16, 32)).to_dict(), "patch_size": [16, 16, 8]}


def _registered_ensemble(tmp_path) -> tuple[str, list[dict]]:
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("bench", artifact_location=str(tmp_path / "runs")))
    members, states = [], []
    for fold in (0, 1):
        torch.manual_seed(fold)
        states.append(build_dynunet(DynUNetConfig.from_dict(CONFIG)).state_dict())
        record = tmp_path / f"registered-{fold}.json"
        with mlflow.start_run() as run:
            RegisteredModelDataset(filepath=str(record)).save(
                {"name": "m", "state_dict": states[-1], "model_config": CONFIG}
            )
        version = mlflow.MlflowClient().get_model_version("m", str(fold + 1))
        weights = version.tags["weights_sha256"]
        members.append(
            {
                "run_id": run.info.run_id,
                "fold_idx": fold,
                "seed": 0,
                "version": version.version,
                "weights_sha256": weights,
            }
        )
    request = {"loss": "dice_ce", "model_name": "m", "members": members, "postprocessing": {"mode": "none"}}
    with mlflow.start_run():
        EnsembleRegistryDataset(filepath=str(tmp_path / "ensembles.json")).save({"dice_ce": request})
    return "models:/m/3", states


def test_the_ensemble_and_each_member_segment_the_same_fresh_volumes(tmp_path, capsys) -> None:
    uri, states = _registered_ensemble(tmp_path)
    tracking = mlflow.get_tracking_uri()
    result = ensemble_bench.main(
        ["--model", uri, "--tracking-uri", tracking, "--volumes", "2", "--size-hw", "24", "20"]
    )

    assert (result["members"], result["volumes"]) == (2, 2)
    volumes = ensemble_bench.fresh_volumes(2, (24, 20), SyntheticDatasetSettings().depth_range)
    window = SlidingWindowConfig(roi_size=(16, 16, 8), overlap=0.5, sw_batch_size=4)
    expected = [
        compute_dsc(segment_volume(build_ensemble(CONFIG, states), v.image, window)[0], v.label) for v in volumes
    ]
    assert result["ensemble_dsc"] == pytest.approx(sum(expected) / 2)
    assert result["best_member_dsc"] >= result["member_dsc"] and result["ensemble_seconds"] > 0
    assert "ensemble - mean member DSC" in capsys.readouterr().out
