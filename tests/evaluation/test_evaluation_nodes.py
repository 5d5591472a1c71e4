"""Evaluation nodes: known predictions give known metrics; the run's checkpoint is the one used."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import torch

from minivess_kedro.io import NiftiVolume
from minivess_kedro.metrics import compute_nsd, evaluate_pair
from minivess_kedro.models import DynUNetConfig, build_dynunet
from minivess_kedro.pipelines.evaluation.baselines import evaluate_baselines
from minivess_kedro.pipelines.evaluation.nodes import predict_volumes, score_predictions, summarise_evaluation
from minivess_kedro.pipelines.evaluation.record import record_evaluation, summary_metrics
from minivess_kedro.training.lineage import LeakageError, lineage_digest, model_lineage
from tests.test_config import _loader

SPACING = (1.0, 1.0, 2.0)


@pytest.fixture(scope="module")
def params() -> dict:
    parameters = _loader("test")["parameters"]
    return {"evaluation": parameters["evaluation"], "training": parameters["training"]}


def _volume(array) -> NiftiVolume:
    return NiftiVolume.from_array(np.asarray(array), SPACING)


def _fold() -> dict:
    return {"fold_idx": 0, "train": ["mv01"], "val": ["mv02"], "test": ["mv03"]}


def _lineage(fold: dict | None = None) -> dict:
    """The lineage of a model trained on ``fold`` (default: the evaluated fold itself)."""
    return model_lineage("dice_ce", fold or _fold(), 0, "abc")


#: The run evaluating the models of these tests: loss, seed and dataset of :func:`_lineage`.
RUN = {"loss": "dice_ce", "seed": 0, "dataset_fingerprint": {"fingerprint": "abc"}}


def _manifest() -> pd.DataFrame:
    """Three volumes of spacing (1, 1, 2) and one coarser in z (the dataset's coarsest voxel is 2.5)."""
    spacings = [SPACING, SPACING, SPACING, (0.5, 0.5, 2.5)]
    return pd.DataFrame(
        [
            {"volume_id": f"mv0{i}", "spacing_h_um": h, "spacing_w_um": w, "spacing_d_um": d}
            for i, (h, w, d) in enumerate(spacings, 1)
        ]
    )


def _labels() -> dict[str, np.ndarray]:
    labels = {}
    for index, volume_id in enumerate(["mv01", "mv02", "mv03"]):
        label = np.zeros((24, 24, 8), np.uint8)
        label[8 + index : 14 + index, 8:14, :] = 1
        labels[volume_id] = label
    return labels


def test_known_predictions_give_the_metrics_of_the_metrics_package(params, tmp_path) -> None:
    labels = _labels()
    prediction = labels["mv03"].copy()
    prediction[0:2, 0:2, 0:2] = 1  # a planted spurious island, removed by "components"
    predictions = {
        "none/mv02": lambda: _volume(labels["mv02"]),
        "none/mv03": lambda: _volume(prediction),
        "components/mv02": lambda: _volume(labels["mv02"]),
        "components/mv03": lambda: _volume(labels["mv03"]),
    }
    raw_labels = {k: (lambda v=v: _volume(v)) for k, v in labels.items()}

    table = score_predictions(
        predictions, _lineage(), raw_labels, _fold(), _lineage(), _manifest(), params["evaluation"]
    )

    raw_test = table[(table["id"] == "mv03") & (table["postprocessing"] == "none")].iloc[0]
    expected = evaluate_pair(prediction, labels["mv03"], SPACING, nsd_tau=2.0)  # auto: the volume's coarsest voxel
    assert params["evaluation"]["nsd_tau"] == "auto" and set(table["nsd_tau"]) == {2.0}  # not mv04's 2.5
    assert set(table["nsd_tau_rule"]) == {"auto"}
    for metric in ("dsc", "cldice", "masd", "hd95", "nsd", "betti0_error"):
        assert raw_test[metric] == pytest.approx(expected[metric], rel=1e-12), metric
    assert raw_test["split"] == "test" and raw_test["betti0_error"] == 1
    cleaned = table[(table["id"] == "mv03") & (table["postprocessing"] == "components")].iloc[0]
    assert cleaned["dsc"] == 1.0 and cleaned["betti0_error"] == 0
    assert set(table[table["id"] == "mv02"]["split"]) == {"val"}

    summary = summarise_evaluation(table, params["evaluation"])
    assert set(zip(summary["split"], summary["postprocessing"], strict=True)) == {
        ("val", "none"),
        ("val", "components"),
        ("test", "none"),
        ("test", "components"),
    }
    logged = summary_metrics(summary)
    assert logged["test_dsc"] == pytest.approx(expected["dsc"]) and logged["test_components_dsc"] == 1.0


#: Two volumes of different sampling: a fine one (tolerance 1.0 um) and a coarse one (3.0 um).
MIXED_SPACINGS = {"mv02": (0.5, 0.5, 1.0), "mv03": (1.0, 1.0, 3.0)}


def _mixed_manifest() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"volume_id": i, "spacing_h_um": h, "spacing_w_um": w, "spacing_d_um": d}
            for i, (h, w, d) in {"mv01": SPACING, **MIXED_SPACINGS}.items()
        ]
    )


