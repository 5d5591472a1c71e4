"""How a per-volume table's NSD was scored: at one fixed tolerance, or at each volume's own.

The evaluation records on every row the tolerance it scored NSD at (``nsd_tau``, in the table's
distance unit) and the rule that chose it (``nsd_tau_rule``): ``auto``, each volume's own coarsest
voxel spacing, or ``fixed``, one tolerance for every volume. Under ``auto`` the tolerances differ
between volumes, so two tables are comparable when their rules agree, not their values. A table
from before the rule column was scored at one dataset-wide tolerance and reads as fixed at it.
"""

from __future__ import annotations

import pandas as pd

#: Column of the rule that chose each row's ``nsd_tau``.
RULE_COLUMN = "nsd_tau_rule"
#: The rule values: each volume's own tolerance, or one for every volume.
AUTO, FIXED = "auto", "fixed"
#: How an ``auto`` table reads in :func:`nsd_scoring` (a run tag, the comparability check).
AUTO_SCORING = "auto (each volume's coarsest spacing)"


def _tolerances(table: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(table["nsd_tau"], errors="coerce")


def _is_auto(table: pd.DataFrame) -> pd.Series:
    if RULE_COLUMN not in table.columns:
        return pd.Series(False, index=table.index)
    return table[RULE_COLUMN].astype(str) == AUTO


def nsd_scoring(table: pd.DataFrame) -> str | None:
    """How ``table``'s NSD was scored, as text that two tables share exactly when their rule does.

    Args:
        table: a per-volume table with an ``nsd_tau`` column (and, from the evaluation, ``nsd_tau_rule``).

    Returns:
        :data:`AUTO_SCORING` for a table scored at each volume's own tolerance; the fixed tolerance
        otherwise (``"2"``; several, comma-separated, for a table that mixes them); both for a
        table mixing the rules; ``None`` without an ``nsd_tau`` column or value.
    """
    if "nsd_tau" not in table.columns:
        return None
    auto = _is_auto(table)
    fixed = sorted({float(v) for v in _tolerances(table[~auto]).dropna()})
    parts = ([AUTO_SCORING] if auto.any() else []) + [f"{v:g}" for v in fixed]
    return ", ".join(parts) or None


def tolerance_range(table: pd.DataFrame) -> tuple[float, float] | None:
    """The smallest and largest ``nsd_tau`` of ``table``'s rows (``None`` without any)."""
    if "nsd_tau" not in table.columns:
        return None
    values = _tolerances(table).dropna()
    return (float(values.min()), float(values.max())) if len(values) else None
