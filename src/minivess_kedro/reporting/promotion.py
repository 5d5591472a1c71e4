"""Which registered model version each registry alias should point at, by the report's verdict.

For each promoted metric ``m`` the alias ``best-<m>`` goes to a model of the winning loss: the loss
that is significantly better than the reference on ``m`` (Holm-corrected, as in the comparisons
table), the one with the best mean among several; when no loss is, the reference loss (a loss is
promoted on evidence, never on a mean that the test cannot tell from the reference's). The
``reference`` alias always goes to a model of the reference loss.

A loss has one model per fold and seed. The alias goes to the one whose kept checkpoint had the
highest validation DSC (ties: lowest fold, then seed): chosen on the volumes it was selected on,
never on the test volumes the verdict comes from. An alias that already points at a model of the
winning loss among the reported runs is kept, so re-running the report moves an alias only when
the verdict changes (or its model is no longer among the reported runs).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from minivess_kedro.reporting.metric_info import higher_is_better
from minivess_kedro.reporting.protocol import kept_checkpoint
from minivess_kedro.reporting.records import RunRecord

#: Columns of the promotions table.
PROMOTION_COLUMNS: tuple[str, ...] = (
    "alias",
    "metric",
    "loss",
    "model_name",
    "version",
    "run_id",
    "fold_idx",
    "seed",
    "best_val_dsc",
    "action",
    "previous_version",
    "reason",
)
#: What happened to an alias: ``set`` (new), ``moved`` (from ``previous_version``), ``kept``, ``none``
#: (no model to point at: the reason says why).
ACTIONS: tuple[str, ...] = ("set", "moved", "kept", "none")


@dataclass(frozen=True)
class ModelVersion:
    """A version of a registered model."""

    name: str
    version: str


@dataclass(frozen=True)
class PromotionSettings:
    """Which aliases the report sets.

    Attributes:
        metrics: one ``best-<metric>`` alias each.
        reference_alias: the alias of the reference loss's model (empty: none).
        alpha: family-wise error rate of the Holm-corrected tests behind a verdict.
    """

    metrics: tuple[str, ...] = ("dsc", "cldice")
    reference_alias: str = "reference"
    alpha: float = 0.05


def alias_of(metric: str) -> str:
    """``best-<metric>``, e.g. ``best-cldice``."""
    return f"best-{metric}"


def winning_loss(
    comparisons: pd.DataFrame, metric: str, reference: str, alpha: float, losses: Collection[str] = ()
) -> tuple[str | None, str]:
    """The loss the report's verdict promotes on ``metric``, and why.

    Args:
        comparisons: the report's comparisons table (``loss``, ``metric``, ``mean_loss``,
            ``mean_diff``, ``ci_low``, ``ci_high``, ``p_holm``, ``verdict``).
        metric: the metric.
        reference: the reference loss.
        alpha: the tests' family-wise error rate (only named in the reason).
        losses: the reported losses (a study of the reference alone promotes the reference).

    Returns:
        ``(loss, reason)``; ``(None, reason)`` when the metric was not compared (no reference
        run, or the metric is not reported).
    """
    rows = comparisons[comparisons["metric"] == metric] if len(comparisons) else comparisons
    if len(rows) == 0 and set(losses) == {reference}:
        return reference, f"only the reference loss {reference} was run: nothing to compare on {metric}"
    if len(rows) == 0:
        return None, f"no paired comparison on {metric} (no run of the reference loss {reference!r}?): nothing promoted"
    better = rows[rows["verdict"] == "better"]
    if len(better) == 0:
        return reference, (
            f"no loss is significantly better than the reference {reference} on {metric} "
            f"(Holm-corrected Wilcoxon, alpha {alpha:g}): the reference keeps it"
        )
    best = better.sort_values("mean_loss", ascending=not higher_is_better(metric), kind="stable").iloc[0]
    reason = (
        f"{best['loss']} is significantly better than the reference {reference} on {metric}: difference "
        f"{best['mean_diff']:+.4g} [{best['ci_low']:.4g}, {best['ci_high']:.4g}], Holm p = {best['p_holm']:.3g}"
    )
    if len(better) > 1:
        others = ", ".join(sorted(set(better["loss"]) - {best["loss"]}))
        reason += f"; also better than the reference: {others} (not tested against each other; best mean chosen)"
    return str(best["loss"]), reason


@dataclass(frozen=True)
class _Candidate:
    run: RunRecord
    model: ModelVersion
    best_val_dsc: float


def _candidates(runs: Sequence[RunRecord], versions: Mapping[str, ModelVersion], loss: str) -> list[_Candidate]:
    """The registered models of ``loss``'s runs, best validation DSC first (ties: fold, seed)."""
    found = []
    for run in runs:
        if run.loss == loss and run.run_id in versions:
            _, dsc = kept_checkpoint(run.history)
            found.append(_Candidate(run, versions[run.run_id], dsc))

    def order(c: _Candidate) -> tuple:
        never_validated = math.isnan(c.best_val_dsc)
        return never_validated, 0.0 if never_validated else -c.best_val_dsc, c.run.fold_idx, c.run.seed

    return sorted(found, key=order)


