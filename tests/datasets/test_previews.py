"""What kedro-viz shows for the project's datasets: a volume slice, a model's tensors, split sizes."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from kedro.io.core import DatasetError
from PIL import Image

from minivess_kedro.data.splits import make_splits
from minivess_kedro.datasets import NiftiPartitionedDataset, SplitsJSONDataset, TorchStateDictDataset
from minivess_kedro.datasets.previews import volume_slice_preview
from minivess_kedro.io import NiftiVolume


def _png(preview: str) -> np.ndarray:
    image = Image.open(io.BytesIO(base64.b64decode(preview)))
    assert image.format == "PNG"
    return np.asarray(image)


def _partitions(root) -> NiftiPartitionedDataset:
    return NiftiPartitionedDataset(
        path=str(root), dataset={"type": "minivess_kedro.datasets.NiftiDataset"}, filename_suffix=".nii.gz"
    )


def test_partitioned_preview_is_the_first_volume_mid_slice(tmp_path) -> None:
    first = np.zeros((10, 6, 5), dtype=np.float32)
    first[2:4, :, 2] = 1.0  # only the middle slice (z = 5 // 2) has a bright band
    second = np.ones((8, 4, 3), dtype=np.float32)
    dataset = _partitions(tmp_path / "imagesTr")
    dataset.save({"mv02": NiftiVolume.from_array(second, (1, 1, 1)), "mv01": NiftiVolume.from_array(first, (1, 1, 1))})

    pixels = _png(dataset.preview())

    assert pixels.shape == (6, 10)  # mv01, W rows by H columns
    assert (pixels[:, 2:4] == 255).all() and (pixels[:, 4:] == 0).all()
    assert _png(dataset.preview(partition="mv02")).shape == (4, 8)
    assert sorted(dataset.load()) == ["mv01", "mv02"]  # still a PartitionedDataset of loaders


def test_partitioned_preview_names_what_is_missing(tmp_path, tube_volume) -> None:
    dataset = _partitions(tmp_path / "imagesTr")
    with pytest.raises(DatasetError, match="No partitions found"):
        dataset.preview()
    dataset.save({"mv01": NiftiVolume.from_array(tube_volume[0], (1, 1, 1))})
    with pytest.raises(DatasetError, match=r"no volume 'mv09' to preview; volumes: \['mv01'\]"):
        dataset.preview(partition="mv09")


def test_slice_preview_refuses_a_4d_array() -> None:
    with pytest.raises(ValueError, match=r"2D or 3D array, got shape \(2, 2, 2, 2\)"):
        volume_slice_preview(np.zeros((2, 2, 2, 2)))


def test_state_dict_preview_lists_every_tensor_and_the_total(tmp_path) -> None:
    model = torch.nn.Sequential(torch.nn.Conv3d(1, 4, 3), torch.nn.BatchNorm3d(4))
    dataset = TorchStateDictDataset(filepath=str(tmp_path / "best_model.pt"))
    dataset.save(model.state_dict())

    table = dataset.preview()

    assert table["columns"] == ["tensor", "shape", "dtype", "values"]
    total, *rows = table["data"]
    assert [row[0] for row in rows] == list(model.state_dict())
    assert rows[0] == ["0.weight", "4 x 1 x 3 x 3 x 3", "float32", 108]
    assert rows[-1] == ["1.num_batches_tracked", "scalar", "int64", 1]
    assert total == ["(total of 7)", "", "", sum(t.numel() for t in model.state_dict().values())]


def test_splits_preview_counts_each_fold(tmp_path) -> None:
    splits = {
        "test": ["mv01"],
        "folds": [{"train": ["mv02", "mv03", "mv04"], "val": ["mv05"]}, {"train": ["mv02"], "val": ["mv03", "mv04"]}],
        "seed": 42,
    }
    whole = SplitsJSONDataset(filepath=str(tmp_path / "splits.json"))
    one_fold = SplitsJSONDataset(filepath=str(tmp_path / "splits" / "fold_1.json"))
    whole.save(splits)
    one_fold.save({"fold_idx": 1, **splits["folds"][1], "test": splits["test"]})

    assert whole.load() == splits  # loads and saves as json.JSONDataset does
    assert whole.preview()["data"] == [[0, 3, 1, 1], [1, 1, 2, 1]]
    assert one_fold.preview() == {"index": [0], "columns": ["fold", "train", "val", "test"], "data": [[1, 1, 2, 1]]}


def test_nested_splits_preview_counts_each_folds_own_test(tmp_path) -> None:
    splits = make_splits([f"mv{i:02d}" for i in range(1, 8)], num_folds=3, protocol="nested")
    whole = SplitsJSONDataset(filepath=str(tmp_path / "splits.json"))
    whole.save(splits)
    expected = [[k, len(f["train"]), len(f["val"]), len(f["test"])] for k, f in enumerate(splits["folds"])]
    assert whole.preview()["data"] == expected
    assert sum(row[3] for row in expected) == 7  # every volume tested once


def test_splits_preview_refuses_other_json(tmp_path) -> None:
    dataset = SplitsJSONDataset(filepath=str(tmp_path / "splits.json"))
    dataset.save({"fingerprint": "abc"})
    with pytest.raises(DatasetError, match=r"splits.json: cannot count the splits .*got keys \['fingerprint'\]"):
        dataset.preview()
