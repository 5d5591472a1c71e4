"""Every loss on the awkward inputs: finite values, finite and non-zero gradients."""

from __future__ import annotations

import pytest
import torch
from loss_testing import noisy_logits, tube_labels, value_and_grad

from minivess_kedro.losses import LOSS_NAMES, build_loss

SHAPE = (12, 12, 8)

# (loss, scenario) pairs where the loss is constant in the logits, so a zero gradient is right:
# with an all-foreground target the soft skeleton of the target is empty (borders are never
# eroded), clDice's sensitivity is 1 and its precision sum(S_P Y) / sum(S_P) is 1 whatever P is.
ZERO_GRADIENT = {("cldice", "all_foreground")}


def _active(name: str) -> torch.nn.Module:
    loss = build_loss(name)
    if hasattr(loss, "set_training_progress"):
        loss.set_training_progress(1.0)  # exercise the late topological terms too
    return loss


def _scenario(kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    tubes = tube_labels(SHAPE)
    noise = torch.randn((2, 2, *SHAPE), generator=torch.Generator().manual_seed(3))
    if kind == "empty_target":
        return noise, torch.zeros_like(tubes)
    if kind == "all_foreground":
        return noise, torch.ones_like(tubes)
    if kind == "empty_prediction":
        background = torch.tensor([6.0, -6.0]).view(1, 2, 1, 1, 1)
        return background + 0.1 * noise, tubes
    if kind == "mixed_batch":
        tubes[0] = 0
        return noisy_logits(tubes), tubes
    raise ValueError(kind)


def _check(name: str, scenario: str, value: torch.Tensor, grad: torch.Tensor) -> None:
    assert value.ndim == 0
    assert torch.isfinite(value), f"{name} gives {value} on {scenario}"
    assert torch.isfinite(grad).all(), f"{name} gives a non-finite gradient on {scenario}"
    if (name, scenario) in ZERO_GRADIENT:
        assert grad.abs().max() == 0
    else:
        assert grad.abs().max() > 0, f"{name} gives a zero gradient on {scenario}"


@pytest.mark.parametrize("scenario", ["empty_target", "all_foreground", "empty_prediction", "mixed_batch"])
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_awkward_targets_and_predictions(name, scenario):
    logits, target = _scenario(scenario)
    value, grad = value_and_grad(_active(name), logits, target)
    _check(name, scenario, value, grad)


@pytest.mark.parametrize("size", [3, 4])
@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_thin_patches(name, axis, size):
    shape = list(SHAPE)
    shape[axis] = size
    target = tube_labels(tuple(shape))
    value, grad = value_and_grad(_active(name), noisy_logits(target), target)
    _check(name, f"thin axis {axis}", value, grad)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_bfloat16_autocast(name):
    target = tube_labels(SHAPE)
    image = noisy_logits(target)[:, 1:]
    conv = torch.nn.Conv3d(1, 2, kernel_size=3, padding=1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = conv(image)
        assert logits.dtype == torch.bfloat16
        value = _active(name)(logits, target)
    assert value.dtype == torch.float32
    value.backward()
    _check(name, "bf16 autocast", value.detach(), conv.weight.grad)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_prediction_and_target_roles_are_not_interchangeable(name):
    # Guards the argument order (MONAI 1.6 swapped the positional order of its clDice losses):
    # scoring soft logits against a label map must differ from scoring the label map, as
    # confident logits, against the labels of the soft prediction.
    target = tube_labels(SHAPE)
    logits = noisy_logits(target, signal=0.5)
    loss = _active(name)
    sign = target.float() * 2.0 - 1.0
    swapped_logits = torch.cat([-4.0 * sign, 4.0 * sign], dim=1)
    swapped_target = logits.argmax(dim=1, keepdim=True)
    straight = loss(logits, target)
    swapped = loss(swapped_logits, swapped_target)
    assert not torch.isclose(straight, swapped, rtol=1e-3, atol=1e-6)
