"""Choosing the example volumes and cutting their middle slices."""

from __future__ import annotations

import numpy as np
import pytest

from minivess_kedro.reporting import ExampleChoice, example_from_volumes, middle_slice, pick_examples
from tests.reporting import fakes
from tests.reporting.conftest import SETTINGS


def test_best_and_worst_volume_of_the_best_loss() -> None:
    best, worst = pick_examples(fakes.make_runs(), SETTINGS)
    # cbdice has the highest mean DSC; its pattern peaks at mv04 (+0.04) and bottoms at mv05 (-0.02)
    assert best == ExampleChoice("best", "cbdice-1", "cbdice", 1, "mv04", pytest.approx(0.81))
    assert worst == ExampleChoice("worst", "cbdice-0", "cbdice", 0, "mv05", pytest.approx(0.74))


def test_middle_slices_of_the_chosen_volume() -> None:
    volume = np.arange(4 * 3 * 5).reshape(4, 3, 5)
    choice = ExampleChoice("best", "r", "cbdice", 1, "mv04", 0.81)
    example = example_from_volumes(choice, volume, volume > 30, volume > 20)
    assert np.array_equal(example.image, volume[:, :, 2])
    assert example.reference.shape == (4, 3) and example.dsc == 0.81
    with pytest.raises(ValueError, match="needs a 3D volume"):
        middle_slice(volume[0])
    with pytest.raises(ValueError, match="shapes differ"):
        example_from_volumes(choice, volume, volume[:2], volume)
