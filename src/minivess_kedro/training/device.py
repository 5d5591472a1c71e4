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
    """The autocast dtype: bf16 on CUDA where supported, else fp16; ``None`` when AMP is off or
    on the CPU (CPU autocast is slower than float32 for 3D convolutions)."""
    if not amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
