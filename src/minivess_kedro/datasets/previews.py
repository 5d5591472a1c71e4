"""What kedro-viz shows for the project's datasets: pure functions from loaded data to previews.

kedro-viz picks the widget from the name of a dataset's ``preview`` return annotation
(``ImagePreview`` -> an image, ``TablePreview`` -> a table in pandas' ``orient="split"`` shape).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from kedro_datasets._typing import ImagePreview, TablePreview


def volume_slice_preview(array: np.ndarray) -> ImagePreview:
    """A PNG of the middle ``D`` slice of an ``H x W x D`` volume, base64-encoded.

    Intensities are scaled between the 1st and 99.5th percentile of the slice, so one hot
    pixel does not turn the vessels grey; the image is ``W`` rows by ``H`` columns.

    Args:
        array: a 3D volume (``H x W x D``) or a 2D slice.

    Returns:
        The base64 PNG that kedro-viz renders as an image.

    Raises:
        ValueError: ``array`` is neither 2D nor 3D.
    """
    from PIL import Image  # noqa: PLC0415 - only kedro-viz needs Pillow here

    values = np.asarray(array, dtype=np.float32)
    if values.ndim not in (2, 3):
        raise ValueError(f"a preview needs a 2D or 3D array, got shape {values.shape}")
    middle = values[:, :, values.shape[2] // 2] if values.ndim == 3 else values
    low, high = np.percentile(middle, [1, 99.5])
    scaled = np.clip((middle - low) / max(high - low, 1e-6), 0, 1)
    buffer = io.BytesIO()
    Image.fromarray((scaled.T * 255).astype(np.uint8)).save(buffer, format="PNG")
    return ImagePreview(base64.b64encode(buffer.getvalue()).decode("utf-8"))


def _table(columns: list[str], rows: list[list[Any]]) -> TablePreview:
    return TablePreview({"index": list(range(len(rows))), "columns": columns, "data": rows})


def state_dict_preview(state_dict: Mapping[str, Any]) -> TablePreview:
    """One row per tensor of a model state dict (name, shape, dtype, values), the total first.

    Args:
        state_dict: ``{name: tensor}`` as ``torch.load`` returns it; non-tensor entries are
            listed with their type and no values.

    Returns:
        A table with columns ``tensor``, ``shape``, ``dtype``, ``values``.
    """
    rows = []
    for name, value in state_dict.items():
        if hasattr(value, "shape") and hasattr(value, "dtype"):
            shape = [int(side) for side in value.shape]
            dtype = str(value.dtype).removeprefix("torch.")
            rows.append([name, " x ".join(map(str, shape)) or "scalar", dtype, math.prod(shape)])
        else:
            rows.append([name, "", type(value).__name__, 0])
    total = [f"(total of {len(rows)})", "", "", sum(row[3] for row in rows)]
    return _table(["tensor", "shape", "dtype", "values"], [total, *rows])


def split_sizes_preview(splits: Mapping[str, Any]) -> TablePreview:
    """The number of volumes in each part of a splits file, one row per fold.

    Args:
        splits: a whole splits file (``{"test": [...], "folds": [{"train", "val"(, "test")}, ...]}``) or
            one fold of it (``{"fold_idx": k, "train": [...], "val": [...], "test": [...]}``).

    Returns:
        A table with columns ``fold``, ``train``, ``val``, ``test``.

    Raises:
        ValueError: neither shape.
    """
    test = len(splits.get("test", []))
    if "folds" in splits:
        # nested splits: each fold tests its own outer fold; otherwise every fold the shared test set
        rows = [
            [k, len(fold["train"]), len(fold["val"]), len(fold["test"]) if "test" in fold else test]
            for k, fold in enumerate(splits["folds"])
        ]
    elif "train" in splits and "val" in splits:
        rows = [[splits.get("fold_idx", 0), len(splits["train"]), len(splits["val"]), test]]
    else:
        raise ValueError(f"not a splits file: expected 'folds' or 'train' and 'val', got keys {sorted(splits)}")
    return _table(["fold", "train", "val", "test"], rows)