def _shifted_predictions() -> tuple[dict, dict, dict]:
    """Each label of :data:`MIXED_SPACINGS` predicted 3 voxels off along h (1.5 um on the fine volume)."""
    labels = {k: v for k, v in _labels().items() if k in MIXED_SPACINGS}
    shifted = {k: np.roll(v, 3, axis=0) for k, v in labels.items()}
    predictions = {
        f"none/{k}": (lambda k=k: NiftiVolume.from_array(shifted[k], MIXED_SPACINGS[k])) for k in MIXED_SPACINGS
    }
    raw_labels = {k: (lambda k=k: NiftiVolume.from_array(labels[k], MIXED_SPACINGS[k])) for k in MIXED_SPACINGS}
    return predictions, raw_labels, {k: (shifted[k], labels[k]) for k in MIXED_SPACINGS}


def test_auto_scores_each_volume_at_its_own_coarsest_spacing(params) -> None:
    """``nsd_tau: auto`` is per volume: the fine volume is scored at 1 um, not at the coarse
    volume's 3 um, under which its 1.5 um shift would count as a perfect NSD."""
    predictions, raw_labels, masks = _shifted_predictions()

    table = score_predictions(
        predictions, _lineage(), raw_labels, _fold(), _lineage(), _mixed_manifest(), params["evaluation"]
    ).set_index("id")

    assert table["nsd_tau"].to_dict() == {"mv02": 1.0, "mv03": 3.0} and set(table["nsd_tau_rule"]) == {"auto"}
    for volume_id, (pred, ref) in masks.items():
        spacing = MIXED_SPACINGS[volume_id]
        expected = compute_nsd(pred, ref, spacing, tau=max(spacing))
        assert table.loc[volume_id, "nsd"] == pytest.approx(expected, rel=1e-12), volume_id
    fine = masks["mv02"]
    assert table.loc["mv02", "nsd"] < 1.0 == compute_nsd(*fine, MIXED_SPACINGS["mv02"], tau=3.0)  # would saturate


def test_a_fixed_tolerance_scores_every_volume_at_it(params) -> None:
    predictions, raw_labels, masks = _shifted_predictions()
    fixed = {**params["evaluation"], "nsd_tau": 1.2}

    table = score_predictions(
        predictions, _lineage(), raw_labels, _fold(), _lineage(), _mixed_manifest(), fixed
    ).set_index("id")

    assert set(table["nsd_tau"]) == {1.2} and set(table["nsd_tau_rule"]) == {"fixed"}
    for volume_id, (pred, ref) in masks.items():
        expected = compute_nsd(pred, ref, MIXED_SPACINGS[volume_id], tau=1.2)
        assert table.loc[volume_id, "nsd"] == pytest.approx(expected, rel=1e-12), volume_id


def test_a_volume_the_manifest_does_not_list_is_refused_before_scoring(params) -> None:
    predictions, raw_labels, _ = _shifted_predictions()
    manifest = _mixed_manifest()
    with pytest.raises(ValueError, match=r"volumes \['mv03'\] are not in the volume manifest"):
        score_predictions(
            predictions,
            _lineage(),
            raw_labels,
            _fold(),
            _lineage(),
            manifest[manifest["volume_id"] != "mv03"],
            params["evaluation"],
        )