def _row(
    alias: str,
    metric: str,
    loss: str | None,
    candidates: list[_Candidate],
    current: Mapping[tuple[str, str], str],
    reason: str,
) -> dict:
    """One alias: kept when it points at one of the candidates, else set or moved to the first."""
    row = dict.fromkeys(PROMOTION_COLUMNS, "") | {"alias": alias, "metric": metric, "loss": loss or ""}
    row |= {"fold_idx": pd.NA, "seed": pd.NA, "best_val_dsc": math.nan}
    if loss is None or not candidates:
        if loss is not None:
            reason += f"; but no run of {loss} has a registered model version (trained with MLflow off?)"
        return row | {"action": "none", "reason": reason}
    names = {c.model.name for c in candidates}
    pointed = {name: current[name, alias] for name in sorted(names) if (name, alias) in current}
    kept = [c for c in candidates if pointed.get(c.model.name) == c.model.version]
    chosen = kept[0] if kept else candidates[0]
    previous = pointed.get(chosen.model.name, "")
    if kept:
        action, why = "kept", "verdict unchanged"
    elif previous:
        action, why = "moved", f"moved from version {previous}"
    else:
        action, why = "set", "new alias"
    choice = f"{why}; of {len(candidates)} model(s) of {loss}, " + (
        "the one it already points at" if kept else "the one with the highest validation DSC"
    )
    return row | {
        "model_name": chosen.model.name,
        "version": chosen.model.version,
        "run_id": chosen.run.run_id,
        "fold_idx": chosen.run.fold_idx,
        "seed": chosen.run.seed,
        "best_val_dsc": chosen.best_val_dsc,
        "action": action,
        "previous_version": previous if action == "moved" else "",
        "reason": f"{reason}; {choice}",
    }


def plan_promotions(
    runs: Sequence[RunRecord],
    versions: Mapping[str, ModelVersion],
    comparisons: pd.DataFrame,
    reference: str,
    current: Mapping[tuple[str, str], str],
    settings: PromotionSettings,
) -> pd.DataFrame:
    """Where each alias should point after this report.

    Args:
        runs: the reported runs.
        versions: run id -> the model version that run registered (runs without one are never
            promoted).
        comparisons: the report's comparisons table.
        reference: the reference loss.
        current: ``(model name, alias)`` -> the version the alias points at now.
        settings: which aliases.

    Returns:
        One row per alias (:data:`PROMOTION_COLUMNS`): the ``best-<metric>`` ones in the order of
        ``settings.metrics``, then the reference alias.
    """
    rows = []
    for metric in settings.metrics:
        loss, reason = winning_loss(comparisons, metric, reference, settings.alpha, {run.loss for run in runs})
        candidates = [] if loss is None else _candidates(runs, versions, loss)
        rows.append(_row(alias_of(metric), metric, loss, candidates, current, reason))
    if settings.reference_alias:
        reason = f"the reference loss of the comparisons, {reference}"
        candidates = _candidates(runs, versions, reference)
        rows.append(_row(settings.reference_alias, "", reference, candidates, current, reason))
    return pd.DataFrame(rows, columns=list(PROMOTION_COLUMNS))


def as_text(value: object) -> str:
    """A table cell as text: ``""`` when empty, ``"3"`` for a version a CSV read back as 3.0."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def alias_assignments(promotions: pd.DataFrame) -> dict[str, dict[str, str]]:
    """``{model name: {alias: version}}`` of the aliases to set (``set`` and ``moved`` rows); the
    table may come back from its CSV file."""
    assignments: dict[str, dict[str, str]] = {}
    for row in promotions[promotions["action"].isin(("set", "moved"))].itertuples():
        assignments.setdefault(as_text(row.model_name), {})[as_text(row.alias)] = as_text(row.version)
    return assignments
