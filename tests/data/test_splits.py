"""Splits: the previous study's folds exactly, held-out test sets, validation of user files."""

from __future__ import annotations

import json

import pytest

from minivess_kedro.data.splits import (
    SplitError,
    load_split_file,
    make_splits,
    select_fold,
    validate_splits,
)

IDS = [f"mv{i:02d}" for i in range(1, 71)]
PREVIOUS_STUDY_VAL_FOLDS = [  # the fold lists, verbatim
    "mv02 mv05 mv11 mv14 mv15 mv16 mv20 mv26 mv27 mv31 mv32 mv38 mv40 mv43 mv45 mv46 mv50 mv54 mv55 mv58 mv61 mv62 mv69 mv70",  # noqa: E501
    "mv01 mv03 mv06 mv08 mv13 mv18 mv19 mv21 mv22 mv24 mv30 mv36 mv37 mv39 mv47 mv48 mv49 mv51 mv53 mv60 mv64 mv66 mv67",  # noqa: E501
    "mv04 mv07 mv09 mv10 mv12 mv17 mv23 mv25 mv28 mv29 mv33 mv34 mv35 mv41 mv42 mv44 mv52 mv56 mv57 mv59 mv63 mv65 mv68",  # noqa: E501
]


def test_reproduces_the_previous_study_folds() -> None:
    splits = make_splits(reversed(IDS), num_folds=3, seed=42, test_size=0)

    assert [" ".join(f["val"]) for f in splits["folds"]] == PREVIOUS_STUDY_VAL_FOLDS
    assert [len(f["val"]) for f in splits["folds"]] == [24, 23, 23]
    assert splits["test"] == [] and splits["seed"] == 42
    for fold in splits["folds"]:
        assert sorted(fold["train"] + fold["val"]) == IDS


def test_held_out_test_set_is_drawn_first_and_excluded() -> None:
    splits = make_splits(IDS, num_folds=3, seed=42, test_size=10)

    assert len(splits["test"]) == 10
    vals = [set(f["val"]) for f in splits["folds"]]
    assert set().union(*vals) == set(IDS) - set(splits["test"])
    assert sum(len(v) for v in vals) == 60
    validate_splits(splits, IDS)
    # The same seed draws the same test set, and a fraction means a share of the ids.
    assert make_splits(IDS, test_size=10)["test"] == splits["test"]
    assert len(make_splits(IDS, test_size=0.1)["test"]) == 7


def test_other_seed_gives_other_folds() -> None:
    assert make_splits(IDS, seed=1)["folds"][0]["val"] != make_splits(IDS, seed=42)["folds"][0]["val"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_folds": 1}, "at least 2"),
        ({"test_size": -1}, "test_size"),
        ({"test_size": 69}, "cannot fill 3 folds"),
        ({"test_size": 2.5}, "whole count"),
    ],
)
def test_bad_arguments(kwargs, message) -> None:
    with pytest.raises(SplitError, match=message):
        make_splits(IDS, **kwargs)


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(SplitError, match="duplicate ids: \\['mv01'\\]"):
        make_splits(["mv01", "mv01", "mv02", "mv03"])


def test_user_split_file_problems_are_all_listed() -> None:
    splits = make_splits(IDS[:9], num_folds=3, test_size=0)
    splits["folds"][0]["train"].append("mv99")  # unknown id
    splits["folds"][1]["train"].append(splits["folds"][1]["val"][0])  # train/val overlap
    moved = splits["folds"][2]["val"].pop()  # never val ...
    splits["folds"][2]["train"].append(moved)  # ... but still used

    with pytest.raises(SplitError) as caught:
        validate_splits(splits, IDS[:9], source="my_splits.json")

    message = str(caught.value)
    assert "fold 0: train id 'mv99' is not in the dataset" in message
    assert "fold 1: '" in message and "is in both train and val" in message
    assert f"'{moved}' is never in a val set" in message


def test_fold_selection() -> None:
    splits = make_splits(IDS, test_size=10)
    fold = select_fold(splits, 1)
    assert fold["fold_idx"] == 1 and fold["val"] == splits["folds"][1]["val"]
    assert fold["test"] == splits["test"]
    with pytest.raises(SplitError, match="fold_idx=3 is out of range: the splits have folds 0..2"):
        select_fold(splits, 3)


def test_split_file_formats_and_errors(tmp_path) -> None:
    nnunet = tmp_path / "splits_final.json"
    nnunet.write_text(json.dumps([{"train": ["mv02"], "val": ["mv01"]}, {"train": ["mv01"], "val": ["mv02"]}]))
    loaded = load_split_file(nnunet)
    validate_splits(loaded, ["mv01", "mv02"])
    assert loaded["test"] == []

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SplitError, match="broken.json: split file is not valid JSON"):
        load_split_file(broken)
    with pytest.raises(SplitError, match="missing.json: split file cannot be read"):
        load_split_file(tmp_path / "missing.json")
    with pytest.raises(SplitError, match="non-empty 'folds'"):
        validate_splits({"test": []}, ["mv01"])
