"""Small fake runs with known values for the reporting tests."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from minivess_kedro.metrics import METRIC_KEYS
from minivess_kedro.reporting import ExampleSlices, RunRecord

TEST_IDS = ("mv01", "mv02", "mv03", "mv04", "mv05")
# Folds of unequal size, so that the mean of fold means differs from the pooled mean.
VAL_IDS = {0: ("mv06", "mv07", "mv08"), 1: ("mv09", "mv10")}
LOSSES = ("dice_ce", "cbdice", "cldice")
BASE_DSC = {"dice_ce": 0.70, "cbdice": 0.76, "cldice": 0.71}
# Per-volume deviations, different per loss so that paired differences are not constant.
PATTERN = {
    "dice_ce": (0.00, 0.05, -0.04, 0.02, -0.03),
    "cbdice": (0.01, 0.03, -0.01, 0.04, -0.02),
    "cldice": (-0.02, 0.06, -0.03, 0.01, 0.00),
}
DIAGONAL = 500.0
#: The one NaN distance: cldice, fold 0, mv03 (exactly one empty mask).
NAN_MASD = ("cldice", 0, "mv03")
#: DSC added per unit of seed: the seeds of a loss differ by a known amount.
SEED_SHIFT = {"dice_ce": 0.0, "cbdice": 0.006, "cldice": -0.004}

#: The nested store: 9 volumes, 3 outer folds each testing 3 of them, 2 seeds.
NESTED_IDS = tuple(f"mv{i:02d}" for i in range(1, 10))
NESTED_FOLDS = (0, 1, 2)
SEEDS = (0, 1)
NSD_TAU = 2.0


def dsc_value(loss: str, fold: int, index: int, postprocessing: str = "none") -> float:
    """The known DSC of a volume: base + 0.01 per fold + the loss's pattern (+0.005 with components)."""
    bonus = 0.005 * (index + 1) if postprocessing == "components" else 0.0
    return BASE_DSC[loss] + 0.01 * fold + PATTERN[loss][index] + bonus


def _rows(
    loss: str, fold: int, split: str, ids: tuple[str, ...], postprocessing: str, seed: int = 0, offset: int = 0
) -> list[dict]:
    # Stable seed (str hashes change per process); the same for every post-processing, so that
    # post-processing changes only what it is meant to change.
    rng = np.random.default_rng(zlib.crc32(f"{loss}/{fold}/{split}{f'/{seed}' if seed else ''}".encode()))
    rows = []
    for i, volume in enumerate(ids):
        dsc = dsc_value(loss, fold, (i + offset) % 5, postprocessing) + SEED_SHIFT[loss] * seed
        row = {"id": volume, "split": split, "postprocessing": postprocessing, "dsc": dsc, "cldice": dsc + 0.05}
        row |= {"masd": 2.0 + rng.uniform(0, 1), "hd95": 8.0 + rng.uniform(0, 4), "nsd": 0.8 + rng.uniform(0, 0.1)}
        betti0 = float(rng.integers(0, 6))
        row |= {"betti0_error": betti0 - (1 if postprocessing == "components" and betti0 > 0 else 0)}
        row |= {"betti1_error": float(rng.integers(0, 3)), "diagonal": DIAGONAL}
        if (loss, fold, volume) == NAN_MASD:
            row["masd"] = np.nan
        rows.append(row)
    return rows


def volume_table(loss: str, fold: int, test: bool = True, postprocessings: tuple[str, ...] = ("none", "components")):
    """Per-volume table of one run: test rows (unless ``test`` is False) and val rows."""
    rows = []
    for post in postprocessings:
        if test:
            rows += _rows(loss, fold, "test", TEST_IDS, post)
        rows += _rows(loss, fold, "val", VAL_IDS[fold], post)
    return pd.DataFrame(rows)


def history(loss: str, fold: int, epochs: int = 6) -> pd.DataFrame:
    """Epoch history; validation every second epoch (NaN otherwise), peak at epoch 4."""
    epoch = np.arange(epochs)
    val = np.where(epoch % 2 == 0, 0.5 + 0.05 * np.minimum(epoch, 4) - 0.01 * (epoch > 4), np.nan)
    return pd.DataFrame({"epoch": epoch, "train_loss": 1.0 / (epoch + 1), "val_dsc": val, "lr": 1e-3})


