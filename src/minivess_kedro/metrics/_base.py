"""Common shape of the per-volume metric classes (MONAI-like: configure once, call per volume)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class VolumeMetric(ABC):
    """A metric configured once and called on one prediction/reference pair at a time.

    Calling the metric computes one volume's value, keeps it and returns it; :meth:`aggregate`
    returns every kept value (NaN included: nothing is dropped), :meth:`reset` clears them.
    The pure ``compute_*`` functions give the same values without the buffer.
    """

    def __init__(self) -> None:
        self._values: list[float] = []

    @abstractmethod
    def _compute(self, pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float]) -> float:
        """Value for one volume."""

    def __call__(self, pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float] = (1.0, 1.0, 1.0)) -> float:
        """Compute, keep and return the value of one volume.

        Args:
            pred: binary prediction of shape ``(H, W, D)``.
            ref: binary reference of shape ``(H, W, D)``.
            spacing: voxel size per axis (ignored by metrics that do not use it).
        """
        value = float(self._compute(pred, ref, spacing))
        self._values.append(value)
        return value

    def aggregate(self) -> np.ndarray:
        """Values of every volume since the last reset, shape ``(N,)``."""
        return np.asarray(self._values, dtype=np.float64)

    def reset(self) -> None:
        """Forget the kept values."""
        self._values.clear()
