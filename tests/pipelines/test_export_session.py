"""`kedro run --pipelines export` through a real Kedro session: the fold ensemble an alias points at
becomes a MONAI Bundle that `python -m monai.bundle` verifies and runs, predicting what the
inference pipeline predicts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from minivess_kedro.framework.expected_errors import MissingInputsError
from tests.pipelines.mlflow_record import kedro_run
from tests.pipelines.test_inference_session import MODEL, aliased_ensemble, one_volume_folder

SCHEMA = Path(__file__).resolve().parents[2] / "src" / "minivess_kedro" / "bundle" / "metadata_schema.json"


def _monai_bundle(bundle: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m monai.bundle <args>`` in the bundle's folder, as a lab would type it."""
    environment = {**os.environ, "PYTHONPATH": ""}  # the bundle's own scripts/, not this project's
    return subprocess.run(
        [sys.executable, "-m", "monai.bundle", *args],
        check=False,
        cwd=bundle,
        env=environment,
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_the_exported_bundle_verifies_and_predicts_as_the_inference_pipeline(project_copy, tmp_path) -> None:
    """kedro run --env test --pipelines export --params export.model=models:/...@best-cldice"""
    recorded = {"mode": "components", "components": {"min_volume_um3": 6.0, "max_hole_um3": 3.0}}
    _, ensemble = aliased_ensemble(project_copy, "best-cldice", recorded)
    folder = tmp_path / "new"
    one_volume_folder(folder, "c", 4, (28, 20, 10), (0.8, 0.8, 2.0))

    kedro_run(project_copy, ["export"], {"export": {"model": f"models:/{MODEL}@best-cldice"}})

    bundle = project_copy / "data" / "test-env" / "10_bundles" / f"{MODEL}_v{ensemble}"
    meta, config = bundle / "configs" / "metadata.json", bundle / "configs" / "inference.json"
    checks = [
        ("verify_metadata", "--meta_file", str(meta), "--filepath", str(SCHEMA)),
        ("verify_net_in_out", "network_def", "--meta_file", str(meta), "--config_file", str(config)),
        ("run", "--config_file", "configs/inference.json", "--dataset_dir", str(folder)),
    ]
    for check in checks:
        done = _monai_bundle(bundle, *check)
        assert done.returncode == 0, f"{check[0]}: {done.stderr[-2000:]}"
    verified = _monai_bundle(bundle, *checks[0])
    assert "metadata is verified with no error" in verified.stdout + verified.stderr
    bundle_mask = np.asarray(nib.load(bundle / "eval" / "c_mask.nii.gz").dataobj)

    kedro_run(
        project_copy,
        ["inference"],
        {"inference": {"input": str(folder), "model": f"models:/{MODEL}@best-cldice", "save_probability": True}},
    )

    output = project_copy / "data" / "test-env" / "09_inference" / "new" / MODEL / f"v{ensemble}"
    pipeline_mask = np.asarray(nib.load(output / "c_mask.nii.gz").dataobj)
    assert pipeline_mask.any() and pipeline_mask.shape == (28, 20, 10)
    np.testing.assert_array_equal(bundle_mask, pipeline_mask)
    raw = np.asarray(nib.load(output / "c_probability.nii.gz").dataobj) > 0.5  # before the clean-up
    assert (raw != pipeline_mask).any()  # the verdict's clean-up changed this mask: the bundle applied it too


def test_an_export_without_its_model_names_the_key(project_copy) -> None:
    """kedro run --env test --pipelines export (no model)"""
    with pytest.raises(MissingInputsError, match=r"export.model is not set: .*kedro run --pipelines export --params"):
        kedro_run(project_copy, ["export"], {})
