"""Analytic values: perfect, inverted and uniform predictions, and small known cases."""

from __future__ import annotations

import math

import pytest
import torch
from loss_testing import tube_labels

from minivess_kedro.losses import LOSS_NAMES, build_loss
from minivess_kedro.topology.persistence import topo_maps

LN2 = math.log(2.0)
SHAPE = (12, 12, 8)


def _confident(labels: torch.Tensor, margin: float) -> torch.Tensor:
    sign = labels.float() * 2.0 - 1.0
    return torch.cat([-margin * sign, margin * sign], dim=1)


def _active(name: str, **kwargs) -> torch.nn.Module:
    loss = build_loss(name, **kwargs)
    if hasattr(loss, "set_training_progress"):
        loss.set_training_progress(1.0)
    return loss


# Perfect prediction: expected value and absolute tolerance.
PERFECT = {
    "dice_ce": (0.0, 1e-5),
    "cldice": (0.0, 1e-4),  # 1 - 2 / (2 + smooth) with smooth = 1e-4
    "dice_cldice": (0.0, 1e-4),
    "vessel_compound": (0.0, 1e-4),
    "topo_compound": (0.0, 1e-4),
    "betti": (0.0, 1e-6),
    "class_balanced": (0.0, 1e-6),
    "focal": (0.0, 1e-6),
    "cbdice": (-2.0, 1e-5),  # 2 CE (0) - dc (1) + cbDice (-1)
    "centerline_ce": (0.0, 1e-6),
    "warp": (1e-4 * LN2, 1e-7),  # Dice 0; no critical voxel, so the CE sees zero logits: ln 2
    "topo": (0.0, 1e-6),
    "cbdice_cldice": (-1.0, 1e-4),
}


def test_every_loss_has_a_perfect_case():
    assert set(PERFECT) == set(LOSS_NAMES)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_perfect_prediction(name):
    target = tube_labels(SHAPE)
    want, tol = PERFECT[name]
    assert _active(name)(_confident(target, 20.0), target).item() == pytest.approx(want, abs=tol)


def test_cbdice_term_is_minus_one_on_a_perfect_prediction():
    target = tube_labels(SHAPE)
    term = build_loss("cbdice", lambda_ce=0.0, lambda_dice=0.0)
    assert term(_confident(target, 20.0), target).item() == pytest.approx(-1.0, abs=1e-6)


@pytest.mark.parametrize(
    ("name", "kwargs", "want"),
    [
        ("class_balanced", {}, 1.0),
        ("cbdice", {"lambda_ce": 0.0, "lambda_dice": 0.0}, 0.0),
        ("warp", {}, 1.0),
        # Blind spot of the fragmentation proxy: an inverted map has the same edges.
        ("betti", {}, 0.0),
    ],
)
def test_inverted_prediction(name, kwargs, want):
    target = tube_labels(SHAPE)
    value = build_loss(name, **kwargs)(_confident(target, -20.0), target)
    assert value.item() == pytest.approx(want, abs=2e-3)


def _line_target() -> tuple[torch.Tensor, int, int]:
    """A 1-voxel-thin line along the first axis of an 8 x 8 x 6 volume: its own skeleton."""
    target = torch.zeros(1, 1, 8, 8, 6, dtype=torch.long)
    target[0, 0, :, 3, 2] = 1
    return target, 8, target.numel()


