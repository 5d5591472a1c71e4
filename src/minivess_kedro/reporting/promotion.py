"""Which registered model version each registry alias should point at, by the report's verdict.

For each promoted metric ``m`` the alias ``best-<m>`` goes to a model of the winning loss: the loss
that is significantly better than the reference on ``m`` (Holm over losses x primary metrics, as in
the comparisons table) and non-inferior on the other primary metrics, the one whose interval's
worse end is best among several; when no loss is, the reference loss (a loss is promoted on
evidence, never on a mean that the test cannot tell from the reference's). The ``reference`` alias
always goes to a model of the reference loss. Nothing is promoted from a selection-biased report
or an incomplete grid, and a version is promoted only when its weights digest is that of the
``best_model.pt`` its run's evaluation scored.

A loss has one network per fold and seed, and the verdict is about all of them: the alias goes to
their ensemble (:mod:`~minivess_kedro.reporting.ensembles`), registered by the report as one
version. An alias that already points at the winning loss's ensemble is kept; an alias on a
model of another loss still significantly better than the reference stays on that loss (its
ensemble), so re-running the report moves an alias only when the verdict changes (or the
ensemble's members do). When the verdict has no model to point at, the alias is removed rather
than left on the previous verdict's model; an alias on a model trained on other data (another
dataset fingerprint) is never touched: a report on the synthetic data does not move the real
data's aliases.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import pandas as pd

from minivess_kedro.reporting.metric_info import higher_is_better
from minivess_kedro.reporting.records import RunRecord

#: Columns of the promotions table.
PROMOTION_COLUMNS: tuple[str, ...] = (
    "alias",
    "metric",
    "loss",
    "model_name",
    "version",
    "members",
    "member_run_ids",
    "postprocessing",
    "action",
    "previous_version",
    "reason",
)
#: What happened to an alias: ``set`` (new), ``moved`` (from ``previous_version``), ``kept``,
#: ``removed`` (from ``previous_version``: no model of the verdict to point at, or the alias is now on
#: another of the study's model names), ``none`` (nothing to do or left as it is: the reason says why).
ACTIONS: tuple[str, ...] = ("set", "moved", "kept", "removed", "none")


@dataclass(frozen=True)
class ModelVersion:
    """A version of a registered model, with the digests that tie it to the evaluated weights.

    Attributes:
        name: registered model name.
        version: version number.
        weights_sha256: the version's ``weights_sha256`` tag (empty: not recorded).
        evaluated_sha256: digest of the ``best_model.pt`` the run's evaluation scored (empty:
            not recorded).
    """

    name: str
    version: str
    weights_sha256: str = ""
    evaluated_sha256: str = ""

    def mismatch(self) -> str | None:
        """Why this version may not be promoted for its run's verdict, or ``None``."""
        if self.weights_sha256 and self.weights_sha256 == self.evaluated_sha256:
            return None
        return (
            f"{self.name} version {self.version} holds weights {self.weights_sha256[:12] or '(digest not recorded)'} "
            f"but the evaluated best_model.pt has {self.evaluated_sha256[:12] or '(digest not recorded)'}: the verdict "
            "is not about this version (a stale registered_model.json?); re-run training and evaluation of that cell"
        )


@dataclass(frozen=True)
class PromotionSettings:
    """Which aliases the report sets.

    Attributes:
        metrics: one ``best-<metric>`` alias each.
        reference_alias: the alias of the reference loss's model (empty: none).
        alpha: family-wise error rate of the Holm-corrected tests behind a verdict.
        enabled: the aliases are set (false: the plan says where they would go).
    """

    metrics: tuple[str, ...] = ("dsc", "cldice")
    reference_alias: str = "reference"
    alpha: float = 0.05
    enabled: bool = True


def alias_of(metric: str) -> str:
    """``best-<metric>``, e.g. ``best-cldice``."""
    return f"best-{metric}"


def _other_primary(comparisons: pd.DataFrame, metric: str) -> list[str]:
    """The report's primary metrics other than ``metric``, in table order."""
    if "family" not in comparisons.columns:
        return []
    primary = comparisons[comparisons["family"] == "primary"]["metric"]
    return [m for m in dict.fromkeys(primary) if m != metric]


def _inferior_on(comparisons: pd.DataFrame, loss: str, metrics: Sequence[str]) -> list[str]:
    """The metrics of ``metrics`` on which ``loss`` is not shown non-inferior to the reference."""
    rows = comparisons[(comparisons["loss"] == loss) & comparisons["metric"].isin(metrics)]
    shown = {str(r.metric) for r in rows.itertuples() if bool(r.non_inferior)}
    return [m for m in metrics if m not in shown]


