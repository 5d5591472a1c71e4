"""How each metric reads: its label, its unit and which direction is better."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from minivess_kedro.metrics import DISTANCE_KEYS

_LABELS: dict[str, str] = {
    "dsc": "DSC",
    "cldice": "clDice",
    "masd": "MASD",
    "hd95": "HD95",
    "nsd": "NSD",
    "betti0_error": "Betti-0 error",
    "betti1_error": "Betti-1 error",
}
#: Metrics where a smaller value is better (distances and topology errors).
LOWER_IS_BETTER: frozenset[str] = frozenset({*DISTANCE_KEYS, "betti0_error", "betti1_error"})


def metric_label(metric: str, distance_unit: str = "µm") -> str:
    """Human-readable metric name, with the unit for distances (``"MASD (µm)"``)."""
    label = _LABELS.get(metric, metric)
    return f"{label} ({distance_unit})" if metric in DISTANCE_KEYS else label


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better (DSC, clDice, NSD and unknown metrics)."""
    return metric not in LOWER_IS_BETTER


def distance_unit(protocol: Mapping[str, Any], table_units: str | None = None) -> str:
    """The unit label of the reported distances: ``voxels`` or ``µm``.

    Args:
        protocol: the protocol mapping; ``distance_units`` is looked up at the top level and in
            an ``evaluation`` sub-mapping when the tables do not say.
        table_units: ``distance_units`` of the volume tables (``physical``/``voxel``), which
            wins over the protocol. Physical distances are micrometres: MiniVess headers hold
            micrometres (docs/data.md).
    """
    units = table_units
    if units is None:
        evaluation = protocol.get("evaluation")
        nested = evaluation.get("distance_units") if isinstance(evaluation, Mapping) else None
        units = protocol.get("distance_units") or nested
    return "voxels" if units == "voxel" else "µm"