def make_run(loss: str, fold: int, tags: dict[str, str] | None = None, **table_kwargs) -> RunRecord:
    default_tags = {"loss": loss, "fold_idx": str(fold), "compute_profile": "cpu", "git_commit": "abc123def4567890"}
    return RunRecord(
        run_id=f"{loss}-{fold}",
        loss=loss,
        fold_idx=fold,
        volume_metrics=volume_table(loss, fold, **table_kwargs),
        history=history(loss, fold),
        params={"loss": loss, "fold_idx": str(fold)},
        tags=default_tags | (tags or {}),
    )


def make_runs(losses: tuple[str, ...] = LOSSES, folds: tuple[int, ...] = (0, 1), **table_kwargs) -> list[RunRecord]:
    return [make_run(loss, fold, **table_kwargs) for loss in losses for fold in folds]


def nested_test_ids(fold: int) -> tuple[str, ...]:
    """The 3 volumes outer fold ``fold`` tests (every volume in exactly one fold)."""
    return NESTED_IDS[3 * fold : 3 * fold + 3]


def nested_dsc(loss: str, fold: int, seed: int, volume: str) -> float:
    """The known test DSC of ``volume`` in the nested store."""
    index = NESTED_IDS.index(volume)
    return dsc_value(loss, fold, index % 5) + SEED_SHIFT[loss] * seed


def make_nested_run(loss: str, fold: int, seed: int, params: dict[str, str] | None = None) -> RunRecord:
    """One run of the nested store: its fold's test volumes, an inner validation subset, ``nsd_tau``."""
    test_ids = nested_test_ids(fold)
    inner_val = tuple(v for v in NESTED_IDS if v not in test_ids)[seed : seed + 2]
    rows = _rows(loss, fold, "test", test_ids, "none", seed, offset=3 * fold)
    rows += _rows(loss, fold, "val", inner_val, "none", seed)
    tags = {"loss": loss, "fold_idx": str(fold), "seed": str(seed), "protocol": "nested", "compute_profile": "cpu"}
    default_params = {
        "loss": loss,
        "fold_idx": str(fold),
        "seed": str(seed),
        "splitting.protocol": "nested",
        "splitting.num_folds": "3",
        "training.max_epochs": "6",
        "evaluation.nsd_tau": "auto",
        "evaluation.bootstrap.n_resamples": str(999 + seed),  # may differ: report statistics only
    }
    return RunRecord(
        run_id=f"{loss}-{fold}-seed{seed}",
        loss=loss,
        fold_idx=fold,
        volume_metrics=pd.DataFrame(rows).assign(nsd_tau=NSD_TAU),
        history=history(loss, fold),
        params=default_params | (params or {}),
        tags=tags,
        seed=seed,
    )


def make_nested_runs(losses: tuple[str, ...] = LOSSES) -> list[RunRecord]:
    """3 losses x 3 folds x 2 seeds under the nested protocol."""
    return [make_nested_run(loss, fold, seed) for loss in losses for fold in NESTED_FOLDS for seed in SEEDS]


def baselines() -> pd.DataFrame:
    rows = []
    for method, level in (("otsu", 0.40), ("frangi", 0.50)):
        for i, volume in enumerate(TEST_IDS):
            row = {"method": method, "id": volume, "split": "test", "dsc": level + 0.01 * i, "cldice": level}
            row |= {"masd": 9.0, "hd95": 30.0, "nsd": 0.4, "betti0_error": 40.0, "betti1_error": 5.0}
            rows.append(row | {"diagonal": DIAGONAL})
    return pd.DataFrame(rows)


def examples() -> list[ExampleSlices]:
    image = np.linspace(0, 1, 64).reshape(8, 8)
    ref = (image > 0.5).astype(np.uint8)
    return [
        ExampleSlices("mv02", "cbdice", 1, 0.80, image, ref, ref),
        ExampleSlices("mv05", "cbdice", 0, 0.75, image, ref, np.zeros_like(ref)),
    ]


PROTOCOL = {
    "data_source": "synthetic",
    "n_volumes": 11,
    "dataset_fingerprint": "f00d",
    "splits": {"num_folds": 2, "test_ids": 5, "seed": 42, "strategy": "random"},
    "max_epochs": 6,
}

assert set(METRIC_KEYS) <= set(volume_table("dice_ce", 0).columns)