def test_predictions_use_the_given_checkpoint(params) -> None:
    """Two checkpoints that differ only in the output bias predict all-vessel and all-background."""
    labels = _labels()
    images = {k: (lambda v=v: _volume((100 + 800 * v.astype(np.uint16)).astype(np.uint16))) for k, v in labels.items()}
    config = {**DynUNetConfig(filters=(4, 8, 16, 32)).to_dict(), "patch_size": [16, 16, 8]}
    model = build_dynunet(DynUNetConfig.from_dict(config))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    bias = next(k for k in state if k.startswith("output_block") and k.endswith("bias"))
    weight = bias.replace("bias", "weight")
    state[weight].zero_()
    state[bias] = torch.tensor([0.0, 5.0])
    all_vessel, made_by, _ = predict_volumes(
        images, _fold(), state, config, _lineage(), params["evaluation"], params["training"], **RUN
    )
    state[bias] = torch.tensor([5.0, 0.0])
    all_background, _, _ = predict_volumes(
        images, _fold(), state, config, _lineage(), params["evaluation"], params["training"], **RUN
    )

    assert sorted(all_vessel) == ["components/mv02", "components/mv03", "none/mv02", "none/mv03"]
    assert all_vessel["none/mv03"].array.all() and not all_background["none/mv03"].array.any()
    assert all_vessel["none/mv03"].spacing == SPACING  # the source geometry is kept
    assert made_by == _lineage()  # the predictions say which model made them


def test_baselines_are_cached_per_dataset(params, tmp_path, monkeypatch) -> None:
    labels = _labels()
    images = {k: (lambda v=v: _volume((100 + 800 * v.astype(np.uint16)).astype(np.uint16))) for k, v in labels.items()}
    raw_labels = {k: (lambda v=v: _volume(v)) for k, v in labels.items()}
    evaluation = {
        **params["evaluation"],
        "baselines": {**params["evaluation"]["baselines"], "cache_dir": str(tmp_path)},
    }
    splits = {"test": ["mv03"], "folds": []}

    first = evaluate_baselines(images, raw_labels, splits, {"fingerprint": "abc"}, _manifest(), evaluation)

    assert set(first["method"]) == {"otsu", "frangi"} and set(first["id"]) == {"mv03"}
    assert first[first["method"] == "otsu"]["dsc"].iloc[0] == 1.0
    monkeypatch.setattr("minivess_kedro.pipelines.evaluation.baselines.fit_frangi_threshold", None)  # would fail
    again = evaluate_baselines(images, raw_labels, splits, {"fingerprint": "abc"}, _manifest(), evaluation)
    pd.testing.assert_frame_equal(again, first, check_dtype=False)
    assert len(list(tmp_path.glob("baselines_*.csv"))) == 1


def test_baselines_are_scored_at_each_volume_s_tolerance_and_cached_per_rule(params, tmp_path) -> None:
    """Baselines follow the same rule as the runs, and a table cached under a fixed tolerance is not
    read back under ``auto`` even where the numbers would coincide."""
    _, raw_labels, _ = _shifted_predictions()
    bright = {k: (100 + 800 * raw_labels[k]().array.astype(np.uint16)).astype(np.uint16) for k in MIXED_SPACINGS}
    images = {k: (lambda k=k: NiftiVolume.from_array(bright[k], MIXED_SPACINGS[k])) for k in MIXED_SPACINGS}
    baselines = {**params["evaluation"]["baselines"], "cache_dir": str(tmp_path), "methods": ["otsu"]}
    auto = {**params["evaluation"], "baselines": baselines}
    splits = {"folds": [{"test": ["mv02"]}, {"test": ["mv03"]}]}

    table = evaluate_baselines(images, raw_labels, splits, {"fingerprint": "abc"}, _mixed_manifest(), auto)
    assert table.set_index("id")["nsd_tau"].to_dict() == {"mv02": 1.0, "mv03": 3.0}
    assert set(table["nsd_tau_rule"]) == {"auto"}

    evaluate_baselines(images, raw_labels, splits, {"fingerprint": "abc"}, _mixed_manifest(), auto | {"nsd_tau": 3.0})
    assert len(list(tmp_path.glob("baselines_*.csv"))) == 2  # one table per rule


