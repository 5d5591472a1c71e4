"""One selection rule for every loss of a study (``training.selection_start``)."""

from __future__ import annotations

import pytest

from minivess_kedro.losses import LOSS_NAMES, build_loss
from minivess_kedro.training import FitConfig
from minivess_kedro.training.selection import selection_start_epoch

STUDY = [build_loss(name) for name in LOSS_NAMES]  # warp and topo at the spec's activate_at 0.7


@pytest.mark.parametrize(
    ("loss", "rule", "expected"),
    [
        ("dice_ce", "late_term", 70),  # every loss from the epoch warp's and topo's terms come on
        ("cbdice", "late_term", 70),
        ("warp", "late_term", 70),
        ("dice_ce", "own", 0),  # a loss without a late term selects among all epochs
        ("warp", "own", 70),  # a late-term loss never selects before its term is on
    ],
)
def test_the_start_of_each_rule(loss: str, rule: str, expected: int) -> None:
    assert selection_start_epoch(rule, build_loss(loss), STUDY, max_epochs=100) == expected


def test_the_latest_late_term_of_the_study_sets_the_start_for_all() -> None:
    study = [build_loss("warp", activate_at=0.5), build_loss("topo", activate_at=0.8)]
    assert selection_start_epoch("late_term", build_loss("dice_ce"), study, 10) == 8
    assert selection_start_epoch("late_term", study[0], study, 10) == 8  # warp waits for topo too
    assert selection_start_epoch("own", study[0], study, 10) == 5


def test_a_late_term_that_never_comes_on_gates_nothing() -> None:
    never = [build_loss("warp", activate_at=1.0)]
    assert selection_start_epoch("late_term", build_loss("dice_ce"), never, 10) == 0
    assert selection_start_epoch("late_term", never[0], never, 10) == 0
    # 0.7 of 2 epochs: epoch 2, past the last epoch
    assert selection_start_epoch("late_term", build_loss("dice_ce"), STUDY, 2) == 0


def test_an_unknown_rule_is_refused_with_the_key() -> None:
    with pytest.raises(ValueError, match="training.selection_start must be 'late_term' or 'own', got 'late'"):
        selection_start_epoch("late", build_loss("dice_ce"), STUDY, 10)  # type: ignore[arg-type]


def test_a_start_past_the_last_epoch_is_refused() -> None:
    with pytest.raises(ValueError, match=r"select_from=6 must lie in \[0, max_epochs=6\)"):
        FitConfig(max_epochs=6, select_from=6)