def test_uniform_prediction_closed_forms():
    target, n, total = _line_target()
    logits = torch.zeros(1, 2, 8, 8, 6)
    counts = {0: total - n, 1: n}

    def dice(c: int, smooth_nr: float, smooth_dr: float) -> float:
        return (counts[c] + smooth_nr) / (total / 2 + counts[c] + smooth_dr)

    dice_loss = sum(1 - dice(c, 1e-5, 1e-5) for c in counts) / 2
    assert build_loss("dice_ce")(logits, target).item() == pytest.approx(LN2 + dice_loss, rel=1e-5)
    # Softmax focal: -(1 - p)^2 log p on the true class only, averaged over both channels.
    assert build_loss("focal")(logits, target).item() == pytest.approx(0.125 * LN2, rel=1e-5)
    warp_dice = sum(1 - dice(c, 1.0, 1.0) for c in counts) / 2
    assert build_loss("warp")(logits, target).item() == pytest.approx(warp_dice, rel=1e-5)
    topo_ce = LN2 * (0.05 * counts[0] + 0.95 * counts[1]) / total
    assert build_loss("topo")(logits, target).item() == pytest.approx(topo_ce, rel=1e-5)
    # The line is its own soft skeleton; a constant prediction has an empty one.
    clce = LN2 * (1 + n / total)
    assert build_loss("centerline_ce")(logits, target).item() == pytest.approx(clce, rel=1e-5)
    raw = {c: total / (counts[c] * 2 + 1e-5) for c in counts}
    weights = {c: raw[c] / sum(raw.values()) for c in counts}
    balanced = 1 - sum(weights[c] * dice(c, 1e-5, 1e-5) * 1.0 for c in counts)
    # The class-balanced Dice uses 2 sum P Y + eps over sum P + sum Y + eps: with P = 1/2 this
    # is (n_c + eps) / (N / 2 + n_c + eps), the same ratio as above.
    assert build_loss("class_balanced")(logits, target).item() == pytest.approx(balanced, rel=1e-5)


def test_betti_of_a_single_voxel():
    # frag(y): each axis of a 4 x 4 x 4 volume has 2 unit steps among 3 x 4 x 4 differences.
    target = torch.zeros(1, 1, 4, 4, 4, dtype=torch.long)
    target[0, 0, 1, 2, 1] = 1
    value = build_loss("betti")(torch.zeros(1, 2, 4, 4, 4), target)
    assert value.item() == pytest.approx(3 * 2 / 48, rel=1e-6)


def test_cbdice_is_negative_and_can_go_below_minus_one_on_all_foreground():
    target = torch.ones(1, 1, 10, 10, 8, dtype=torch.long)
    logits = torch.randn(1, 2, 10, 10, 8, generator=torch.Generator().manual_seed(0))
    logits[:, 1] += 2.0
    term = build_loss("cbdice", lambda_ce=0.0, lambda_dice=0.0)(logits, target)
    assert term.item() < -1.0


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("class_balanced", {}),
        ("betti", {}),
        ("centerline_ce", {}),
        ("cbdice", {}),
        ("warp", {"lambda_warp": 1.0}),
        ("topo", {}),
        ("topo_compound", {}),
        ("cbdice_cldice", {}),
    ],
)
def test_gradients_match_finite_differences(name, kwargs):
    target = tube_labels((6, 6, 5), batch=1)
    logits = torch.randn(1, 2, 6, 6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    logits.requires_grad_(True)
    loss = _active(name, **kwargs) if name != "topo" else build_loss(name)
    assert torch.autograd.gradcheck(lambda x: loss(x, target), (logits,), fast_mode=True)


def test_topo_term_pulls_critical_voxels_towards_fixed_references():
    # The references R are constants (no gradient through them), so a finite-difference check
    # does not apply; the term must equal mean((p W - R)^2) with W, R from topo_maps, gradient too.
    target = torch.zeros(1, 1, 10, 10, 6, dtype=torch.long)
    target[0, 0, 1:9, 2:4, 2:4] = 1
    target[0, 0, 1:9, 6:8, 2:4] = 1
    gen = torch.Generator().manual_seed(5)
    logits = torch.randn(1, 2, 10, 10, 6, dtype=torch.float64, generator=gen)
    logits.requires_grad_(True)
    loss = build_loss("topo", lambda_topo=1.0, topo_size=8)
    ce = loss(logits, target)
    loss.set_training_progress(1.0)
    total = loss(logits, target)
    p = torch.softmax(logits, dim=1)[:, 1]
    weight, ref = topo_maps(p[0].detach().numpy(), target[0, 0].numpy(), 8)
    assert weight.sum() > 0
    weight_t, ref_t = torch.from_numpy(weight)[None], torch.from_numpy(ref)[None]
    term = ((p * weight_t - ref_t) ** 2).mean()
    torch.testing.assert_close(total - ce, term)
    (grad_total,) = torch.autograd.grad(total - ce, logits)
    (grad_term,) = torch.autograd.grad(term, logits)
    torch.testing.assert_close(grad_total, grad_term)
