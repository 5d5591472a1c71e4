"""Value and gradient norm against the reference values of the authors' own implementations."""

from __future__ import annotations

import pytest
import torch
from loss_testing import value_and_grad

from minivess_kedro.losses import build_loss

# reference key in expected.json -> (registry name, kwargs, relative tolerance)
REFERENCES = {
    "monai.DiceCELoss": ("dice_ce", {}, 1e-4),
    "monai.SoftclDiceLoss[no_bg]": ("cldice", {}, 1e-4),
    "monai.SoftDiceclDiceLoss[no_bg]": ("dice_cldice", {}, 1e-4),
    "cbDice.DC_and_CE_and_CBDC_loss": ("cbdice", {}, 1e-4),
    "cbDice.SoftcbDiceLoss": ("cbdice", {"lambda_ce": 0.0, "lambda_dice": 0.0}, 1e-4),
    "clCE.nnUNet.CE_clCE_loss": ("centerline_ce", {}, 1e-4),
    "clCE.retina.clCELoss": ("centerline_ce", {"lambda_ce": 0.0}, 1e-4),
    "CoLeTra.WarpingLoss[active]": ("warp", {}, 1e-3),
    "CoLeTra.TopoNetLoss[active,topo_size=16]": ("topo", {"topo_size": 16}, 1e-3),
}
CASES = ("tubes_random", "empty_target", "full_target")


def _close(actual: float, expected: float, rel: float) -> bool:
    # A zero reference (clDice's gradient on an all-foreground target) must be met absolutely.
    return abs(actual - expected) <= rel * abs(expected) + (1e-12 if expected == 0 else 0.0)


def test_every_reference_is_checked(reference_cases):
    expected, _ = reference_cases
    assert set(expected["losses"]) == set(REFERENCES)
    assert tuple(expected["cases"]) == CASES


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("key", list(REFERENCES))
def test_reference_value_and_grad_norm(reference_cases, key, case):
    expected, inputs = reference_cases
    name, kwargs, rel = REFERENCES[key]
    loss = build_loss(name, **kwargs)
    if hasattr(loss, "set_training_progress"):
        loss.set_training_progress(1.0)  # the references have the late term active
    logits = torch.from_numpy(inputs[f"{case}__logits"])
    target = torch.from_numpy(inputs[f"{case}__target"])
    value, grad = value_and_grad(loss, logits, target)
    want = expected["losses"][key]["expected"][case]
    assert _close(value.item(), want["value"], rel), (value.item(), want["value"])
    assert _close(grad.norm().item(), want["grad_norm"], rel), (grad.norm().item(), want)
