"""The commands a user types, run through a real Kedro session in a scratch project."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from minivess_kedro.data.synthetic import generate_volume
from minivess_kedro.io import NiftiVolume, write_nifti


@pytest.mark.slow
def test_ingestion_and_splitting_with_runtime_params(project_copy) -> None:
    """kedro run --env test --pipelines data_ingestion,splitting --params loss=cbdice,fold_idx=1"""
    bootstrap_project(project_copy)
    with KedroSession.create(
        project_path=project_copy, env="test", runtime_params={"loss": "cbdice", "fold_idx": 1}
    ) as session:
        session.run(pipeline_names=["data_ingestion", "splitting"])

    data = project_copy / "data" / "test-env"  # the test env keeps its data apart
    manifest = pd.read_csv(data / "02_intermediate" / "synthetic" / "volume_manifest.csv")
    splits = json.loads((data / "03_primary" / "synthetic" / "splits.json").read_text())
    fold = json.loads((data / "03_primary" / "synthetic" / "splits" / "fold_1.json").read_text())
    fingerprint = json.loads((data / "02_intermediate" / "synthetic" / "dataset_fingerprint.json").read_text())

    assert len(manifest) == 7 and (data / "01_raw" / "synthetic" / "imagesTr" / "mv07.nii.gz").exists()
    # the study's default protocol is nested: each of the 7 volumes tested once, by its outer fold
    assert splits["protocol"] == "nested" and splits["test"] == [] and len(splits["folds"]) == 3
    assert sorted(i for f in splits["folds"] for i in f["test"]) == [f"mv{i:02d}" for i in range(1, 8)]
    assert fold["fold_idx"] == 1 and fold["val"] == splits["folds"][1]["val"]
    assert fold["test"] == splits["folds"][1]["test"] and fold["protocol"] == "nested"
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
        pytest.raises(Exception, match=r"splitting\.num_fold: Extra inputs .* did you mean 'num_folds'\?"),
    ):
        session.run(pipeline_names=["data_ingestion", "splitting"])
    assert not (project_copy / "data").exists()


@pytest.mark.slow
def test_gpu_low_profile_splitting_picks_fold_1_on_a_local_folder(project_copy, tmp_path) -> None:
    """kedro run --env gpu_low --params loss=cbdice,fold_idx=1 --pipelines splitting, on real-layout data."""
    source = tmp_path / "minivess"
    for index in range(1, 8):
        volume = generate_volume(index, (16, 16, 6))
        affine = np.diag([*volume.spacing, 1.0])
        write_nifti(source / "raw" / f"mv{index:02d}.nii.gz", NiftiVolume(volume.image, affine, volume.spacing))
        write_nifti(source / "seg" / f"mv{index:02d}_y.nii.gz", NiftiVolume(volume.label, affine, volume.spacing))
    runtime = {
        "loss": "cbdice",
        "fold_idx": 1,
        "data_ingestion": {"source": "local", "local": {"path": str(source)}},
        "splitting": {"test_size": 1},
    }
    bootstrap_project(project_copy)
    for pipeline in ("data_ingestion", "splitting"):  # two commands, as a user would type them
        with KedroSession.create(project_path=project_copy, env="gpu_low", runtime_params=runtime) as session:
            session.run(pipeline_names=[pipeline])

    primary = project_copy / "data" / "03_primary" / "local"
    splits = json.loads((primary / "splits.json").read_text())
    fold = json.loads((primary / "splits" / "fold_1.json").read_text())
    assert fold["fold_idx"] == 1 and fold["val"] == splits["folds"][1]["val"]
    assert (project_copy / "data" / "01_raw" / "local" / "labelsTr" / "mv07.nii.gz").exists()
