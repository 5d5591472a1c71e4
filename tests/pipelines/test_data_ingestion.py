"""data_ingestion: nodes run directly, the pipeline on a corrupted local folder, idempotence."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.partitions import PartitionedDataset

from minivess_kedro.data.layouts import LayoutError
from minivess_kedro.data.validation import DataValidationError
from minivess_kedro.io import NiftiVolume, nifti_to_bytes, write_nifti
from minivess_kedro.io.download import sha256_of
from minivess_kedro.pipelines.data_ingestion import create_pipeline
from minivess_kedro.pipelines.data_ingestion.nodes import prepare_raw_data, validate_volumes
from minivess_kedro.pipelines.data_ingestion.params import DataIngestionParams
from tests.io.http_server import serve

SMALL = {"num_volumes": 4, "size_hw": (24, 24), "depth_range": (5, 8)}


def _partitions(root, folder: str) -> PartitionedDataset:
    return PartitionedDataset(
        path=str(root / folder), dataset="minivess_kedro.datasets.NiftiDataset", filename_suffix=".nii.gz"
    )


def _catalog(params: DataIngestionParams) -> DataCatalog:
    root = f"{params.raw_root}/{params.source}"
    return DataCatalog(
        datasets={
            "raw_images": PartitionedDataset(
                path=f"{root}/imagesTr", dataset="minivess_kedro.datasets.NiftiDataset", filename_suffix=".nii.gz"
            ),
            "raw_labels": PartitionedDataset(
                path=f"{root}/labelsTr", dataset="minivess_kedro.datasets.NiftiDataset", filename_suffix=".nii.gz"
            ),
            "params:data_ingestion": MemoryDataset(params),
        }
    )


def test_synthetic_source_runs_through_nodes(tmp_path) -> None:
    params = DataIngestionParams(source="synthetic", raw_root=str(tmp_path), synthetic=SMALL)

    index = prepare_raw_data(params)
    manifest, fingerprint = validate_volumes(
        _partitions(tmp_path / "synthetic", "imagesTr").load(),
        _partitions(tmp_path / "synthetic", "labelsTr").load(),
        index,
    )

    assert list(manifest["volume_id"]) == ["mv01", "mv02", "mv03", "mv04"]
    assert set(manifest["size_d"]) <= set(range(5, 9)) and (manifest["size_h"] == 24).all()
    assert (manifest["label_dtype"] == "uint8").all() and (manifest["image_dtype"] == "uint16").all()
    assert (manifest["spacing_d_um"] > manifest["spacing_h_um"]).all()
    assert fingerprint["num_volumes"] == 4 and len(fingerprint["fingerprint"]) == 64
    assert index["volumes"]["mv01"]["image"].endswith("synthetic/imagesTr/mv01.nii.gz")


def test_synthetic_volumes_are_made_once_per_setting(tmp_path) -> None:
    params = DataIngestionParams(source="synthetic", raw_root=str(tmp_path), synthetic=SMALL)
    first = prepare_raw_data(params)
    stamp = (tmp_path / "synthetic" / "imagesTr" / "mv01.nii.gz").stat().st_mtime_ns

    assert prepare_raw_data(params) == first
    assert (tmp_path / "synthetic" / "imagesTr" / "mv01.nii.gz").stat().st_mtime_ns == stamp

    fewer = DataIngestionParams(source="synthetic", raw_root=str(tmp_path), synthetic={**SMALL, "num_volumes": 2})
    assert sorted(prepare_raw_data(fewer)["volumes"]) == ["mv01", "mv02"]
    assert sorted(p.name for p in (tmp_path / "synthetic" / "imagesTr").iterdir()) == ["mv01.nii.gz", "mv02.nii.gz"]


def _write(path, array, spacing=(1.0, 1.0, 2.0)) -> None:
    write_nifti(path, NiftiVolume.from_array(array, spacing))


def test_corrupted_local_dataset_gives_one_error_listing_every_problem(tmp_path, tube_volume) -> None:
    image, label = tube_volume
    source = tmp_path / "minivess"
    for i in range(1, 7):
        _write(source / "raw" / f"mv{i:02d}.nii.gz", image)
        _write(source / "seg" / f"mv{i:02d}_y.nii.gz", label)
    truncated = nifti_to_bytes(NiftiVolume.from_array(image, (1, 1, 2)))
    (source / "raw" / "mv01.nii.gz").write_bytes(truncated[: len(truncated) // 2])  # truncated .nii.gz
    _write(source / "seg" / "mv02_y.nii.gz", label[:, :, :5])  # shape mismatch
    bad = label.copy()
    bad[0, 0, 0] = 2
    _write(source / "seg" / "mv03_y.nii.gz", bad)  # label value 2
    nan_image = image.astype(np.float32)
    nan_image[1, 1, 1] = np.nan
    _write(source / "raw" / "mv04.nii.gz", nan_image)  # NaN voxel
    _write(source / "raw" / "mv5.nii.gz", image)  # duplicate id (mv05 exists)
    params = DataIngestionParams(source="local", raw_root=str(tmp_path / "data"), local={"path": str(source)})
    catalog = _catalog(params)

    with pytest.raises(DataValidationError) as caught:
        SequentialRunner().run(create_pipeline(), catalog)

    message = str(caught.value)
    assert message.startswith("5 problem(s)")
    assert "raw/mv5.nii.gz: duplicate id mv05" in message
    assert "imagesTr/mv01.nii.gz: unreadable" in message
    assert "labelsTr/mv02.nii.gz: shape (16, 12, 5) differs from its image's (16, 12, 8)" in message
    assert "labelsTr/mv03.nii.gz: label values [2] outside {0, 1}" in message
    assert "imagesTr/mv04.nii.gz: 1 non-finite voxels" in message


def test_local_plain_nii_and_ebrains_layout_are_imported(tmp_path, tube_volume) -> None:
    image, label = tube_volume
    source = tmp_path / "minivess"
    _write(source / "raw" / "mv01.nii", image)
    _write(source / "seg" / "mv01_y.nii.gz", label)
    params = DataIngestionParams(source="local", raw_root=str(tmp_path / "data"), local={"path": str(source)})

    outputs = SequentialRunner().run(create_pipeline(), _catalog(params))

    manifest = outputs["volume_manifest"].load()
    assert list(manifest["volume_id"]) == ["mv01"] and manifest["foreground_fraction"][0] == pytest.approx(label.mean())
    imported = tmp_path / "data" / "local" / "imagesTr" / "mv01.nii.gz"
    assert gzip.decompress(imported.read_bytes()) == (source / "raw" / "mv01.nii").read_bytes()


def test_a_local_folder_holding_both_layouts_is_refused_before_anything_is_written(tmp_path, tube_volume) -> None:
    image, label = tube_volume
    source = tmp_path / "minivess"
    for i in (1, 2, 3):
        _write(source / "raw" / f"mv{i:02d}.nii.gz", image)
        _write(source / "seg" / f"mv{i:02d}_y.nii.gz", label)
    _write(source / "imagesTr" / "mv01.nii.gz", image)
    params = DataIngestionParams(source="local", raw_root=str(tmp_path / "data"), local={"path": str(source)})

    with pytest.raises(LayoutError, match=r"two MiniVess layouts.*1 image\(s\), 0 label\(s\).*3 image\(s\), 3 label"):
        prepare_raw_data(params.model_dump())
    assert not (tmp_path / "data").exists()


def test_local_source_needs_a_path() -> None:
    with pytest.raises(ValueError, match="data_ingestion.local.path"):
        DataIngestionParams(source="local")


def test_unknown_source_and_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="synthetic.*local.*ebrains"):
        DataIngestionParams(source="zenodo")
    with pytest.raises(ValueError, match="num_volume"):
        DataIngestionParams(source="synthetic", synthetic={"num_volume": 3})


def test_ebrains_source_downloads_and_indexes_with_verified_hashes(tmp_path, tube_volume) -> None:
    image, label = tube_volume
    files = {}
    for index in (1, 2):
        files[f"files/raw/mv{index:02d}.nii.gz"] = nifti_to_bytes(NiftiVolume.from_array(image, (1.0, 1.0, 2.0)))
        files[f"files/seg/mv{index:02d}_y.nii.gz"] = nifti_to_bytes(NiftiVolume.from_array(label, (1.0, 1.0, 2.0)))
        files[f"files/json/mv{index:02d}.json"] = b"{}"
    with serve(files) as server:
        ebrains = {"files_url": f"{server.base_url}/files", "num_volumes": 2, "retries": 0, "timeout_s": 5}
        params = DataIngestionParams(source="ebrains", raw_root=str(tmp_path), ebrains=ebrains)
        index = prepare_raw_data(params)

    assert sorted(index["volumes"]) == ["mv01", "mv02"] and index["problems"] == []
    record = index["volumes"]["mv02"]
    assert record["label"].endswith("ebrains/labelsTr/mv02.nii.gz")
    assert record["image_sha256"] == sha256_of(record["image"]) and record["label_sha256"] == sha256_of(record["label"])
