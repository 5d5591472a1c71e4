"""Device and mixed-precision choices."""

from __future__ import annotations

import torch


def resolve_device(requested: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU; anything else is taken as given.

    Raises:
        ValueError: CUDA requested on a machine without it.
    """
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"training.compute.device={requested!r} but CUDA is not available here; use 'auto' or 'cpu'")
    return device


def autocast_dtype(device: torch.device, amp: bool) -> torch.dtype | None:
    """The autocast dtype: bf16 on CUDA where the GPU computes it natively (Ampere and newer),
    else fp16 (with a ``GradScaler``); ``None`` when AMP is off or on the CPU (CPU autocast is
    slower than float32 for 3D convolutions).

    ``is_bf16_supported()`` alone also counts emulation: an RTX 2070 (Turing, ``gpu_low``'s target)
    would run bf16 emulated, slower than fp16, so emulation does not count.
    """
    if not amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported(including_emulation=False) else torch.float16


def load_scaler_state(scaler: torch.amp.GradScaler, state: dict) -> bool:
    """Restores a checkpoint's loss-scaler state when it was saved under the same precision.

    An fp16 run's scaler holds its scale; a bf16 or float32 run's is disabled and saves ``{}``.
    A checkpoint resumed on a GPU with the other precision (bf16 on an A100, then fp16 on an RTX
    2070) starts the scaler afresh instead of failing in ``GradScaler.load_state_dict``.

    Returns:
        Whether the state was restored.
    """
    if bool(state) != scaler.is_enabled():
        return False
    scaler.load_state_dict(state)
    return True
