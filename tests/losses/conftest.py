"""Fixtures for the loss tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

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
