"""splitting: the pipeline slice with an in-memory catalog, user split files, fold selection."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from minivess_kedro.data.splits import SplitError, make_splits
from minivess_kedro.pipelines.splitting import create_pipeline
from minivess_kedro.pipelines.splitting.params import SplittingParams

IDS = [f"mv{i:02d}" for i in range(1, 71)]


def _run(params: SplittingParams, fold_idx: int) -> dict:
    catalog = DataCatalog(
        datasets={
            "volume_manifest": MemoryDataset(pd.DataFrame({"volume_id": IDS})),
            "params:splitting": MemoryDataset(params),
            "params:fold_idx": MemoryDataset(fold_idx),
        }
    )
    outputs = SequentialRunner().run(create_pipeline(), catalog)
    return {name: dataset.load() for name, dataset in outputs.items()}


def test_pipeline_picks_the_requested_fold(caplog) -> None:
    outputs = _run(SplittingParams(protocol="previous", num_folds=3, seed=42), fold_idx=1)
    fold = outputs["fold_split"]
    assert fold["fold_idx"] == 1 and fold["protocol"] == "previous"
    assert fold["val"][:3] == ["mv01", "mv03", "mv06"] and len(fold["val"]) == 23
    assert fold["test"] == [] and len(fold["train"]) == 47
    assert "selection-biased" in caplog.text


def test_nested_is_the_default_and_tests_on_the_fold_own_volumes(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="minivess_kedro.pipelines.splitting.nodes"):
        fold = _run(SplittingParams(), fold_idx=1)["fold_split"]
    assert fold["protocol"] == "nested" and fold["test"] == make_splits(IDS, protocol="nested")["folds"][1]["test"]
    assert fold["test"][:3] == ["mv01", "mv03", "mv06"] and len(fold["test"]) == 23  # previous val fold 1
    assert sorted(fold["train"] + fold["val"] + fold["test"]) == IDS
    assert "nested: 3 outer folds, every volume tested once; inner validation 20% of the rest" in caplog.text
    assert "selection-biased" not in caplog.text


def test_holdout_keeps_a_fixed_test_set_and_needs_one() -> None:
    fold = _run(SplittingParams(protocol="holdout", test_size=10), fold_idx=0)["fold_split"]
    assert fold["protocol"] == "holdout" and len(fold["test"]) == 10
    with pytest.raises(ValueError, match=r"splitting\.test_size"):
        SplittingParams(protocol="holdout", test_size=0)
    with pytest.raises(ValueError, match="protocol"):
        SplittingParams(protocol="nest")


def test_user_split_file_is_used_and_validated(tmp_path) -> None:
    good = tmp_path / "splits.json"
    good.write_text(
        json.dumps(
            {
                "test": IDS[:10],
                "folds": [{"train": IDS[10:40], "val": IDS[40:]}, {"train": IDS[40:], "val": IDS[10:40]}],
            }
        )
    )
    fold = _run(SplittingParams(split_file=str(good)), fold_idx=1)["fold_split"]
    assert fold["val"] == IDS[10:40] and fold["test"] == IDS[:10] and fold["strategy"] == "user_provided"
    assert fold["protocol"] == "holdout"  # read from the file's shape

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"folds": [{"train": IDS[:40], "val": IDS[35:]}]}))
    with pytest.raises(SplitError, match=r"bad.json: fold 0: 'mv36' is in both train and val"):
        _run(SplittingParams(split_file=str(bad)), fold_idx=0)


def test_fold_out_of_range_names_the_valid_folds() -> None:
    with pytest.raises(SplitError, match="fold_idx=3 is out of range: the splits have folds 0..2"):
        _run(SplittingParams(), fold_idx=3)


def test_typo_in_splitting_params_is_refused() -> None:
    with pytest.raises(ValueError, match="num_fold"):
        SplittingParams(num_fold=3)
