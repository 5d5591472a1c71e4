"""Display versions of the result tables: one row per loss, one column per metric, text cells."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from minivess_kedro.reporting.metric_info import higher_is_better, metric_label

_DECIMALS = {"dsc": 3, "cldice": 3, "nsd": 3}


def number(metric: str, value: float, signed: bool = False) -> str:
    """``value`` with the metric's decimals (3 for scores in [0, 1], 2 otherwise); ``–`` for NaN."""
    if value is None or value is pd.NA or math.isnan(float(value)):
        return "–"
    return f"{float(value):{'+' if signed else ''}.{_DECIMALS.get(metric, 2)}f}"


def interval(metric: str, low: float, high: float, signed: bool = False) -> str:
    """``[low, high]``, or ``''`` when the interval is undefined."""
    if math.isnan(low) or math.isnan(high):
        return ""
    return f"[{number(metric, low, signed)}, {number(metric, high, signed)}]"


def p_text(p: float) -> str:
    """A p-value to two significant digits, ``<0.001`` below that."""
    if math.isnan(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.2g}"


def entry_name(loss: str, kind: str, reference: str) -> str:
    """Row label: baselines and the reference loss are marked."""
    if kind == "baseline":
        return f"{loss} (baseline)"
    return f"{loss} (reference)" if loss == reference else loss


def loss_display(table: pd.DataFrame, metrics: Sequence[str], reference: str, unit: str) -> pd.DataFrame:
    """Loss table as ``mean [CI]`` per metric, with fold, seed and volume counts."""
    rows = []
    for (loss, kind), group in table.groupby(["loss", "kind"], sort=False):
        by_metric = group.set_index("metric")
        row = {"loss": entry_name(loss, kind, reference)}
        for m in metrics:
            r = by_metric.loc[m]
            row[metric_label(m, unit)] = f"{number(m, r['mean'])} {interval(m, r['ci_low'], r['ci_high'])}".strip()
        first = group.iloc[0]
        row["folds"] = "–" if pd.isna(first["n_folds"]) else str(int(first["n_folds"]))
        row["seeds"] = "–" if pd.isna(first["n_seeds"]) else str(int(first["n_seeds"]))
        row["volumes"] = str(int(first["n_volumes"]))
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_display(table: pd.DataFrame, metrics: Sequence[str], unit: str, alpha: float) -> pd.DataFrame:
    """Comparisons as ``Δ (run SD s) [CI] p=p_Holm`` per metric; ``*`` marks p_Holm <= alpha.

    The run SD (the estimated training noise of the difference) stands next to the difference; with
    one run per fold there is none, and the cell says ``not testable``.
    """
    rows = []
    for loss, group in table.groupby("loss", sort=False):
        by_metric = group.set_index("metric")
        row = {"loss": loss, "volumes": str(int(group["n_volumes"].max()))}
        for m in metrics:
            r = by_metric.loc[m]
            if r["n_pairs"] == 0:
                row[metric_label(m, unit)] = "no common volumes"
                continue
            diff = number(m, r["mean_diff"], signed=True)
            if r["verdict"] == "not testable":
                row[metric_label(m, unit)] = f"{diff} (not testable: one run per fold)"
                continue
            star = " *" if r["p_holm"] <= alpha else ""
            ci = interval(m, r["ci_low"], r["ci_high"], signed=True)
            spread = "" if math.isnan(r["run_sd"]) else f" (run SD {number(m, r['run_sd'])})"
            row[metric_label(m, unit)] = f"{diff}{spread} {ci} p={p_text(r['p_holm'])}{star}".replace("  ", " ")
        rows.append(row)
    return pd.DataFrame(rows)


def fold_display(table: pd.DataFrame, metrics: Sequence[str], unit: str) -> pd.DataFrame:
    """Per-run means: one row per loss x fold x seed."""
    wide = table.pivot_table(index=["loss", "fold_idx", "seed"], columns="metric", values="mean", sort=False)
    rows = []
    for (loss, fold, seed), r in wide.iterrows():
        cells = {metric_label(m, unit): number(m, r[m]) for m in metrics}
        rows.append({"loss": loss, "fold": str(fold), "seed": str(seed), **cells})
    return pd.DataFrame(rows)


def effect_display(table: pd.DataFrame, metrics: Sequence[str], unit: str) -> pd.DataFrame:
    """Post-processing effect: ``mean (Δ [CI])`` per metric, one row per loss x post-processing."""
    rows = []
    for (loss, post), group in table.groupby(["loss", "postprocessing"], sort=False):
        by_metric = group.set_index("metric")
        row = {"loss": loss, "post-processing": post}
        for m in metrics:
            r = by_metric.loc[m]
            cell = number(m, r["mean"])
            if post != "none":
                cell += (
                    f" (Δ {number(m, r['diff_to_none'], signed=True)} {interval(m, r['ci_low'], r['ci_high'], True)})"
                )
            row[metric_label(m, unit)] = cell.replace(" )", ")")
        rows.append(row)
    return pd.DataFrame(rows)


def headline(loss_table: pd.DataFrame, comparisons: pd.DataFrame, metric: str, reference: str, unit: str) -> str:
    """One line: the best loss on ``metric`` and how it compares with the reference."""
    rows = loss_table[(loss_table["metric"] == metric) & (loss_table["kind"] == "loss")]
    best = rows.loc[rows["mean"].idxmax() if higher_is_better(metric) else rows["mean"].idxmin()]
    text = (
        f"**{metric_label(metric, unit)}**: best `{best['loss']}` {number(metric, best['mean'])} "
        f"{interval(metric, best['ci_low'], best['ci_high'])}"
    ).rstrip()
    match = comparisons[(comparisons["loss"] == best["loss"]) & (comparisons["metric"] == metric)]
    if best["loss"] == reference:
        return text + " (the reference)."
    if len(match) and match.iloc[0]["n_pairs"] > 0:
        r = match.iloc[0]
        ci = interval(metric, r["ci_low"], r["ci_high"], signed=True)
        diff = number(metric, r["mean_diff"], signed=True)
        text += f"; vs `{reference}` {diff} {ci}, Holm p={p_text(r['p_holm'])}: {r['verdict']}"
    return text + "."


def below_run_spread(comparisons: pd.DataFrame, metric: str, unit: str, reference: str) -> str | None:
    """One sentence naming the losses whose ``|mean_diff|`` on ``metric`` is below its training noise."""
    rows = comparisons[comparisons["metric"] == metric]
    small = rows[rows["mean_diff"].abs() < rows["run_sd"]]
    if small.empty:
        return None
    items = ", ".join(
        f"`{r.loss}` ({number(metric, r.mean_diff, signed=True)}, run SD {number(metric, r.run_sd)})"
        for r in small.itertuples()
    )
    return (
        f"**{metric_label(metric, unit)}**: the differences of {items} from `{reference}` are smaller than the "
        "run-to-run spread: one retraining could change their sign."
    )


def detectable_sentence(comparisons: pd.DataFrame, metric: str, unit: str, alpha: float) -> str | None:
    """What the design can detect on ``metric``: the smallest true difference found with 80% power.

    From each comparison's own standard error (training noise included) at Holm's first step of its
    family; with several losses the median is given.
    """
    rows = comparisons[(comparisons["metric"] == metric) & (comparisons["n_pairs"] > 0)]
    if rows.empty:
        return None
    start = f"**{metric_label(metric, unit)}**:"
    if (rows["verdict"] == "not testable").all():
        return f"{start} nothing is detectable: one run per fold, training noise cannot be estimated."
    m = int(comparisons[comparisons["family"] == rows["family"].iloc[0]]["p_holm"].notna().sum())
    value = float(rows["detectable_diff"].median())
    runs = int(rows["n_runs"].median())
    return (
        f"{start} with {runs} paired runs this design detects true differences of about {number(metric, value)} "
        f"(80% power, Holm alpha/m = {alpha:.2g}/{m}, training noise included)."
    )
