"""One volume that cannot be segmented (a voxel type the network cannot take, an error in the
forward pass such as running out of GPU memory) is a failed row naming why; the next volume still
runs. Physical sizes follow the header's unit code."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import torch
from torch import nn

from minivess_kedro.inference import SlidingWindowConfig
from minivess_kedro.inference.registered_model import ModelIdentity
from minivess_kedro.inference.sources import SourceImage, spacing_in_um
from minivess_kedro.inference.volume_run import RunSettings, VolumeSegmenter
from minivess_kedro.io import NiftiVolume, write_nifti
from minivess_kedro.models import DynUNetConfig, build_dynunet

MODEL = ModelIdentity("minivess-dynunet", "3", "run3", "models:/minivess-dynunet/3")
SETTINGS = RunSettings(SlidingWindowConfig(roi_size=(16, 16, 8), sw_batch_size=1, overlap=0.25), "none", None, False)
CPU = torch.device("cpu")


class _OutOfMemory(nn.Module):
    """A network whose forward pass fails as CUDA does when a volume does not fit."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")


def _good(path) -> SourceImage:
    rng = np.random.default_rng(0)
    write_nifti(path, NiftiVolume.from_array(rng.random((16, 16, 8), dtype=np.float32), (1.0, 1.0, 2.0)))
    return SourceImage(path.name.split(".")[0], path)


def _rgb(path) -> SourceImage:
    rgb = np.zeros((16, 16, 8), dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    nib.save(nib.Nifti1Image(rgb, np.eye(4)), path)
    return SourceImage("colour", path)


def test_a_volume_the_network_cannot_take_is_a_failed_row_and_the_next_still_runs(tmp_path) -> None:
    network = build_dynunet(DynUNetConfig(filters=(4, 8, 16, 32))).eval()
    segmenter = VolumeSegmenter(network, CPU, MODEL, SETTINGS, previous=[])
    colour, good = _rgb(tmp_path / "colour.nii.gz"), _good(tmp_path / "good.nii.gz")

    failed, nothing = segmenter(colour)
    assert (failed["status"], nothing) == ("failed", None)
    assert failed["error"].startswith("TypeError: ") and failed["id"] == "colour"
    done, volume = segmenter(good)
    assert done["status"] == "done" and volume is not None and volume.mask.shape == (16, 16, 8)


def test_an_error_in_the_forward_pass_is_a_failed_row_naming_it(tmp_path) -> None:
    segmenter = VolumeSegmenter(_OutOfMemory(), CPU, MODEL, SETTINGS, previous=[])
    row, volume = segmenter(_good(tmp_path / "big.nii.gz"))
    assert (row["status"], volume) == ("failed", None)
    assert row["error"] == "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"


def test_a_file_gone_before_its_turn_is_a_failed_row(tmp_path) -> None:
    segmenter = VolumeSegmenter(_OutOfMemory(), CPU, MODEL, SETTINGS, previous=[])
    row, _ = segmenter(SourceImage("gone", tmp_path / "gone.nii.gz"))
    assert row["status"] == "failed" and "gone.nii.gz" in row["error"]


@pytest.mark.parametrize(("unit", "factor"), [("unknown", 1.0), ("micron", 1.0), ("mm", 1e3), ("meter", 1e6)])
def test_the_spacing_is_read_in_micrometres_by_the_header_unit(unit, factor) -> None:
    header = nib.Nifti1Header()
    header.set_xyzt_units(xyz=unit)
    spacing, named = spacing_in_um((0.5, 0.5, 2.0), header)
    assert named == unit and spacing == pytest.approx((0.5 * factor, 0.5 * factor, 2.0 * factor))
