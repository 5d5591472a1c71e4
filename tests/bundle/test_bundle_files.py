"""The bundle's files: metadata that passes MONAI's verify_metadata, TorchScript that predicts as
the weights, the verdict's post-processing in the config; written whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from kedro.io.core import DatasetError
from monai.bundle import verify_metadata

from minivess_kedro.bundle import BUNDLE_FILES, BundleSettings, bundle_files
from minivess_kedro.datasets.bundle_folder_dataset import BundleFolderDataset
from minivess_kedro.inference import SlidingWindowConfig
from minivess_kedro.inference.registered_model import ModelIdentity
from minivess_kedro.models import DynUNetConfig, build_dynunet, build_ensemble
from minivess_kedro.postprocessing.components_transform import spacing_um

CONFIG = {**DynUNetConfig(filters=(4, 8, 16, 32)).to_dict(), "patch_size": [16, 16, 8]}
SCHEMA = Path(__file__).resolve().parents[2] / "src" / "minivess_kedro" / "bundle" / "metadata_schema.json"
COMPONENTS = {"mode": "components", "components": {"min_volume_um3": 6.0, "max_hole_um3": 3.0}}


def _model(members: int = 2, ensemble: bool = True) -> dict:
    states = []
    for seed in range(members):
        torch.manual_seed(seed)
        states.append(build_dynunet(DynUNetConfig.from_dict(CONFIG)).state_dict())
    record = {
        "loss": "cbdice",
        "members": [{"run_id": f"run{i}", "fold_idx": i, "seed": 0, "version": str(i + 1)} for i in range(members)],
        "postprocessing": COMPONENTS,
    }
    identity = ModelIdentity("minivess-dynunet", "9", "report-run", "models:/minivess-dynunet@best-cldice")
    return {"model": identity, "members": states, "model_config": CONFIG, "ensemble": record if ensemble else None}


def _written(tmp_path, model: dict, postprocessing=COMPONENTS) -> Path:
    window = SlidingWindowConfig((16, 16, 8), sw_batch_size=4, overlap=0.5)
    files = bundle_files(model, BundleSettings(window, postprocessing))
    dataset = BundleFolderDataset(path=str(tmp_path))
    dataset.save({"name": "bundle", "files": files})
    return tmp_path / "bundle"


def test_every_file_is_written_and_the_metadata_verifies(tmp_path) -> None:
    bundle = _written(tmp_path, _model())
    assert sorted(str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file()) == sorted(BUNDLE_FILES)
    verify_metadata(meta_file=str(bundle / "configs" / "metadata.json"), filepath=str(SCHEMA))
    meta = json.loads((bundle / "configs" / "metadata.json").read_text())
    assert meta["minivess_kedro"]["members"][1]["run_id"] == "run1"
    assert meta["minivess_kedro"]["postprocessing"] == COMPONENTS
    assert "doi:10.1038/s41597-023-02048-8" in meta["references"][0]
    assert meta["network_data_format"]["inputs"]["image"]["spatial_shape"] == [16, 16, 8]
    assert "CC BY-NC-SA 4.0" in (bundle / "docs" / "data_license.txt").read_text()
    assert (bundle / "LICENSE").read_text().startswith("MIT License")
    readme = (bundle / "docs" / "README.md").read_text()
    assert "fold ensemble of 2 networks" in readme and "was not tested on volumes unseen" in readme


def test_metadata_without_a_mandatory_key_fails_verification(tmp_path) -> None:
    bundle = _written(tmp_path, _model())
    meta = json.loads((bundle / "configs" / "metadata.json").read_text())
    del meta["network_data_format"]
    (tmp_path / "bad.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="network_data_format"):
        verify_metadata(meta_file=str(tmp_path / "bad.json"), filepath=str(SCHEMA))


@torch.no_grad()
def test_the_torchscript_and_the_weights_are_the_ensemble(tmp_path) -> None:
    model = _model()
    bundle = _written(tmp_path, model)
    x = torch.randn(1, 1, 16, 16, 8)
    expected = build_ensemble(CONFIG, model["members"])(x)
    torch.testing.assert_close(torch.jit.load(str(bundle / "models" / "model.ts"))(x), expected)
    reloaded = build_ensemble(CONFIG, [model["members"][0]] * 2)
    reloaded.load_state_dict(torch.load(bundle / "models" / "model.pt", weights_only=True))
    torch.testing.assert_close(reloaded(x), expected)


def test_the_config_applies_the_verdicts_post_processing(tmp_path) -> None:
    config = json.loads((_written(tmp_path, _model()) / "configs" / "inference.json").read_text())
    steps = [step["_target_"] for step in config["postprocessing"]["transforms"]]
    assert steps == ["AsDiscreted", "scripts.components_transform.CleanComponentsd", "SaveImaged"]
    assert config["postprocessing"]["transforms"][1]["min_volume_um3"] == 6.0
    assert (config["inferer"]["roi_size"], config["inferer"]["overlap"], config["num_members"]) == ([16, 16, 8], 0.5, 2)
    single = _written(tmp_path / "single", _model(1, ensemble=False), {"mode": "none"})
    config = json.loads((single / "configs" / "inference.json").read_text())
    assert [s["_target_"] for s in config["postprocessing"]["transforms"]] == ["AsDiscreted", "SaveImaged"]
    assert "num_members" not in config  # one training run's network, not an ensemble


def test_an_interrupted_export_leaves_the_earlier_bundle_whole(tmp_path) -> None:
    dataset = BundleFolderDataset(path=str(tmp_path))
    dataset.save({"name": "b", "files": {"configs/metadata.json": b"{}", "models/model.pt": b"old"}})
    with pytest.raises(DatasetError, match="a bytes-like object is required"):  # cut off mid-write
        dataset.save({"name": "b", "files": {"configs/metadata.json": b"{}", "models/model.pt": None}})
    assert (tmp_path / "b" / "models" / "model.pt").read_bytes() == b"old"
    dataset.save({"name": "b", "files": {"models/model.pt": b"new"}})
    assert dataset.load() == {"name": "b", "files": {"models/model.pt": b"new"}}
    assert not (tmp_path / "b.partial").exists()


def test_a_folder_that_is_not_a_bundle_is_never_replaced(tmp_path) -> None:
    lab = tmp_path / "new_volumes"
    lab.mkdir()
    (lab / "mv01.nii.gz").write_bytes(b"a lab's volume")
    dataset = BundleFolderDataset(path=str(tmp_path), output_folder=str(lab))
    with pytest.raises(DatasetError, match=r"new_volumes exists and is not a bundle \(no configs/metadata.json\)"):
        dataset.save({"name": "b", "files": {"configs/metadata.json": b"{}"}})
    assert (lab / "mv01.nii.gz").read_bytes() == b"a lab's volume" and sorted(p.name for p in tmp_path.iterdir()) == [
        "new_volumes"
    ]


def test_one_training_runs_version_is_exported_as_its_network_not_an_ensemble(tmp_path) -> None:
    """Its logits are blended across windows, as the inference pipeline blends a single network's."""
    model = _model(1, ensemble=False)
    bundle = _written(tmp_path, model, {"mode": "none"})
    config = json.loads((bundle / "configs" / "inference.json").read_text())
    assert config["network_def"] == "$monai.networks.nets.DynUNet(**@member_def)" and "num_members" not in config
    network = build_dynunet(DynUNetConfig.from_dict(CONFIG)).eval()
    network.load_state_dict(torch.load(bundle / "models" / "model.pt", weights_only=True))
    x = torch.randn(1, 1, 16, 16, 8)
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(bundle / "models" / "model.ts"))(x), network(x))
    assert (
        json.loads((bundle / "configs" / "metadata.json").read_text())["network_data_format"]["outputs"]["pred"][
            "value_range"
        ]
        == []
    )  # logits


@pytest.mark.parametrize(("code", "factor"), [(0, 1.0), (1, 1e6), (2, 1e3), (3, 1.0)])
def test_the_bundles_clean_up_reads_the_voxel_size_in_micrometres(code, factor) -> None:
    meta = {"pixdim": [1.0, 0.5, -0.5, 2.0, 0, 0, 0, 0], "xyzt_units": code}
    assert spacing_um(meta) == pytest.approx((0.5 * factor, 0.5 * factor, 2.0 * factor))
