"""The evaluation's registry record names the weights it scored, so a promotion can check them."""

from __future__ import annotations

import pandas as pd
import torch

from minivess_kedro.pipelines.evaluation.record import record_evaluation
from minivess_kedro.training.distributed import state_digest
from minivess_kedro.training.lineage import lineage_digest, model_lineage


def test_the_record_holds_the_digest_of_the_evaluated_best_model() -> None:
    fold = {"fold_idx": 0, "train": ["mv01"], "val": ["mv02"], "test": ["mv03"]}
    lineage = model_lineage("dice_ce", fold, 0, "abc")
    table = pd.DataFrame({"id": ["mv03"], "lineage_sha256": [lineage_digest(lineage)]})
    summary = pd.DataFrame(columns=["split", "postprocessing", "metric", "mean", "ci_low", "ci_high"])
    weights = {"conv.weight": torch.arange(6.0).reshape(2, 3)}
    registered = {"run_id": "r1", "registered_model": "minivess-dynunet", "version": "4"}
    *_, record = record_evaluation(table, summary, lineage, table, "dice_ce", 0, fold, registered, weights)
    assert record == registered | {"evaluated_weights_sha256": state_digest(weights)}
    other = {"conv.weight": torch.arange(6.0).reshape(2, 3) + 1}
    *_, changed = record_evaluation(table, summary, lineage, table, "dice_ce", 0, fold, registered, other)
    assert changed["evaluated_weights_sha256"] != record["evaluated_weights_sha256"]
