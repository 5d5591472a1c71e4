"""Validation of a corrupted dataset: one error that lists every problem."""

from __future__ import annotations

import numpy as np
import pytest

from minivess_kedro.data.validation import DataValidationError, validate_pairs
from minivess_kedro.io import NiftiReadError, NiftiVolume


def _loader(array: np.ndarray, spacing=(1.0, 1.0, 2.0)):
    return lambda: NiftiVolume.from_array(array, spacing)


def _broken(name: str):
    def load():
        raise NiftiReadError(f"{name}: not a readable NIfTI file (EOFError: truncated)")

    return load


def test_valid_pairs_are_summarised(tube_volume) -> None:
    image, label = tube_volume
    summaries = validate_pairs(
        {"mv02": _loader(image), "mv01": _loader(image)}, {"mv02": _loader(label), "mv01": _loader(label)}
    )

    assert [s.volume_id for s in summaries] == ["mv01", "mv02"]
    assert summaries[0].shape == (16, 12, 8) and summaries[0].spacing == (1.0, 1.0, 2.0)
    assert summaries[0].foreground_fraction == pytest.approx(label.mean())
    assert summaries[0].image_dtype == "uint16" and summaries[0].label_dtype == "uint8"
    assert summaries[0].intensity_percentiles[0] == 100 and summaries[0].intensity_percentiles[2] == 900


def test_corrupted_dataset_reports_every_problem(tube_volume) -> None:
    image, label = tube_volume
    nan_image = image.astype(np.float32)
    nan_image[0, 0, 0] = np.nan
    bad_label = label.copy()
    bad_label[0, 0, 0] = 2
    images = {
        "mv01": _broken("imagesTr/mv01.nii.gz"),  # truncated .nii.gz
        "mv02": _loader(image),  # label shape mismatch
        "mv03": _loader(image),  # label value 2
        "mv04": _loader(nan_image),  # NaN voxel
        "mv05": _loader(image),
        "mv5": _loader(image),  # duplicate id
        "mv06": _loader(image, spacing=(1.0, 0.0, 2.0)),  # zero spacing
        "mv07": _loader(image[..., 0]),  # 2D
    }
    labels = {**{k: _loader(label) for k in images}, "mv02": _loader(label[:, :, :4]), "mv03": _loader(bad_label)}
    names = {k: (f"imagesTr/{k}.nii.gz", f"labelsTr/{k}.nii.gz") for k in images}

    with pytest.raises(DataValidationError) as caught:
        validate_pairs(images, labels, names)

    message = str(caught.value)
    assert message.startswith("8 problem(s)")  # the duplicate id is a problem of its image and its label
    assert "imagesTr/mv01.nii.gz: unreadable" in message
    assert "labelsTr/mv02.nii.gz: shape (16, 12, 4) differs from its image's (16, 12, 8)" in message
    assert "labelsTr/mv03.nii.gz: label values [2] outside {0, 1}" in message
    assert "imagesTr/mv04.nii.gz: 1 non-finite voxels" in message
    assert "duplicate id mv05" in message
    assert "imagesTr/mv06.nii.gz: non-positive spacing" in message
    assert "imagesTr/mv07.nii.gz: 2D" in message
    assert len(caught.value.problems) == 8


def test_unpaired_files_are_reported(tube_volume) -> None:
    image, label = tube_volume
    with pytest.raises(DataValidationError, match="mv01.*image without a label(.|\\n)*mv02.*label without an image"):
        validate_pairs({"mv01": _loader(image)}, {"mv02": _loader(label)})


def test_empty_dataset_is_refused() -> None:
    with pytest.raises(DataValidationError, match="no volumes found"):
        validate_pairs({}, {})
