"""`kedro run --pipelines inference` through real Kedro sessions on a scratch project: a registered
model version (by alias, then by number) segments a folder of new volumes, one of them broken."""

from __future__ import annotations

import json

import mlflow
import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import torch
from mlflow import MlflowClient

from minivess_kedro.data.synthetic import generate_volume
from minivess_kedro.datasets import EnsembleRegistryDataset
from minivess_kedro.datasets.registered_model_dataset import RegisteredModelDataset
from minivess_kedro.datasets.registry_model_dataset import RegistryModelDataset
from minivess_kedro.framework.expected_errors import MissingInputsError
from minivess_kedro.inference import SlidingWindowConfig, segment_volume
from minivess_kedro.inference.sources import InferenceInputsError
from minivess_kedro.inference.verdict_postprocessing import PostprocessingMismatchError
from minivess_kedro.io import NiftiVolume, nifti_to_bytes, write_nifti
from minivess_kedro.io.ome_tiff import read_ome_tiff
from minivess_kedro.models import DynUNetConfig, build_dynunet, build_ensemble
from minivess_kedro.morphometry import SEGMENT_COLUMNS
from minivess_kedro.postprocessing import ComponentSettings, clean_components
from tests.pipelines.mlflow_record import kedro_run

MODEL = "minivess-dynunet-test"  # training.registered_model_name of the test env
# The test env's network and patch (conf/test/parameters_training.yml).
CONFIG = {**DynUNetConfig(filters=(4, 8, 16, 32)).to_dict(), "patch_size": [16, 16, 8]}
ROTATED = np.array([[0.0, -1.2, 0, 30.0], [1.2, 0, 0, -4.0], [0, 0, 3.0, 11.0], [0, 0, 0, 1]])


def _register(project, seed: int) -> str:
    """A version of MODEL with freshly initialised weights, as training registers one."""
    torch.manual_seed(seed)
    weights = build_dynunet(DynUNetConfig.from_dict(CONFIG)).state_dict()
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    if mlflow.get_experiment_by_name("minivess-test") is None:
        mlflow.create_experiment("minivess-test", artifact_location=str(project / "mlruns"))
    mlflow.set_experiment("minivess-test")
    record = project / f"registered-{seed}.json"
    with mlflow.start_run():
        RegisteredModelDataset(filepath=str(record)).save(
            {"name": MODEL, "state_dict": weights, "model_config": CONFIG}
        )
    return json.loads(record.read_text())["version"]


