"""Fixtures for the loss tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = PROJECT_ROOT.parent / "shared" / "reference" / "loss_cases"


@pytest.fixture(scope="session")
def reference_cases() -> tuple[dict, dict]:
    """``(expected, inputs)`` of ``shared/reference/loss_cases`` (the repository's sibling)."""
    if not REFERENCE_DIR.is_dir():
        pytest.fail(f"reference cases not found at {REFERENCE_DIR}")
    expected = json.loads((REFERENCE_DIR / "expected.json").read_text())
    with np.load(REFERENCE_DIR / "inputs.npz") as npz:
        inputs = {key: npz[key] for key in npz.files}
    return expected, inputs


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Run the loss tests on one intra-op thread, then restore the setting.

    The tensors here are tiny: threads buy nothing, and on a busy 2-core machine OpenMP threads
    that wait for each other turn a 5 s suite into a minute.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
