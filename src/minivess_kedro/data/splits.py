"""Cross-validation splits of a study (nnU-Net file shape), under one of three protocols.

- ``nested`` (the study's default): k outer folds; fold k tests on outer fold k and trains and
  selects its checkpoint on the rest, early-stopping on a seeded inner validation subset. Every
  volume is tested exactly once, by a model that never saw it.
- ``holdout``: a fixed test set of ``test_size`` volumes, then k train/val folds on the rest.
- ``previous``: the previous study's k train/val folds and no test set (selection-biased).

All three share one assignment, which reproduces the previous study's ``3fold_seed42.json``:
sort the ids, shuffle the index list ``0..n-1`` with ``random.Random(seed)``, give the i-th
shuffled index to fold ``i % k``. ``holdout`` first takes the first ``test_size`` shuffled indices
as its test set; ``nested`` uses the folds as its outer test folds, so that outer fold k equals
the ``previous`` validation fold k.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Iterable, Sequence
from itertools import combinations
from pathlib import Path

STRATEGY = "sorted_ids_python_random_shuffle_round_robin"
PROTOCOLS = ("nested", "holdout", "previous")


class SplitError(ValueError):
    """Splits that are inconsistent with the dataset; the message lists every problem."""


def _count(value: float, total: int, name: str) -> int:
    """A size given as a count (``10``) or a fraction below 1 (``0.2``) of ``total``."""
    if isinstance(value, bool) or value < 0:
        raise SplitError(f"{name} must be a count >= 0 or a fraction in (0, 1), got {value!r}")
    if isinstance(value, float) and value < 1:
        return round(value * total)
    if float(value) != int(value):
        raise SplitError(f"{name} must be a whole count or a fraction below 1, got {value!r}")
    return int(value)


def _test_count(test_size: float, num_ids: int) -> int:
    return _count(test_size, num_ids, "test_size")


def _resolve_protocol(protocol: str | None, num_test: int) -> str:
    """The protocol to build: ``None`` means ``holdout`` with a test set, else ``previous``."""
    if protocol is None:
        return "holdout" if num_test > 0 else "previous"
    if protocol not in PROTOCOLS:
        raise SplitError(f"unknown protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")
    if protocol == "holdout" and num_test == 0:
        raise SplitError(
            "protocol 'holdout' needs test_size > 0; use protocol 'previous' for folds without a test set "
            "(selection-biased) or 'nested' to test every volume once"
        )
    if protocol == "previous" and num_test > 0:
        raise SplitError(f"protocol 'previous' has no test set, got test_size={num_test}; use protocol 'holdout'")
    return protocol


def _checked_ids(ids: Iterable[str], num_folds: int) -> list[str]:
    ordered = sorted(ids)
    if len(set(ordered)) != len(ordered):
        duplicates = sorted({i for i in ordered if ordered.count(i) > 1})
        raise SplitError(f"duplicate ids: {duplicates}")
    if num_folds < 2:
        raise SplitError(f"num_folds must be at least 2, got {num_folds}")
    return ordered


def _round_robin(ordered: list[str], order: list[int], num_folds: int) -> list[list[str]]:
    """The ids of ``order`` dealt to ``num_folds`` folds: the i-th to fold ``i % num_folds``."""
    folds: list[list[str]] = [[] for _ in range(num_folds)]
    for position, index in enumerate(order):
        folds[position % num_folds].append(ordered[index])
    return [sorted(fold) for fold in folds]


def _inner_seed(seed: int, fold_idx: int) -> str:
    """The seed of fold ``fold_idx``'s inner validation draw: ``"<seed>/inner/<fold_idx>"``.

    A string seed (hashed with SHA-512 by ``random.Random``, independent of ``PYTHONHASHSEED``)
    never collides between two (seed, fold) pairs, unlike ``seed + offset * fold``.
    """
    return f"{seed}/inner/{fold_idx}"


def _nested_folds(ordered: list[str], order: list[int], num_folds: int, seed: int, val_size: float) -> list[dict]:
    """Each outer fold as the test set; a seeded inner val subset of the rest; train the others."""
    if len(ordered) < num_folds:
        raise SplitError(f"{len(ordered)} volumes cannot fill {num_folds} outer folds")
    folds = []
    for fold_idx, test in enumerate(_round_robin(ordered, order, num_folds)):
        rest = sorted(set(ordered) - set(test))
        num_val = _count(val_size, len(rest), "val_size")
        if not 1 <= num_val <= len(rest) - 1:
            raise SplitError(
                f"fold {fold_idx}: val_size={val_size!r} gives {num_val} validation volume(s) of the "
                f"{len(rest)} outside the test fold; need at least 1 and at least 1 left to train "
                f"(fewer folds, more volumes, or another val_size)"
            )
        val = sorted(random.Random(_inner_seed(seed, fold_idx)).sample(rest, num_val))
        folds.append({"train": sorted(set(rest) - set(val)), "val": val, "test": test})
    return folds


def _holdout_folds(ordered: list[str], order: list[int], num_folds: int, num_test: int) -> tuple[list[str], list[dict]]:
    """The first ``num_test`` shuffled ids as the test set; train/val folds on the rest."""
    if len(ordered) - num_test < num_folds:
        raise SplitError(f"{len(ordered)} volumes minus {num_test} held out cannot fill {num_folds} folds")
    test = sorted(ordered[i] for i in order[:num_test])
    pool = set(ordered) - set(test)
    vals = _round_robin(ordered, order[num_test:], num_folds)
    return test, [{"train": sorted(pool - set(val)), "val": val} for val in vals]


def make_splits(
    ids: Iterable[str],
    num_folds: int = 3,
    seed: int = 42,
    test_size: float = 0,
    protocol: str | None = None,
    val_size: float = 0.2,
) -> dict:
    """Builds the splits of a study.

    Args:
        ids: the volume ids (any order; they are sorted first).
        num_folds: number of (outer, for ``nested``) cross-validation folds, at least 2.
        seed: seed of Python's ``random.Random`` shuffle.
        test_size: ``holdout`` only: held-out volumes, a count (``10``) or a fraction (``0.15``).
            Ignored by ``nested``; must be 0 for ``previous``.
        protocol: ``"nested"``, ``"holdout"`` or ``"previous"``; ``None`` means ``holdout`` when
            ``test_size`` gives at least one volume, else ``previous`` (the behaviour before protocols).
        val_size: ``nested`` only: each fold's inner validation subset, a count or a fraction
            below 1 of the ids outside the fold's test set; at least 1, leaving at least 1 to train.

    Returns:
        Sorted id lists in ``{"test": [...], "folds": [...], "seed", "strategy", "num_folds",
        "test_size", "protocol"}``. ``holdout`` and ``previous`` folds are ``{"train", "val"}``
        and ``"test"`` is the fixed test set (empty for ``previous``); ``nested`` folds are
        ``{"train", "val", "test"}``, the top-level ``"test"`` is ``[]`` and ``"val_size"`` is added.

    Raises:
        SplitError: duplicate ids, fewer than 2 folds, an unknown or inconsistent protocol, bad
            sizes, or too few volumes for the folds.
    """
    ordered = _checked_ids(ids, num_folds)
    num_test = 0 if protocol == "nested" else _test_count(test_size, len(ordered))
    protocol = _resolve_protocol(protocol, num_test)
    order = list(range(len(ordered)))
    random.Random(seed).shuffle(order)
    common = {"seed": seed, "strategy": STRATEGY, "num_folds": num_folds, "test_size": num_test, "protocol": protocol}
    if protocol == "nested":
        folds = _nested_folds(ordered, order, num_folds, seed, val_size)
        return {"test": [], "folds": folds, **common, "val_size": val_size}
    test, folds = _holdout_folds(ordered, order, num_folds, num_test)
    return {"test": test, "folds": folds, **common}


def split_protocol(splits: dict) -> str:
    """The protocol of a splits dict, from its shape when it does not say.

    Returns:
        ``splits["protocol"]`` when set; else ``"nested"`` when a fold has its own ``"test"``,
        ``"holdout"`` when the top-level ``"test"`` is non-empty, and ``"previous"`` otherwise.
    """
    if splits.get("protocol"):
        return splits["protocol"]
    if _has_fold_tests(splits):
        return "nested"
    return "holdout" if splits.get("test") else "previous"


def split_design(splits: dict) -> dict:
    """What defines the splits of a study, as recorded with every model trained on them.

    Returns:
        ``protocol``, ``num_folds``, ``seed``, the size that applies to the protocol
        (``val_size`` for nested, ``test_size`` for holdout) and ``sha256`` of the whole splits
        dict: two runs with equal records were split identically.
    """
    protocol = split_protocol(splits)
    design = {"protocol": protocol, "num_folds": len(splits["folds"]), "seed": splits.get("seed")}
    if protocol == "nested":
        design["val_size"] = splits.get("val_size")
    elif protocol == "holdout":
        design["test_size"] = len(splits.get("test", []))
    digest = hashlib.sha256(json.dumps(splits, sort_keys=True, default=str).encode()).hexdigest()
    return design | {"sha256": digest}


def _has_fold_tests(splits: dict) -> bool:
    return any(isinstance(fold, dict) and "test" in fold for fold in splits.get("folds") or [])


def _membership_problems(where: str, groups: dict[str, list[str]], known: set[str]) -> list[str]:
    """Ids not in the dataset and ids listed twice, per group."""
    problems = []
    for name, group in groups.items():
        problems += [f"{where}: {name} id {i!r} is not in the dataset" for i in sorted(set(group) - known)]
        problems += [f"{where}: {name} lists {i!r} twice" for i in sorted({i for i in group if group.count(i) > 1})]
    return problems


def _overlap_problems(where: str, groups: dict[str, list[str]], known: set[str]) -> list[str]:
    """Ids in two groups of one fold, and dataset ids in none of them."""
    problems = []
    for (first, a), (second, b) in combinations(groups.items(), 2):
        problems += [f"{where}: {i!r} is in both {first} and {second}" for i in sorted(set(a) & set(b))]
    unused = known - set().union(*groups.values())
    return problems + [f"{where}: {i!r} is in neither train, val nor test" for i in sorted(unused)]


def _once_each(source: str, parts: list[list[str] | None], expected: set[str], name: str) -> list[str]:
    """Each expected id in exactly one fold's ``name`` list (``None``: a malformed fold, skipped)."""
    problems, owner = [], {}
    for index, part in enumerate(parts):
        for volume_id in part or []:
            if volume_id in owner:
                problems.append(f"{source}: fold {index}: {volume_id!r} is also {name} in fold {owner[volume_id]}")
            owner.setdefault(volume_id, index)
    return problems + [f"{source}: {i!r} is never in a {name} set" for i in sorted(expected - set(owner))]


