"""DynUNet factory: shapes, parameters reach MONAI, patch checks name the profile value."""

from __future__ import annotations

import pytest
import torch

from minivess_kedro.models import DynUNetConfig, build_dynunet, check_patch_fits


def test_default_architecture_of_the_study() -> None:
    model = build_dynunet(DynUNetConfig())
    assert [block.conv1.conv.out_channels for block in [model.input_block, *model.downsamples, model.bottleneck]] == [
        32,
        64,
        128,
        256,
    ]
    assert model.deep_supervision is False
    assert type(model.input_block).__name__ == "UnetResBlock"  # residual blocks


def test_output_is_two_channel_logits_of_the_input_size() -> None:
    model = build_dynunet(DynUNetConfig(filters=(4, 8, 16, 32))).eval()
    with torch.no_grad():
        logits = model(torch.randn(2, 1, 16, 24, 8))
    assert logits.shape == (2, 2, 16, 24, 8)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ([64, 64, 12], r"D=12 \(use 8 or 16\)"),
        ([60, 64, 16], r"H=60 \(use 56 or 64\)"),
    ],
)
def test_patch_that_does_not_fit_names_the_side_and_the_profile_key(patch, message) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        check_patch_fits(patch, (1, 2, 2, 2), where="training.compute.patch_size")
    assert "multiple of 8" in str(caught.value) and "parameters_training.yml" in str(caught.value)


def test_patch_that_fits_passes() -> None:
    check_patch_fits([96, 96, 24], (1, 2, 2, 2))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (DynUNetConfig(filters=(8, 16, 32), strides=(1, 2, 2, 2)), "one entry per level"),
        (DynUNetConfig(strides=(2, 2, 2, 2)), "first stride must be 1"),
    ],
)
def test_inconsistent_architecture_is_refused(config, message) -> None:
    with pytest.raises(ValueError, match=message):
        build_dynunet(config)
