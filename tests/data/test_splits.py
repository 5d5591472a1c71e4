"""Splits: the previous study's folds exactly, held-out test sets, nested folds, validation of user files."""

from __future__ import annotations

import json

import pytest

from minivess_kedro.data.splits import (
    SplitError,
    load_split_file,
    make_splits,
    select_fold,
    split_protocol,
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
    assert splits["test"] == [] and splits["seed"] == 42 and splits["protocol"] == "previous"
    for fold in splits["folds"]:
        assert sorted(fold["train"] + fold["val"]) == IDS


def test_held_out_test_set_is_drawn_first_and_excluded() -> None:
    splits = make_splits(IDS, num_folds=3, seed=42, test_size=10)

    assert len(splits["test"]) == 10 and splits["protocol"] == "holdout"
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
    assert fold["test"] == splits["test"] and fold["protocol"] == "holdout"
    nested = make_splits(IDS, protocol="nested")
    fold = select_fold(nested, 2)
    assert fold["test"] == nested["folds"][2]["test"] and fold["protocol"] == "nested"
    assert fold["train"] == nested["folds"][2]["train"] and fold["val"] == nested["folds"][2]["val"]
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


def test_nested_tests_every_volume_once_on_the_previous_folds() -> None:
    splits = make_splits(reversed(IDS), num_folds=3, seed=42, protocol="nested")

    assert splits["protocol"] == "nested" and splits["test"] == [] and splits["val_size"] == 0.2
    tests = [fold["test"] for fold in splits["folds"]]
    assert sorted(i for test in tests for i in test) == IDS  # every id tested exactly once
    assert [" ".join(test) for test in tests] == PREVIOUS_STUDY_VAL_FOLDS
    assert tests == [fold["val"] for fold in make_splits(IDS, 3, 42, 0)["folds"]]
    for fold in splits["folds"]:
        train, val, test = set(fold["train"]), set(fold["val"]), set(fold["test"])
        assert not val & test and not val & train and not train & test
        assert sorted(fold["train"] + fold["val"] + fold["test"]) == IDS
        assert fold["val"] == sorted(fold["val"]) and fold["train"] == sorted(fold["train"])
    assert [len(f["val"]) for f in splits["folds"]] == [9, 9, 9]  # round(0.2 * 46 or 47)
    validate_splits(splits, IDS)


def test_nested_is_seeded() -> None:
    first, again = make_splits(IDS, protocol="nested"), make_splits(list(reversed(IDS)), protocol="nested")
    assert first == again
    other = make_splits(IDS, seed=7, protocol="nested")
    assert [f["val"] for f in other["folds"]] != [f["val"] for f in first["folds"]]
    assert other["folds"][0]["test"] != first["folds"][0]["test"]
    # The inner draws differ between folds, not only by the excluded test fold.
    assert first["folds"][1]["val"] != sorted(set(first["folds"][0]["val"]) - set(first["folds"][1]["test"]))


def test_nested_ignores_test_size_and_takes_val_size_as_count_or_fraction() -> None:
    assert make_splits(IDS, test_size=10, protocol="nested") == make_splits(IDS, protocol="nested")
    by_count = make_splits(IDS, protocol="nested", val_size=5)
    assert [len(f["val"]) for f in by_count["folds"]] == [5, 5, 5] and by_count["val_size"] == 5
    by_fraction = make_splits(IDS, protocol="nested", val_size=0.5)
    assert [len(f["val"]) for f in by_fraction["folds"]] == [23, 24, 24]  # round(0.5 * 46), round(0.5 * 47)


@pytest.mark.parametrize(
    ("ids", "kwargs", "message"),
    [
        (IDS[:2], {}, "2 volumes cannot fill 3 outer folds"),
        (IDS[:4], {}, "fold 0: val_size=0.2 gives 0 validation volume"),  # round(0.2 * 2) = 0
        (IDS[:3], {"val_size": 2}, "fold 0: val_size=2 gives 2 validation volume.* at least 1 left to train"),
        (IDS[:9], {"val_size": 6}, "gives 6 validation volume"),
        (IDS[:9], {"val_size": 2.5}, "val_size must be a whole count"),
    ],
)
def test_nested_too_small_or_bad_sizes(ids, kwargs, message) -> None:
    make_splits(IDS[:3], num_folds=3, protocol="nested", val_size=1)  # the smallest that works: 1 train, 1 val, 1 test
    with pytest.raises(SplitError, match=message):
        make_splits(ids, num_folds=3, protocol="nested", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"protocol": "nest"}, "unknown protocol 'nest': expected one of nested, holdout, previous"),
        ({"protocol": "holdout"}, "'holdout' needs test_size > 0; use protocol 'previous'"),
        ({"protocol": "previous", "test_size": 10}, "'previous' has no test set"),
    ],
)
def test_protocol_must_fit_the_test_size(kwargs, message) -> None:
    with pytest.raises(SplitError, match=message):
        make_splits(IDS, **kwargs)
    assert make_splits(IDS, protocol="holdout", test_size=10) == make_splits(IDS, test_size=10)


def test_nested_file_problems_are_all_listed() -> None:
    splits = make_splits(IDS[:9], num_folds=3, protocol="nested")
    twice = splits["folds"][0]["test"][0]
    splits["folds"][1]["test"].append(twice)  # tested twice ...
    splits["folds"][1]["train"].remove(twice)
    never = splits["folds"][2]["test"].pop()  # ... never tested
    splits["folds"][2]["train"].append(never)
    splits["folds"][2]["train"] += splits["folds"][2]["val"]  # a fold without inner validation
    splits["folds"][2]["val"] = []

    with pytest.raises(SplitError) as caught:
        validate_splits(splits, IDS[:9], source="nested.json")

    message = str(caught.value)
    assert f"nested.json: fold 1: {twice!r} is also test in fold 0" in message
    assert f"nested.json: {never!r} is never in a test set" in message
    assert "nested.json: fold 2: has no val ids" in message
    assert message.startswith("3 problem(s)")


def test_nested_file_shape_problems() -> None:
    splits = make_splits(IDS[:9], num_folds=3, protocol="nested")
    del splits["folds"][0]["val"]
    splits["folds"][1]["val"].append(splits["folds"][1]["test"][0])  # inner val from the test fold
    splits["test"] = ["mv01"]

    with pytest.raises(SplitError) as caught:
        validate_splits(splits, IDS[:9])

    message = str(caught.value)
    assert "fold 0: needs 'train', 'val' and 'test' lists" in message
    assert "fold 1: '" in message and "is in both val and test" in message
    assert "non-empty top-level 'test' cannot be combined with per-fold 'test' lists" in message


def test_protocol_is_read_from_the_shape_of_a_file_without_one() -> None:
    assert split_protocol({"folds": [{"train": [], "val": [], "test": []}]}) == "nested"
    assert split_protocol({"test": ["mv01"], "folds": [{"train": [], "val": []}]}) == "holdout"
    assert split_protocol({"test": [], "folds": [{"train": [], "val": []}]}) == "previous"
    assert split_protocol({"protocol": "holdout", "test": [], "folds": []}) == "holdout"
    user = {"test": IDS[:10], "folds": make_splits(IDS[10:], num_folds=2)["folds"]}
    assert select_fold(user, 0)["protocol"] == "holdout" and select_fold(user, 0)["test"] == IDS[:10]