def _new_volumes(folder) -> None:
    """a: written by the io module (a rotated affine); b: a header with a description, micrometre
    units and its own qform; broken: a gzip cut short."""
    a, b = generate_volume(1, shape=(24, 20, 8)), generate_volume(2, shape=(20, 20, 6), spacing=(0.8, 0.8, 2.5))
    write_nifti(folder / "a.nii.gz", NiftiVolume(a.image, ROTATED, (1.2, 1.2, 3.0)))
    image = nib.Nifti1Image(b.image, np.diag([0.8, 0.8, 2.5, 1.0]))
    scanner = np.diag([0.8, 0.8, 2.5, 1.0])
    scanner[:3, 3] = (-8.0, -8.0, 15.0)  # the scanner's frame: another affine than the sform's
    image.header.set_qform(scanner, code=1)
    image.header.set_sform(np.diag([0.8, 0.8, 2.5, 1.0]), code=4)
    image.header.set_xyzt_units("micron")
    image.header["descrip"] = b"new two-photon stack"
    nib.save(image, folder / "b.nii.gz")
    whole = nifti_to_bytes(NiftiVolume.from_array(generate_volume(3, shape=(20, 20, 6)).image, (1.0, 1.0, 2.0)))
    (folder / "broken.nii.gz").write_bytes(whole[: len(whole) // 2])


def _summary(folder) -> pd.DataFrame:
    return pd.read_csv(folder / "summary.csv", dtype={"error": "string"}).fillna({"error": ""}).set_index("id")


def _assert_written_like_its_source(source_path, mask_path, shape) -> None:
    """A uint8 {0, 1} mask of the source's shape, with its affine, qform and sform (and codes),
    pixdim and units."""
    source, mask = nib.load(source_path), nib.load(mask_path)
    assert mask.shape == shape and mask.get_data_dtype() == np.uint8
    np.testing.assert_allclose(mask.affine, source.affine)
    np.testing.assert_allclose(mask.header["pixdim"], source.header["pixdim"])
    assert mask.header.get_xyzt_units() == source.header.get_xyzt_units()
    for coded in ("get_qform", "get_sform"):
        ours, code = getattr(mask.header, coded)(coded=True)
        theirs, source_code = getattr(source.header, coded)(coded=True)
        assert int(code) == int(source_code)
        if code:  # an uncoded form has no affine
            np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert set(np.unique(np.asarray(mask.dataobj))) <= {0, 1}


@pytest.mark.slow
def test_a_registered_version_segments_a_folder_resumes_and_reports_the_broken_file(project_copy, tmp_path) -> None:
    """kedro run --env test --pipelines inference
    --params inference.input=...,inference.model=models:/...@best-cldice"""
    first = _register(project_copy, seed=0)
    MlflowClient().set_registered_model_alias(MODEL, "best-cldice", first)
    folder = tmp_path / "new"
    folder.mkdir()
    _new_volumes(folder)
    command = {"inference": {"input": str(folder), "model": f"models:/{MODEL}@best-cldice"}}

    with pytest.raises(InferenceInputsError) as err:
        kedro_run(project_copy, ["inference"], command)

    assert list(err.value.problems) == [str(folder / "broken.nii.gz")]  # one error, the broken file only
    assert "truncated" in str(err.value) or "corrupt" in str(err.value)
    output = project_copy / "data" / "test-env" / "09_inference" / "new" / MODEL / f"v{first}"
    summary = _summary(output)
    assert summary["status"].to_dict() == {"a": "done", "b": "done", "broken": "failed"}
    assert summary.loc["broken", "error"] == err.value.problems[str(folder / "broken.nii.gz")]
    version = MlflowClient().get_model_version(MODEL, first)
    assert set(summary["model_run_id"]) == {version.run_id} and set(summary["model_version"].astype(str)) == {first}
    assert set(summary["model_uri"]) == {f"models:/{MODEL}@best-cldice"}
    assert set(summary.loc[["a", "b"], "postprocessing"]) == {"none"}  # what the report's verdict judged
    assert sorted(p.name for p in output.glob("*.nii.gz")) == ["a_mask.nii.gz", "b_mask.nii.gz"]
    for name, shape in (("a", (24, 20, 8)), ("b", (20, 20, 6))):
        _assert_written_like_its_source(folder / f"{name}.nii.gz", output / f"{name}_mask.nii.gz", shape)
        record = json.loads((output / f"{name}_record.json").read_text())
        identity = {"name": MODEL, "version": first, "run_id": version.run_id, "uri": command["inference"]["model"]}
        assert record["model"] == identity
        assert record["settings"]["roi_size"] == [16, 16, 8] and record["settings"]["overlap"] == 0.25
        assert summary.loc[name, "size_h"] == shape[0]
    assert nib.load(output / "b_mask.nii.gz").header["descrip"] == b"new two-photon stack"
    stamps = {p.name: p.stat().st_mtime_ns for p in output.glob("*_mask.nii.gz")}

    with pytest.raises(InferenceInputsError, match="broken.nii.gz"):
        kedro_run(project_copy, ["inference"], command)  # the same command again

    assert _summary(output)["status"].to_dict() == {"a": "skipped", "b": "skipped", "broken": "failed"}
    assert {p.name: p.stat().st_mtime_ns for p in output.glob("*_mask.nii.gz")} == stamps
    pd.testing.assert_frame_equal(
        _summary(output).drop(columns=["status", "seconds"]), summary.drop(columns=["status", "seconds"])
    )

    second = _register(project_copy, seed=1)
    (folder / "broken.nii.gz").unlink()
    again = {
        "input": str(folder),
        "model": f"models:/{MODEL}/{second}",
        "output": str(output),
        "save_probability": True,
        "save_segments": True,
        "save_ome_tiff": True,
        "postprocessing": "components",
    }
    kedro_run(project_copy, ["inference"], {"inference": again})  # another version, into the same folder

    summary = _summary(output)
    assert summary["status"].to_dict() == {"a": "done", "b": "done"}
    assert set(summary["model_version"].astype(str)) == {second} and set(summary["postprocessing"]) == {"components"}
    assert all(p.stat().st_mtime_ns != stamps[p.name] for p in output.glob("*_mask.nii.gz"))
    assert json.loads((output / "a_record.json").read_text())["model"]["version"] == second
    segments = pd.read_csv(output / "a_segments.csv")  # the vessel segments of the mask, in µm
    assert list(segments.columns) == list(SEGMENT_COLUMNS) and len(segments) == summary.loc["a", "segments"]
    assert segments["length_um"].sum() == pytest.approx(summary.loc["a", "total_length_um"])
    ome, spacing, unit = read_ome_tiff((output / "a_mask.ome.tif").read_bytes())  # for napari and Fiji
    np.testing.assert_array_equal(ome, np.asarray(nib.load(output / "a_mask.nii.gz").dataobj))
    assert spacing == tuple(summary.loc["a", ["spacing_h_um", "spacing_w_um", "spacing_d_um"]]) and unit == "µm"
    probability = nib.load(output / "a_probability.nii.gz")
    assert (
        probability.get_data_dtype() == np.float32
        and 0 <= probability.get_fdata().min() <= probability.get_fdata().max() <= 1
    )


def test_a_run_without_its_folder_or_model_names_both_keys(project_copy) -> None:
    """kedro run --env test --pipelines inference (nothing given)"""
    with pytest.raises(MissingInputsError) as err:
        kedro_run(project_copy, ["inference"], {})
    message = str(err.value)
    assert "inference.input is not set" in message and "inference.model is not set" in message
    assert "kedro run --pipelines inference --params inference.input=" in message


def _register_ensemble(project, versions: list[str], postprocessing: dict) -> str:
    """The ensemble of ``versions``, registered as the report's ensemble dataset does."""
    client = MlflowClient()
    members = [
        {"run_id": v.run_id, "fold_idx": i, "seed": 0, "version": v.version, "weights_sha256": v.tags["weights_sha256"]}
        for i, v in enumerate(client.get_model_version(MODEL, number) for number in versions)
    ]
    request = {"loss": "dice_ce", "model_name": MODEL, "members": members, "postprocessing": postprocessing}
    dataset = EnsembleRegistryDataset(filepath=str(project / "ensembles.json"))
    with mlflow.start_run(run_name="report"):
        dataset.save({"dice_ce": request})
    return dataset.load()["dice_ce"]["version"]


def aliased_ensemble(project, alias: str, recorded: dict) -> tuple[list[str], str]:
    """Two trained versions and their ensemble (post-processing ``recorded``) behind ``alias``."""
    members = [_register(project, seed) for seed in (0, 1)]
    ensemble = _register_ensemble(project, members, recorded)
    MlflowClient().set_registered_model_alias(MODEL, alias, ensemble)
    return members, ensemble


def one_volume_folder(folder, name: str, seed: int, shape, spacing):
    """``folder`` with one synthetic volume ``<name>.nii.gz``; returns the volume."""
    folder.mkdir()
    volume = generate_volume(seed, shape=shape)
    write_nifti(folder / f"{name}.nii.gz", NiftiVolume.from_array(volume.image, spacing))
    return volume


@pytest.mark.slow
def test_the_ensemble_an_alias_points_at_segments_with_its_verdicts_post_processing(project_copy, tmp_path) -> None:
    """kedro run --env test --pipelines inference --params inference.input=...,inference.model=models:/...@best-dsc
    on the report's fold ensemble: every member runs, the verdict's post-processing is applied, and
    another one is refused unless allowed."""
    recorded = {"mode": "components", "components": {"min_volume_um3": 6.0, "max_hole_um3": 3.0}}
    members, ensemble = aliased_ensemble(project_copy, "best-dsc", recorded)
    folder = tmp_path / "new"
    volume = one_volume_folder(folder, "a", 1, (24, 20, 8), (1.0, 1.0, 2.0))
    command = {"input": str(folder), "model": f"models:/{MODEL}@best-dsc"}

    kedro_run(project_copy, ["inference"], {"inference": command})

    output = project_copy / "data" / "test-env" / "09_inference" / "new" / MODEL / f"v{ensemble}"
    assert _summary(output).loc["a", "postprocessing"] == "components"
    record = json.loads((output / "a_record.json").read_text())
    assert record["model"]["members"] == [MlflowClient().get_model_version(MODEL, v).run_id for v in members]
    assert record["settings"]["components"] == recorded["components"]  # the verdict's sizes, not the evaluation's
    states = [RegistryModelDataset(uri=f"models:/{MODEL}/{v}").load()["members"][0] for v in members]
    window = SlidingWindowConfig(roi_size=(16, 16, 8), overlap=0.25)  # the test env's evaluation window
    mask, _ = segment_volume(build_ensemble(CONFIG, states), volume.image, window)
    expected = clean_components(mask, (1.0, 1.0, 2.0), ComponentSettings(6.0, 3.0))
    np.testing.assert_array_equal(np.asarray(nib.load(output / "a_mask.nii.gz").dataobj), expected)

    with pytest.raises(PostprocessingMismatchError, match="inference.postprocessing=none, but the report's verdict"):
        kedro_run(project_copy, ["inference"], {"inference": command | {"postprocessing": "none"}})
    allowed = command | {"postprocessing": "none", "allow_postprocessing_mismatch": True}
    kedro_run(project_copy, ["inference"], {"inference": allowed})
    assert _summary(output).loc["a", "postprocessing"] == "none"
    np.testing.assert_array_equal(np.asarray(nib.load(output / "a_mask.nii.gz").dataobj), mask)