def _holdout_problems(splits: dict, known: set[str], source: str) -> list[str]:
    """Folds ``{"train", "val"}`` around one top-level test set (protocols holdout and previous)."""
    test = list(splits.get("test", []))
    problems = [f"{source}: test id {i!r} is not in the dataset" for i in sorted(set(test) - known)]
    vals: list[list[str] | None] = []
    for index, fold in enumerate(splits["folds"]):
        where = f"{source}: fold {index}"
        if not isinstance(fold, dict) or not {"train", "val"} <= set(fold):
            problems.append(f"{where}: needs 'train' and 'val' lists")
            vals.append(None)
            continue
        train, val = list(fold["train"]), list(fold["val"])
        problems += _membership_problems(where, {"train": train, "val": val}, known)
        problems += _overlap_problems(where, {"train": train, "val": val, "test": test}, known)
        vals.append(val)
    return problems + _once_each(source, vals, known - set(test), "val")


def _nested_problems(splits: dict, known: set[str], source: str) -> list[str]:
    """Folds ``{"train", "val", "test"}``, each a partition of the dataset; every id tested once."""
    problems = []
    if splits.get("test"):
        problems.append(f"{source}: a non-empty top-level 'test' cannot be combined with per-fold 'test' lists")
    tests: list[list[str] | None] = []
    for index, fold in enumerate(splits["folds"]):
        where = f"{source}: fold {index}"
        if not isinstance(fold, dict) or not {"train", "val", "test"} <= set(fold):
            problems.append(f"{where}: needs 'train', 'val' and 'test' lists (the folds have their own test sets)")
            tests.append(None)
            continue
        groups = {name: list(fold[name]) for name in ("train", "val", "test")}
        problems += _membership_problems(where, groups, known)
        problems += _overlap_problems(where, groups, known)
        problems += [f"{where}: has no {name} ids" for name in ("train", "val") if not groups[name]]
        tests.append(groups["test"])
    return problems + _once_each(source, tests, known, "test")


