"""What a trained model saw: the ids it was trained and selected on, carried with the model.

Evaluation checks the model's own record, not today's split file: after a change of the
splitting settings the current ``splits.json`` can call "test" a volume the model trained on.
"""

from __future__ import annotations

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
)


class LeakageError(ValueError):
    """An evaluation would report a volume the model trained or was selected on."""


def model_lineage(loss: str, fold_split: Mapping, seed: int, dataset_fingerprint: str) -> dict:
    """The lineage record of a model trained on ``fold_split``.

    Args:
        loss: the loss name.
        fold_split: the fold's split (``fold_idx``, ``train``, ``val``, ``test``, ``protocol``).
        seed: the run's seed index (``--params seed=s``).
        dataset_fingerprint: sha256 of the dataset the ids refer to.

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
