"""K-fold cross-validation splits with an optional held-out test set (nnU-Net file shape).

The default reproduces the previous study's ``3fold_seed42.json``: sort the ids, shuffle the
index list ``0..n-1`` with ``random.Random(seed)``, give the i-th shuffled index to fold
``i % k``. A held-out test set takes the first ``test_size`` shuffled indices, so that
``test_size=0`` is exactly the previous protocol.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

STRATEGY = "sorted_ids_python_random_shuffle_round_robin"


class SplitError(ValueError):
    """Splits that are inconsistent with the dataset; the message lists every problem."""


def _test_count(test_size: float, num_ids: int) -> int:
    if isinstance(test_size, bool) or test_size < 0:
        raise SplitError(f"test_size must be a count >= 0 or a fraction in (0, 1), got {test_size!r}")
    if isinstance(test_size, float) and test_size < 1:
        return round(test_size * num_ids)
    if float(test_size) != int(test_size):
        raise SplitError(f"test_size must be a whole count or a fraction below 1, got {test_size!r}")
    return int(test_size)


def make_splits(ids: Iterable[str], num_folds: int = 3, seed: int = 42, test_size: float = 0) -> dict:
    """Builds the splits of a study.

    Args:
        ids: the volume ids (any order; they are sorted first).
        num_folds: number of cross-validation folds, at least 2.
        seed: seed of Python's ``random.Random`` shuffle.
        test_size: held-out volumes: a count (``10``) or a fraction (``0.15``); 0 for none.

    Returns:
        ``{"test": [...], "folds": [{"train": [...], "val": [...]}, ...], "seed", "strategy",
        "num_folds", "test_size"}`` with sorted id lists.

    Raises:
        SplitError: duplicate ids, fewer than 2 folds, or too few volumes for the folds.
    """
    ordered = sorted(ids)
    if len(set(ordered)) != len(ordered):
        duplicates = sorted({i for i in ordered if ordered.count(i) > 1})
        raise SplitError(f"duplicate ids: {duplicates}")
    if num_folds < 2:
        raise SplitError(f"num_folds must be at least 2, got {num_folds}")
    num_test = _test_count(test_size, len(ordered))
    if len(ordered) - num_test < num_folds:
        raise SplitError(f"{len(ordered)} volumes minus {num_test} held out cannot fill {num_folds} folds")
    order = list(range(len(ordered)))
    random.Random(seed).shuffle(order)
    test = sorted(ordered[i] for i in order[:num_test])
    vals: list[list[str]] = [[] for _ in range(num_folds)]
    for position, index in enumerate(order[num_test:]):
        vals[position % num_folds].append(ordered[index])
    pool = set(ordered) - set(test)
    folds = [{"train": sorted(pool - set(val)), "val": sorted(val)} for val in vals]
    return {
        "test": test,
        "folds": folds,
        "seed": seed,
        "strategy": STRATEGY,
        "num_folds": num_folds,
        "test_size": num_test,
    }


def validate_splits(splits: dict, ids: Sequence[str], source: str = "splits") -> None:
    """Checks that splits fit the dataset.

    Every id exists; no id is in two of test/train/val of one fold; every fold's train and val
    together are exactly the non-test ids; the folds' val sets cover every non-test id once.

    Args:
        splits: the splits dict (see :func:`make_splits`).
        ids: the dataset's volume ids.
        source: name of the file or object, used in the message.

    Raises:
        SplitError: listing every problem.
    """
    if not isinstance(splits, dict) or not isinstance(splits.get("folds"), list) or not splits["folds"]:
        raise SplitError(f"{source}: expected an object with a non-empty 'folds' list (and optional 'test')")
    known = set(ids)
    test = list(splits.get("test", []))
    problems = [f"{source}: test id {i!r} is not in the dataset" for i in sorted(set(test) - known)]
    val_owner: dict[str, int] = {}
    for index, fold in enumerate(splits["folds"]):
        where = f"{source}: fold {index}"
        if not isinstance(fold, dict) or not {"train", "val"} <= set(fold):
            problems.append(f"{where}: needs 'train' and 'val' lists")
            continue
        train, val = list(fold["train"]), list(fold["val"])
        for name, group in (("train", train), ("val", val)):
            problems += [f"{where}: {name} id {i!r} is not in the dataset" for i in sorted(set(group) - known)]
            problems += [f"{where}: {name} lists {i!r} twice" for i in sorted({i for i in group if group.count(i) > 1})]
        for first, second, a, b in (
            ("train", "val", train, val),
            ("train", "test", train, test),
            ("val", "test", val, test),
        ):
            problems += [f"{where}: {i!r} is in both {first} and {second}" for i in sorted(set(a) & set(b))]
        unused = known - set(test) - set(train) - set(val)
        problems += [f"{where}: {i!r} is in neither train, val nor test" for i in sorted(unused)]
        for volume_id in val:
            if volume_id in val_owner:
                problems.append(f"{where}: {volume_id!r} is also val in fold {val_owner[volume_id]}")
            val_owner.setdefault(volume_id, index)
    never_val = known - set(test) - set(val_owner)
    problems += [f"{source}: {i!r} is never in a val set" for i in sorted(never_val)]
    if problems:
        raise SplitError(f"{len(problems)} problem(s) with the splits:\n  " + "\n  ".join(problems))


def load_split_file(path: str | os.PathLike) -> dict:
    """Reads a user's split file (JSON, nnU-Net shape); names the file on any error."""
    path = Path(path)
    try:
        splits = json.loads(path.read_text())
    except OSError as err:
        raise SplitError(f"{path}: split file cannot be read ({err.strerror})") from err
    except json.JSONDecodeError as err:
        raise SplitError(f"{path}: split file is not valid JSON ({err})") from err
    if isinstance(splits, list):  # nnU-Net's splits_final.json: a bare list of folds
        splits = {"test": [], "folds": splits}
    return splits


def check_fold_is_current(splits: dict, fold_split: dict) -> None:
    """Raises if a per-fold split file no longer matches ``splits.json`` (splitting was rerun
    with other settings after it was written).

    Raises:
        SplitError: naming the fold and the command that rewrites it.
    """
    fold_idx = fold_split.get("fold_idx", -1)
    if not 0 <= fold_idx < len(splits["folds"]) or select_fold(splits, fold_idx) != fold_split:
        raise SplitError(
            f"splits/fold_{fold_idx}.json does not match splits.json (splitting changed since it was written); "
            f"rerun `kedro run --pipelines splitting --params fold_idx={fold_idx}` with the same --env"
        )


def select_fold(splits: dict, fold_idx: int) -> dict:
    """The split of one fold: ``{"fold_idx", "train", "val", "test", "seed", "strategy"}``.

    Raises:
        SplitError: ``fold_idx`` outside ``0..num_folds-1``.
    """
    num_folds = len(splits["folds"])
    if not 0 <= fold_idx < num_folds:
        raise SplitError(f"fold_idx={fold_idx} is out of range: the splits have folds 0..{num_folds - 1}")
    fold = splits["folds"][fold_idx]
    return {
        "fold_idx": fold_idx,
        "train": list(fold["train"]),
        "val": list(fold["val"]),
        "test": list(splits.get("test", [])),
        "seed": splits.get("seed"),
        "strategy": splits.get("strategy", "user_provided"),
    }
