"""The late-term interface: first active epoch, per-call term statistics, compound forwarding."""

from __future__ import annotations

import math

import pytest
import torch

from minivess_kedro.losses import CompoundLoss, build_loss
from minivess_kedro.losses.base import first_active_epoch
from minivess_kedro.losses.compound import LateTermCompoundLoss, compound_loss


def _case(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    # float64: the term is ~1e-4 of the loss, below float32 resolution when recovered as a difference.
    logits = torch.randn(2, 2, 12, 12, 8, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    target = torch.zeros(2, 1, 12, 12, 8, dtype=torch.long)
    target[:, 0, 2:10, 5:8, 2:5] = 1
    target[1, 0, 3:5, 1:4, 1:7] = 1
    return logits, target


def _parts(name: str, logits: torch.Tensor, target: torch.Tensor) -> tuple[float, float]:
    """(base, weighted term) of one call, from a loss with the term on and one with lambda 0."""
    lam = f"lambda_{name}"
    full = build_loss(name, activate_at=0.0)(logits, target)
    base = build_loss(name, activate_at=0.0, **{lam: 0.0})(logits, target)
    return float(base), float(full - base)


@pytest.mark.parametrize(
    ("activate_at", "max_epochs", "expected"),
    [(0.7, 10, 7), (0.7, 100, 70), (0.5, 6, 3), (0.7, 6, 5), (0.0, 5, 0), (1.0, 5, 5), (0.3, 10, 3), (0.01, 3, 1)],
)
def test_first_active_epoch_matches_the_trainers_comparison(activate_at, max_epochs, expected):
    assert first_active_epoch(activate_at, max_epochs) == expected
    # The definition, checked directly: the first e with e / max_epochs >= activate_at.
    assert expected == next((e for e in range(max_epochs) if e / max_epochs >= activate_at), max_epochs)
    assert build_loss("warp", activate_at=activate_at).first_active_epoch(max_epochs) == expected


@pytest.mark.parametrize("name", ["warp", "topo"])
def test_term_stats_are_the_mean_of_the_per_call_ratios(name):
    loss = build_loss(name, activate_at=0.0)
    cases = [_case(0), _case(1)]
    parts = [_parts(name, *case) for case in cases]
    for case in cases:
        loss(*case)

    stats = loss.pop_term_stats()

    assert stats["late_term"] == pytest.approx(sum(t for _, t in parts) / 2, rel=1e-5)
    assert stats["late_term_ratio"] == pytest.approx(sum(t / b for b, t in parts) / 2, rel=1e-5)
    assert 0.0 < stats["late_term_ratio"] < 1e-2  # lambda 1e-4: a small fraction of the base loss
    assert loss.pop_term_stats() == {}  # popped: the next epoch starts afresh


@pytest.mark.parametrize("name", ["warp", "topo"])
def test_inactive_term_records_nothing(name):
    loss = build_loss(name, activate_at=0.5)
    loss.set_training_progress(0.4)
    loss(*_case(0))
    assert not loss.term_active and loss.pop_term_stats() == {}
    loss.set_training_progress(0.5)
    loss(*_case(0))
    assert set(loss.pop_term_stats()) == {"late_term", "late_term_ratio"}


def test_compound_forwards_progress_and_reports_its_late_term():
    warp = build_loss("warp", activate_at=0.5)
    compound = compound_loss({"dice_ce": (0.4, build_loss("dice_ce")), "warp": (0.6, warp)})
    assert isinstance(compound, LateTermCompoundLoss) and compound.has_late_term
    assert compound.first_active_epoch(10) == 5

    compound.set_training_progress(0.4)
    assert warp.progress == 0.4 and not compound.term_active
    logits, target = _case(0)
    compound(logits, target)
    assert compound.pop_term_stats() == {}

    compound.set_training_progress(0.5)
    assert warp.term_active and compound.term_active
    value = float(compound(logits, target))
    warp_base, warp_term = _parts("warp", logits, target)
    late = 0.6 * warp_term
    rest = 0.4 * float(build_loss("dice_ce")(logits, target)) + 0.6 * warp_base
    assert value == pytest.approx(rest + late, rel=1e-5)
    stats = compound.pop_term_stats()
    assert stats["late_term"] == pytest.approx(late, rel=1e-5)
    assert stats["late_term_ratio"] == pytest.approx(late / rest, rel=1e-5)
    assert warp.pop_term_stats() == {}  # the compound reset its term's own record


def test_nested_compound_and_the_latest_switch_on():
    inner = compound_loss({"topo": (0.5, build_loss("topo", activate_at=0.8)), "dice_ce": (0.5, build_loss("dice_ce"))})
    outer = compound_loss({"inner": (0.5, inner), "warp": (0.5, build_loss("warp", activate_at=0.3))})
    assert outer.has_late_term and outer.first_active_epoch(10) == 8
    outer.set_training_progress(0.5)
    assert not outer.term_active  # topo is still off
    outer(*_case(0))
    stats = outer.pop_term_stats()  # warp alone is on: recorded
    assert stats["late_term"] > 0.0 and math.isfinite(stats["late_term_ratio"])


def test_compound_without_late_term_has_no_late_interface():
    compound = compound_loss({"dice_ce": (1.0, build_loss("dice_ce"))})
    assert type(compound) is CompoundLoss
    assert not hasattr(compound, "set_training_progress") and not getattr(compound, "has_late_term", False)
