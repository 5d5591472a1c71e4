"""Global seeding and the random states that a checkpoint carries."""

from __future__ import annotations

import random

import numpy as np
import torch
from monai.utils import set_determinism


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seeds Python, NumPy, torch (CPU and CUDA) and MONAI, and sets how kernels are chosen.

    ``deterministic=True`` asks torch for deterministic kernels where it has them (a warning, not
    an error, where it has none) and turns cuDNN's benchmark off; torch's filling of every new
    allocation with NaN, which that mode turns on, is turned off again (it costs a write of every
    new tensor and guards against nothing the project reads). ``False`` lets cuDNN benchmark and
    pick the fastest (non-deterministic) convolution algorithms.
    """
    set_determinism(seed=seed)  # python, numpy, torch; it also forces cuDNN deterministic, set below
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = False
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic


def capture_rng_state() -> dict:
    """The global random states as plain lists and tensors (loadable with ``weights_only=True``)."""
    _, keys, position, has_gauss, cached = np.random.get_state()
    state = {
        "python": [list(item) if isinstance(item, tuple) else item for item in random.getstate()],
        "numpy": {
            "keys": keys.tolist(),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Restores what :func:`capture_rng_state` captured."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy = state["numpy"]
    np.random.set_state(
        ("MT19937", np.asarray(numpy["keys"], dtype=np.uint32), numpy["position"], numpy["has_gauss"], numpy["cached"])
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