def validate_splits(splits: dict, ids: Sequence[str], source: str = "splits") -> None:
    """Checks that splits fit the dataset.

    Every id exists and no list names an id twice. Folds with their own ``"test"`` (nested):
    each fold's train, val and test are disjoint and together exactly the dataset, train and val
    are non-empty, every id is tested in exactly one fold, and no top-level test set is given.
    Otherwise (holdout, previous): no id is in two of test/train/val of one fold, every fold's
    train and val together are exactly the non-test ids, and the folds' val sets cover every
    non-test id once.

    Args:
        splits: the splits dict (see :func:`make_splits`).
        ids: the dataset's volume ids.
        source: name of the file or object, used in the message.

    Raises:
        SplitError: listing every problem.
    """
    if not isinstance(splits, dict) or not isinstance(splits.get("folds"), list) or not splits["folds"]:
        raise SplitError(f"{source}: expected an object with a non-empty 'folds' list (and optional 'test')")
    check = _nested_problems if _has_fold_tests(splits) else _holdout_problems
    problems = check(splits, set(ids), source)
    declared, shape = splits.get("protocol"), split_protocol({**splits, "protocol": None})
    if declared is not None and declared != shape:  # the report trusts the declared protocol
        problems.append(f"{source}: declares protocol {declared!r} but its shape is {shape!r} (one of {PROTOCOLS})")
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
    """The split of one fold: ``{"fold_idx", "train", "val", "test", "seed", "strategy", "protocol"}``.

    ``"test"`` is the fold's own test set (nested) or else the top-level one (holdout; empty for
    previous); ``"protocol"`` is the file's, or :func:`split_protocol`'s reading of its shape.

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
        "test": list(fold["test"] if "test" in fold else splits.get("test", [])),
        "seed": splits.get("seed"),
        "strategy": splits.get("strategy", "user_provided"),
        "protocol": split_protocol(splits),
    }
