"""The commands a user types, run through a real Kedro session in a scratch project."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project


@pytest.mark.slow
def test_ingestion_and_splitting_with_runtime_params(project_copy) -> None:
    """kedro run --env test --pipelines data_ingestion,splitting --params loss=cbdice,fold_idx=1"""
    bootstrap_project(project_copy)
    with KedroSession.create(
        project_path=project_copy, env="test", runtime_params={"loss": "cbdice", "fold_idx": 1}
    ) as session:
        session.run(pipeline_names=["data_ingestion", "splitting"])

    data = project_copy / "data"
    manifest = pd.read_csv(data / "02_intermediate" / "synthetic" / "volume_manifest.csv")
    splits = json.loads((data / "03_primary" / "synthetic" / "splits.json").read_text())
    fold = json.loads((data / "03_primary" / "synthetic" / "splits" / "fold_1.json").read_text())
    fingerprint = json.loads((data / "02_intermediate" / "synthetic" / "dataset_fingerprint.json").read_text())

    assert len(manifest) == 7 and (data / "01_raw" / "synthetic" / "imagesTr" / "mv07.nii.gz").exists()
    assert len(splits["test"]) == 1 and len(splits["folds"]) == 3
    assert fold["fold_idx"] == 1 and fold["val"] == splits["folds"][1]["val"]
    assert fingerprint["num_volumes"] == 7 and fingerprint["source"] == "synthetic"
    assert not (data / "01_raw" / "ebrains").exists()  # synthetic data never lands in the study's folders


@pytest.mark.slow
def test_parameter_typo_fails_before_any_work(project_copy) -> None:
    """kedro run --env test --params splitting.num_fold=3"""
    bootstrap_project(project_copy)
    with (
        KedroSession.create(
            project_path=project_copy, env="test", runtime_params={"splitting": {"num_fold": 3}}
        ) as session,
        pytest.raises(Exception, match="num_fold"),
    ):
        session.run(pipeline_names=["data_ingestion", "splitting"])
    assert not (project_copy / "data" / "01_raw").exists()