def eligible_losses(comparisons: pd.DataFrame, metric: str) -> set[str]:
    """The losses an alias on ``metric`` may go to: significantly better than the reference on it
    (Holm over the primary family) and non-inferior on every other primary metric."""
    others = _other_primary(comparisons, metric)
    return {loss for loss in better_losses(comparisons, metric) if not _inferior_on(comparisons, loss, others)}


def winning_loss(
    comparisons: pd.DataFrame, metric: str, reference: str, alpha: float, losses: Collection[str] = ()
) -> tuple[str | None, str]:
    """The loss the report's verdict promotes on ``metric``, and why.

    A loss wins when it is significantly better than the reference on ``metric`` (Holm over the
    family of primary metrics x losses) and its interval rules out being worse than the
    reference by the non-inferiority margin on every other primary metric. Among several such
    losses (never tested against each other) the one whose interval's worse end is best wins: the
    choice least likely to be undone by the noise, not the largest mean.

    Args:
        comparisons: the report's comparisons table (``loss``, ``metric``, ``family``,
            ``mean_diff``, ``ci_low``, ``ci_high``, ``p_holm``, ``verdict``, ``margin``,
            ``non_inferior``).
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
    if (rows["verdict"] == "not testable").all():
        return reference, (
            f"one run per fold: the design cannot separate the losses from training noise on {metric}; "
            f"the reference {reference} keeps it"
        )
    better = rows[rows["verdict"] == "better"]
    if len(better) == 0:
        return reference, (
            f"no loss is significantly better than the reference {reference} on {metric} "
            f"(run-aware t test, Holm over losses x primary metrics, alpha {alpha:g}): the reference keeps it"
        )
    others = _other_primary(comparisons, metric)
    refused = {str(loss): _inferior_on(comparisons, str(loss), others) for loss in better["loss"]}
    eligible = better[[not refused[str(loss)] for loss in better["loss"]]]
    refusals = "; ".join(
        f"{loss} is better on {metric} but not shown non-inferior on {', '.join(ms)}"
        for loss, ms in refused.items()
        if ms
    )
    if len(eligible) == 0:
        return reference, f"{refusals} (margins in parameters_reporting.yml): the reference {reference} keeps it"
    worse_end = "ci_low" if higher_is_better(metric) else "ci_high"
    best = eligible.sort_values(worse_end, ascending=not higher_is_better(metric), kind="stable").iloc[0]
    reason = (
        f"{best['loss']} is significantly better than the reference {reference} on {metric}: difference "
        f"{best['mean_diff']:+.4g} [{best['ci_low']:.4g}, {best['ci_high']:.4g}], Holm p = {best['p_holm']:.3g}"
    )
    if others:
        reason += f", and non-inferior on {', '.join(others)}"
    if len(eligible) > 1:
        rest = ", ".join(sorted(set(eligible["loss"]) - {best["loss"]}))
        reason += f"; also eligible: {rest} (not tested against each other; the best worse-end of the interval chosen)"
    if refusals:
        reason += f"; {refusals}"
    return str(best["loss"]), reason


@dataclass(frozen=True)
class AliasTarget:
    """Where an alias points now: a version, the dataset its model was trained on and its loss.

    Attributes:
        version: the version number.
        dataset_fingerprint: the version's ``dataset_fingerprint`` tag (empty: unknown).
        loss: the version's ``loss`` tag (empty: unknown).
    """

    version: str
    dataset_fingerprint: str = ""
    loss: str = ""


@dataclass(frozen=True)
class AliasChoice:
    """The loss an alias goes to by the verdict, and why.

    Attributes:
        alias: e.g. ``best-cldice``.
        metric: the metric (empty for the reference alias).
        loss: the loss whose ensemble the alias goes to (``None``: none).
        reason: the verdict behind it.
        leave: the report may not promote: the alias is left as it is.
        fallback: the verdict's own winner when the alias stays on another loss still eligible
            (``loss``): the alias goes there if ``loss`` has no registered ensemble.
    """

    alias: str
    metric: str
    loss: str | None
    reason: str
    leave: bool = False
    fallback: str | None = None

    def losses(self) -> list[str]:
        """The losses whose ensembles this choice may need."""
        return [loss for loss in (self.loss, self.fallback) if loss and not self.leave]


def better_losses(comparisons: pd.DataFrame, metric: str) -> set[str]:
    """The losses the comparisons judged significantly better than the reference on ``metric``."""
    if len(comparisons) == 0:
        return set()
    rows = comparisons[(comparisons["metric"] == metric) & (comparisons["verdict"] == "better")]
    return {str(loss) for loss in rows["loss"]}


class _Alias:
    """One alias across the study's registered model names: where it points now, and which of
    those places hold a model trained on other data (never moved or removed by this report)."""

    def __init__(self, alias: str, current: Mapping[tuple[str, str], AliasTarget], fingerprints: set[str]) -> None:
        self.alias = alias
        pointed = {name: target for (name, a), target in current.items() if a == alias}
        self.foreign = {
            name: target
            for name, target in pointed.items()
            if target.dataset_fingerprint and fingerprints and target.dataset_fingerprint not in fingerprints
        }
        self.ours = {name: target.version for name, target in pointed.items() if name not in self.foreign}
        self.losses = {target.loss for name, target in pointed.items() if name not in self.foreign and target.loss}


def _empty_row(alias: str, metric: str, loss: str | None) -> dict:
    row = dict.fromkeys(PROMOTION_COLUMNS, "") | {"alias": alias, "metric": metric, "loss": loss or ""}
    return row | {"members": pd.NA}


def _removed(alias: str, metric: str, loss: str | None, name: str, version: str, reason: str) -> dict:
    return _empty_row(alias, metric, loss) | {
        "model_name": name,
        "action": "removed",
        "previous_version": version,
        "reason": reason,
    }


def _left(alias: str, metric: str, loss: str | None, name: str, target: AliasTarget, reason: str) -> dict:
    """An alias on a model trained on other data: left as it is, and said so."""
    why = (
        f"{reason}; but {name}@{alias} points at version {target.version}, a model trained on other data (dataset "
        f"fingerprint {target.dataset_fingerprint[:12]}): left as it is. Delete that alias in MLflow, or give this "
        f"dataset's runs their own training.registered_model_name"
    )
    return _empty_row(alias, metric, loss) | {"model_name": name, "action": "none", "reason": why}


def _rows(state: _Alias, choice: AliasChoice, ensemble: Mapping | None) -> list[dict]:
    """The alias's rows: kept when it points at the loss's ensemble, else set or moved to it;
    removed from the study's other model names, and removed when there is no ensemble (an alias
    left on the previous verdict's model would misname the study's winner)."""
    alias, metric, loss, reason = choice.alias, choice.metric, choice.loss, choice.reason
    if loss is None or ensemble is None or "refused" in ensemble:
        if loss is not None:
            why = ensemble["refused"] if ensemble else "the report registered none"
            reason += f"; but no ensemble of {loss} was registered: {why}"
        removed = [
            _removed(alias, metric, loss, name, version, f"{reason}; removed from version {version}")
            for name, version in sorted(state.ours.items())
        ]
        left = [_left(alias, metric, loss, name, target, reason) for name, target in sorted(state.foreign.items())]
        return removed + left or [_empty_row(alias, metric, loss) | {"action": "none", "reason": reason}]
    name, version = str(ensemble["model_name"]), str(ensemble["version"])
    if name in state.foreign:
        return [_left(alias, metric, loss, name, state.foreign[name], reason)]
    previous = state.ours.get(name, "")
    if previous == version:
        action, why = "kept", "verdict unchanged"
    elif previous:
        action, why = "moved", f"moved from version {previous}"
    else:
        action, why = "set", "new alias"
    members = ensemble["members"]
    row = _empty_row(alias, metric, loss) | {
        "model_name": name,
        "version": version,
        "members": len(members),
        "member_run_ids": ";".join(str(m["run_id"]) for m in members),
        "postprocessing": str(ensemble["postprocessing"]["mode"]),
        "action": action,
        "previous_version": previous if action == "moved" else "",
        "reason": f"{reason}; {why}; the ensemble of its {len(members)} network(s) (every fold x seed)",
    }
    elsewhere = f"{alias} is now on {name} version {version}"
    others = [
        _removed(alias, metric, loss, other, old, f"{elsewhere}; removed from version {old}")
        for other, old in sorted(state.ours.items())
        if other != name
    ]
    return [row, *others]


def choose_losses(
    runs: Sequence[RunRecord],
    comparisons: pd.DataFrame,
    reference: str,
    current: Mapping[tuple[str, str], AliasTarget],
    settings: PromotionSettings,
    refusal: str | None = None,
) -> list[AliasChoice]:
    """The loss each alias goes to by the verdict: the ``best-<metric>`` ones in the order of
    ``settings.metrics``, then the reference alias.

    An alias already on a model of a loss that is still significantly better than the reference
    (and non-inferior on the other primary metrics) stays on that loss, even when another such
    loss now has the higher mean (the two were never tested against each other). Nothing moves
    when the report itself cannot carry a verdict (``refusal``: selection-biased numbers, an
    incomplete grid).

    Args:
        runs: the reported runs.
        comparisons: the report's comparisons table.
        reference: the reference loss.
        current: ``(model name, alias)`` -> where the alias points now.
        settings: which aliases.
        refusal: why the report may not promote at all (``None``: it may).
    """
    aliases = [(alias_of(m), m) for m in settings.metrics]
    if refusal:
        aliases += [(settings.reference_alias, "")] if settings.reference_alias else []
        return [
            AliasChoice(alias, metric, None, f"promotion refused: {refusal}", leave=True) for alias, metric in aliases
        ]
    fingerprints = {run.tags.get("dataset_fingerprint", "") for run in runs} - {""}
    choices = []
    for alias, metric in aliases:
        state = _Alias(alias, current, fingerprints)
        loss, reason = winning_loss(comparisons, metric, reference, settings.alpha, {run.loss for run in runs})
        eligible = eligible_losses(comparisons, metric)
        staying = sorted((state.losses & eligible) - {loss})
        if loss in eligible and staying:
            reason += (
                f"; the alias stays on {staying[0]}, also significantly better than the reference and non-inferior "
                f"on the other primary metrics (the two were not tested against each other)"
            )
            choices.append(AliasChoice(alias, metric, staying[0], reason, fallback=loss))
            continue
        choices.append(AliasChoice(alias, metric, loss, reason))
    if settings.reference_alias:
        choices.append(
            AliasChoice(settings.reference_alias, "", reference, f"the reference loss of the comparisons, {reference}")
        )
    return choices


def plan_promotions(
    choices: Sequence[AliasChoice],
    ensembles: Mapping[str, Mapping],
    current: Mapping[tuple[str, str], AliasTarget],
    fingerprints: Collection[str],
    enabled: bool = True,
) -> pd.DataFrame:
    """Where each alias should point after this report.

    Args:
        choices: :func:`choose_losses`.
        ensembles: loss -> its registered ensemble (``model_name``, ``version``, ``members``,
            ``postprocessing``) or ``{"refused": reason}``
            (:class:`~minivess_kedro.datasets.ensemble_registry_dataset.EnsembleRegistryDataset`).
        current: ``(model name, alias)`` -> where the alias points now.
        fingerprints: the reported runs' dataset fingerprints (an alias on a model of other data
            is never moved or removed).
        enabled: false: nothing was registered and nothing is set; each row says which loss's
            ensemble the alias would go to.

    Returns:
        The rows (:data:`PROMOTION_COLUMNS`): per alias one row, in the order of ``choices``,
        plus a ``removed`` row for each other model name of the study that held the alias.
    """
    rows = []
    for given in choices:
        choice = given
        if choice.leave:
            rows.append(_empty_row(choice.alias, choice.metric, None) | {"action": "none", "reason": choice.reason})
            continue
        if not enabled:
            would = f"would go to the ensemble of {choice.loss}" if choice.loss else "would be removed"
            why = f"{choice.reason}; {would} (nothing registered or set: reporting.promotion.enabled is false)"
            rows.append(_empty_row(choice.alias, choice.metric, choice.loss) | {"action": "none", "reason": why})
            continue
        state = _Alias(choice.alias, current, set(fingerprints))
        ensemble = None if choice.loss is None else ensembles.get(choice.loss)
        if choice.fallback and (ensemble is None or "refused" in ensemble):  # the verdict's winner, then
            why = (ensemble or {}).get("refused", "none registered")
            reason = f"{choice.reason}; but no ensemble of {choice.loss} ({why}): it goes to {choice.fallback}"
            choice = replace(choice, loss=choice.fallback, reason=reason, fallback=None)
            ensemble = ensembles.get(choice.loss)
        rows += _rows(state, choice, ensemble)
    return pd.DataFrame(rows, columns=list(PROMOTION_COLUMNS))


def as_text(value: object) -> str:
    """A table cell as text: ``""`` when empty, ``"3"`` for a version a CSV read back as 3.0."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def alias_assignments(promotions: pd.DataFrame) -> dict[str, dict[str, str]]:
    """``{model name: {alias: version}}`` of the aliases to set (``set`` and ``moved`` rows) and,
    with version ``""``, to remove (``removed`` rows); the table may come back from its CSV file."""
    assignments: dict[str, dict[str, str]] = {}
    for row in promotions[promotions["action"].isin(("set", "moved", "removed"))].itertuples():
        version = "" if row.action == "removed" else as_text(row.version)
        assignments.setdefault(as_text(row.model_name), {})[as_text(row.alias)] = version
    return assignments
