"""What a trained model saw: the ids it was trained and selected on, carried with the model.

Evaluation checks the model's own record, not today's split file: after a change of the
splitting settings the current ``splits.json`` can call "test" a volume the model trained on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

#: Keys of a lineage record (``model_lineage.json`` beside ``best_model.pt``).
LINEAGE_KEYS: tuple[str, ...] = (
    "loss",
    "fold_idx",
    "seed",
    "protocol",
    "train_ids",
    "val_ids",
    "test_ids",
    "dataset_fingerprint",
    "splitting",
    "training",
)


class LeakageError(ValueError):
    """An evaluation would report a volume the model trained or was selected on."""


def model_lineage(
    loss: str,
    fold_split: Mapping,
    seed: int,
    dataset_fingerprint: str,
    splitting: Mapping | None = None,
    training: Mapping | None = None,
) -> dict:
    """The lineage record of a model trained on ``fold_split``.

    Args:
        loss: the loss name.
        fold_split: the fold's split (``fold_idx``, ``train``, ``val``, ``test``, ``protocol``).
        seed: the run's seed index (``--params seed=s``).
        dataset_fingerprint: sha256 of the dataset the ids refer to.
        splitting: how the whole study was split (``minivess_kedro.data.splits.split_design``).
        training: the settings the model was trained with (base seed, schedule, profile, model,
            this loss's kwargs): a report compares these between runs, not today's config.

    Returns:
        A JSON-ready dict with :data:`LINEAGE_KEYS`; ``val_ids`` are the volumes the checkpoint
        was selected on (early stopping), ``test_ids`` the volumes held out when it was trained.
    """
    return {
        "loss": loss,
        "fold_idx": int(fold_split["fold_idx"]),
        "seed": int(seed),
        "protocol": fold_split.get("protocol") or "unknown",
        "train_ids": sorted(fold_split["train"]),
        "val_ids": sorted(fold_split["val"]),
        "test_ids": sorted(fold_split.get("test", [])),
        "dataset_fingerprint": dataset_fingerprint,
        "splitting": dict(splitting or {}),
        "training": dict(training or {}),
    }


def check_evaluated_ids(lineage: Mapping, evaluated: Mapping[str, str], model: str = "the model") -> None:
    """Refuses to score a volume as ``test`` or ``val`` when the model saw it.

    A ``test`` volume must be neither a training nor a selection (validation) volume of the model;
    a ``val`` volume must not be a training volume (it is expected to be a selection volume: those
    numbers are labelled selection-biased).

    Args:
        lineage: the model's lineage record (see :func:`model_lineage`).
        evaluated: ``{volume id: split}`` the evaluation is about to score.
        model: how to name the model in the message (its file).

    Raises:
        LeakageError: naming every such volume and how to fix it.
    """
    missing = [key for key in ("train_ids", "val_ids") if key not in lineage]
    if missing:
        raise LeakageError(
            f"{model} has no record of the volumes it was trained on ({missing} missing): it cannot be evaluated "
            "safely; retrain it (kedro run --pipelines training --params training.restart=true,...)"
        )
    train, val = set(lineage["train_ids"]), set(lineage["val_ids"])
    problems = []
    for split, seen, how in (("test", train, "trained on"), ("test", val, "selected on"), ("val", train, "trained on")):
        ids = sorted(i for i, s in evaluated.items() if s == split and i in seen)
        if ids:
            problems.append(f"{len(ids)} volume(s) to score as {split} that it was {how}: {ids}")
    if problems:
        raise LeakageError(
            f"{model} (loss {lineage.get('loss')}, fold {lineage.get('fold_idx')}, protocol "
            f"{lineage.get('protocol')}) would be scored on volumes it saw:\n  "
            + "\n  ".join(problems)
            + "\nThe splits changed since it was trained. Restore the splitting settings it was trained with "
            "(its volumes are in model_lineage.json), or retrain it under the new splits with "
            "--params training.restart=true."
        )


def check_lineage_identity(lineage: Mapping, run: Mapping, model: str = "the model") -> None:
    """Refuses a model whose own record names another cell or dataset than the run evaluating it.

    The catalog path ties a checkpoint to its loss, fold and seed, but a folder copied by hand (or
    a dataset re-ingested under the same ids) would otherwise be trusted: its ids would be checked
    against volumes they do not describe.

    Args:
        lineage: the model's lineage record (see :func:`model_lineage`).
        run: the run's ``loss``, ``fold_idx``, ``seed`` and ``dataset_fingerprint``.
        model: how to name the model in the message (its file).

    Raises:
        LeakageError: naming every key on which the record and the run differ.
    """
    keys = ("loss", "fold_idx", "seed", "dataset_fingerprint")
    differ = [
        f"{key}: the record says {lineage.get(key)!r}, the run is {run[key]!r}"
        for key in keys
        if str(lineage.get(key)) != str(run[key])
    ]
    if differ:
        raise LeakageError(
            f"{model} is not this run's model (its model_lineage.json describes another cell or dataset):\n  "
            + "\n  ".join(differ)
            + "\nEvaluate it under its own --params, or retrain this cell with --params training.restart=true."
        )


def lineage_digest(lineage: Mapping) -> str:
    """A sha256 of a lineage record: outputs stamped with it can be traced to one model's record."""
    return hashlib.sha256(json.dumps(lineage, sort_keys=True, default=str).encode()).hexdigest()


def check_same_model(lineage: Mapping, digest: str, what: str, rerun: str) -> None:
    """Refuses outputs (predictions, a metrics table) made from another model's record.

    Args:
        lineage: the run's current model lineage.
        digest: the :func:`lineage_digest` the outputs were stamped with.
        what: the outputs, for the message.
        rerun: the node that remakes them.

    Raises:
        LeakageError: the digests differ (e.g. the model was retrained under other splits since).
    """
    if digest != lineage_digest(lineage):
        raise LeakageError(
            f"{what} were made by another model than the run's best_model.pt (its model_lineage.json changed "
            f"since: retrained, or under other splits); rerun from node {rerun} "
            f"(kedro run --from-nodes {rerun} with the same --env and --params)"
        )
