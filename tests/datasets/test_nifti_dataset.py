"""NiftiDataset: catalog round trips, versioning, partitions, the kedro-viz preview."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from kedro.io.core import DatasetError, Version
from kedro_datasets.partitions import PartitionedDataset
from PIL import Image

from minivess_kedro.datasets import NiftiDataset
from minivess_kedro.io import NiftiVolume


def _volume(image: np.ndarray) -> NiftiVolume:
    return NiftiVolume.from_array(image, (0.5, 0.5, 2.0))


def test_save_load_round_trip(tmp_path, tube_volume) -> None:
    image, _ = tube_volume
    dataset = NiftiDataset(filepath=str(tmp_path / "mv01.nii.gz"))
    assert not dataset.exists()

    dataset.save(_volume(image))
    loaded = dataset.load()

    assert dataset.exists()
    np.testing.assert_array_equal(loaded.array, image)
    assert loaded.spacing == (0.5, 0.5, 2.0)
    np.testing.assert_array_equal(loaded.affine, np.diag([0.5, 0.5, 2.0, 1.0]))
    assert not list(tmp_path.glob("*.partial"))


def test_load_args_cast_dtype(tmp_path, tube_volume) -> None:
    path = str(tmp_path / "mv01.nii.gz")
    NiftiDataset(filepath=path).save(_volume(tube_volume[0]))
    assert NiftiDataset(filepath=path, load_args={"dtype": "float32"}).load().array.dtype == np.float32


def test_unknown_load_args_are_refused(tmp_path) -> None:
    with pytest.raises(DatasetError, match="unknown load_args \\['mmap'\\]"):
        NiftiDataset(filepath=str(tmp_path / "a.nii.gz"), load_args={"mmap": True})


def test_saving_something_else_is_refused(tmp_path) -> None:
    with pytest.raises(DatasetError, match="saves a NiftiVolume, got ndarray"):
        NiftiDataset(filepath=str(tmp_path / "a.nii.gz")).save(np.zeros((2, 2, 2)))


def test_corrupt_file_error_names_the_file(tmp_path) -> None:
    path = tmp_path / "mv03.nii.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00broken")
    with pytest.raises(DatasetError, match="mv03.nii.gz"):
        NiftiDataset(filepath=str(path)).load()


def test_versioned_saves_keep_every_version(tmp_path, tube_volume) -> None:
    image, _ = tube_volume
    path = str(tmp_path / "pred.nii.gz")
    NiftiDataset(filepath=path, version=Version(None, "2026-01-01T00.00.00.000Z")).save(_volume(image))
    NiftiDataset(filepath=path, version=Version(None, "2026-01-02T00.00.00.000Z")).save(_volume(image * 2))

    latest = NiftiDataset(filepath=path, version=Version(None, None)).load()
    first = NiftiDataset(filepath=path, version=Version("2026-01-01T00.00.00.000Z", None)).load()

    np.testing.assert_array_equal(latest.array, image * 2)
    np.testing.assert_array_equal(first.array, image)


def test_partitioned_dataset_loads_by_volume_id(tmp_path, tube_volume) -> None:
    image, label = tube_volume
    partitions = PartitionedDataset(
        path=str(tmp_path / "imagesTr"),
        dataset={"type": "minivess_kedro.datasets.NiftiDataset"},
        filename_suffix=".nii.gz",
    )
    partitions.save({"mv01": _volume(image), "mv02": lambda: _volume(label)})  # lazy saves too

    loaded = partitions.load()

    assert sorted(loaded) == ["mv01", "mv02"]
    np.testing.assert_array_equal(loaded["mv02"]().array, label)


def test_preview_is_a_png_of_the_middle_slice(tmp_path, tube_volume) -> None:
    image, _ = tube_volume
    dataset = NiftiDataset(filepath=str(tmp_path / "mv01.nii.gz"))
    dataset.save(_volume(image))

    png = Image.open(io.BytesIO(base64.b64decode(dataset.preview())))

    assert png.format == "PNG"
    assert png.size == (image.shape[0], image.shape[1])  # width = H axis after the transpose
    pixels = np.asarray(png)
    assert pixels.max() == 255 and pixels.min() == 0  # the tube is bright, the background dark


def test_describe_names_the_file(tmp_path) -> None:
    dataset = NiftiDataset(filepath=str(tmp_path / "mv09.nii.gz"))
    assert "mv09.nii.gz" in str(dataset)
