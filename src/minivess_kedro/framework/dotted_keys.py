"""Nested settings as dotted keys, the way ``--params`` and the messages name them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dotted_keys(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; an empty mapping has no keys to keep."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            flat |= dotted_keys(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat
