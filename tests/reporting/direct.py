"""Straightforward recomputation of per-volume values from the fake runs, for comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd

from minivess_kedro.reporting import RunRecord


def values(runs: list[RunRecord], loss: str, metric: str, split: str = "test", post: str = "none") -> pd.DataFrame:
    """Rows fold x id (index) of ``metric`` for ``loss``, NaN distances filled with the diagonal."""
    rows = []
    for run in runs:
        if run.loss != loss:
            continue
        t = run.volume_metrics
        t = t[(t["split"] == split) & (t["postprocessing"] == post)]
        rows += [
            {"fold": run.fold_idx, "id": i, "value": v if not np.isnan(v) else d}
            for i, v, d in zip(t["id"], t[metric], t["diagonal"], strict=True)
        ]
    return pd.DataFrame(rows).set_index(["fold", "id"])["value"].sort_index()


def volume_pairs(runs: list[RunRecord], loss: str, reference: str, metric: str, post_b: str | None = None):
    """(a, b) per volume: each side averaged over the folds common to both, volumes sorted."""
    a = values(runs, loss, metric)
    b = values(runs, reference, metric, post=post_b or "none")
    common = a.index.intersection(b.index)
    a, b = a.loc[common], b.loc[common]
    return a.groupby("id").mean().to_numpy(), b.groupby("id").mean().to_numpy()


def difference_blocks(runs: list[RunRecord], loss: str, reference: str, metric: str) -> list[np.ndarray]:
    """Per fold (nested: each fold tests its own volumes) or one block (every run on the same
    volumes): the (volumes, (fold, seed) runs) table of loss - reference differences."""
    rows = []
    for run in runs:
        if run.loss not in (loss, reference):
            continue
        t = run.volume_metrics
        t = t[(t["split"] == "test") & (t["postprocessing"] == "none")]
        value = t[metric].where(t[metric].notna(), t["diagonal"])
        rows += [
            {"side": run.loss, "fold": run.fold_idx, "seed": run.seed, "id": i, "value": v}
            for i, v in zip(t["id"], value, strict=True)
        ]
    table = pd.DataFrame(rows).pivot_table(index=["fold", "seed", "id"], columns="side", values="value").dropna()
    table["d"] = table[loss] - table[reference]
    wide = table["d"].unstack(["fold", "seed"])  # volumes x runs
    if wide.notna().all().all():
        return [wide.to_numpy()]
    return [wide.loc[:, fold].dropna().to_numpy() for fold in sorted({f for f, _ in wide.columns})]