def test_evaluation_refuses_volumes_the_model_trained_or_was_selected_on(params) -> None:
    """After a change of the splits, today's test volume mv03 was a training volume of the model
    and mv02 its selection volume: both nodes refuse, naming the volumes, before any work."""
    trained_on = {"fold_idx": 0, "train": ["mv01", "mv03"], "val": ["mv02"], "test": []}
    now = {"fold_idx": 0, "train": ["mv01"], "val": ["mv04"], "test": ["mv02", "mv03"]}
    never = lambda: pytest.fail("no volume may be read before the check")  # noqa: E731
    images = {i: never for i in ("mv01", "mv02", "mv03", "mv04")}

    with pytest.raises(
        LeakageError, match=r"(?s)test that it was trained on: \['mv03'\].*test that it was selected on: \['mv02'\]"
    ):
        predict_volumes(images, now, {}, {}, _lineage(trained_on), params["evaluation"], params["training"], **RUN)
    with pytest.raises(LeakageError, match=r"to score as val that it was trained on: \['mv03'\]"):
        score_predictions(
            {},
            {},
            images,
            {**now, "val": ["mv03"], "test": []},
            _lineage(trained_on),
            _manifest(),
            params["evaluation"],
        )
    with pytest.raises(LeakageError, match="no record of the volumes it was trained on"):
        score_predictions({}, {}, images, now, {}, _manifest(), params["evaluation"])


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("loss", "cbdice", "loss: the record says 'dice_ce', the run is 'cbdice'"),
        ("seed", 1, "seed: the record says 0, the run is 1"),
        ("dataset_fingerprint", {"fingerprint": "new"}, "dataset_fingerprint: the record says 'abc', the run is 'new'"),
    ],
)
def test_evaluation_refuses_a_model_recorded_for_another_cell_or_dataset(params, key, value, message) -> None:
    """A checkpoint folder copied from another cell, or a dataset re-ingested under the same ids:
    the model's own record disagrees with the run, and nothing is read."""
    never = lambda: pytest.fail("no volume may be read before the check")  # noqa: E731
    images = {i: never for i in ("mv01", "mv02", "mv03")}
    run = {**RUN, key: value}

    with pytest.raises(LeakageError, match=re.escape(message)):
        predict_volumes(images, _fold(), {}, {}, _lineage(), params["evaluation"], params["training"], **run)
    other_fold = {**_fold(), "fold_idx": 2}
    with pytest.raises(LeakageError, match=re.escape("fold_idx: the record says 0, the run is 2")):
        predict_volumes(images, other_fold, {}, {}, _lineage(), params["evaluation"], params["training"], **RUN)


def test_nested_baselines_score_every_volume_once_with_a_threshold_fitted_without_it(
    params, tmp_path, monkeypatch
) -> None:
    labels = _labels()
    images = {k: (lambda v=v: _volume((100 + 800 * v.astype(np.uint16)).astype(np.uint16))) for k, v in labels.items()}
    raw_labels = {k: (lambda v=v: _volume(v)) for k, v in labels.items()}
    evaluation = {
        **params["evaluation"],
        "baselines": {**params["evaluation"]["baselines"], "cache_dir": str(tmp_path)},
    }
    splits = {
        "test": [],
        "folds": [{"train": [], "val": [], "test": ["mv01"]}, {"train": [], "val": [], "test": ["mv02", "mv03"]}],
    }
    fitted_on = []

    def fit(volumes, settings):
        fitted_on.append(len(list(volumes)))
        return 0.5

    monkeypatch.setattr("minivess_kedro.pipelines.evaluation.baselines.fit_frangi_threshold", fit)
    table = evaluate_baselines(images, raw_labels, splits, {"fingerprint": "abc"}, _manifest(), evaluation)

    assert sorted(table[table["method"] == "otsu"]["id"]) == ["mv01", "mv02", "mv03"]  # each once
    assert fitted_on == [2, 1]  # fold 0 fitted on mv02, mv03; fold 1 on mv01


def test_predictions_or_tables_of_another_model_are_refused(params) -> None:
    """kedro run --nodes score_predictions (or record_evaluation) after the model was retrained under
    other splits: the files on disk belong to the old model and are refused."""
    old, new = _lineage(), _lineage({**_fold(), "train": ["mv01", "mv04"]})
    with pytest.raises(LeakageError, match="the predictions were made by another model.*from node predict_volumes"):
        score_predictions({}, old, {}, _fold(), new, _manifest(), params["evaluation"])
    table = pd.DataFrame({"id": ["mv03"], "lineage_sha256": [lineage_digest(old)]})
    with pytest.raises(LeakageError, match="volume_metrics.csv were made by another model.*score_predictions"):
        record_evaluation(table, table, new, table, "dice_ce", 0, _fold(), {}, {})
