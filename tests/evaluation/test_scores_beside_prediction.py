"""Metrics beside the prediction: a volume is scored while the next one is predicted, and
``score_predictions`` takes those scores only for the very masks and settings they were made on."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from minivess_kedro.datasets import ScoresMemoDataset
from minivess_kedro.io import NiftiVolume
from minivess_kedro.metrics import aggregation
from minivess_kedro.models import DynUNetConfig, build_dynunet
from minivess_kedro.pipelines.evaluation import nodes
from minivess_kedro.pipelines.evaluation.nodes import predict_volumes, score_predictions
from minivess_kedro.pipelines.evaluation.scores_memo import mask_digest
from tests.evaluation.test_evaluation_nodes import RUN, SPACING, _fold, _labels, _lineage, _manifest
from tests.test_config import _loader

CONFIG = {**DynUNetConfig(filters=(4, 8, 16, 32)).to_dict(), "patch_size": [16, 16, 8]}


@pytest.fixture(scope="module")
def params() -> dict:
    parameters = _loader("test")["parameters"]
    return {"evaluation": parameters["evaluation"], "training": parameters["training"]}


def _image(label: np.ndarray) -> NiftiVolume:
    return NiftiVolume.from_array((100 + 800 * label.astype(np.uint16)).astype(np.uint16), SPACING)


def _speckled(model, image, window, device):
    """A prediction that differs from the label (specks the clean-up removes), per volume."""
    mask = (image > 500).astype(np.uint8)
    mask[np.random.default_rng(int(mask.sum())).random(mask.shape) < 0.02] = 1
    return mask, mask.astype(np.float32)


def _predict(params, labels, evaluation=None):
    images = {k: (lambda v=v: _image(v)) for k, v in labels.items()}
    raw_labels = {k: (lambda v=v: NiftiVolume.from_array(v, SPACING)) for k, v in labels.items()}
    state = build_dynunet(DynUNetConfig.from_dict(CONFIG)).state_dict()
    predictions, lineage, scores = predict_volumes(
        images,
        _fold(),
        state,
        CONFIG,
        _lineage(),
        evaluation or params["evaluation"],
        params["training"],
        **RUN,
        raw_labels=raw_labels,
        volume_manifest=_manifest(),
    )
    return predictions, lineage, scores, raw_labels


def _score(params, predictions, lineage, raw_labels, scores, evaluation=None) -> pd.DataFrame:
    loaders = {key: (lambda v=v: v) for key, v in predictions.items()}
    return score_predictions(
        loaders, lineage, raw_labels, _fold(), _lineage(), _manifest(), evaluation or params["evaluation"], scores
    )


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """Records the volume of every metric computation ``score_predictions`` makes itself."""
    calls: list[str] = []
    real = aggregation.evaluate_pair

    def evaluate_pair(pred, ref, *args, **kwargs):
        calls.append(mask_digest(pred))
        return real(pred, ref, *args, **kwargs)

    monkeypatch.setattr(aggregation, "evaluate_pair", evaluate_pair)
    return calls


def test_the_digest_is_the_mask_s_not_its_dtype() -> None:
    mask = np.zeros((4, 5, 3), np.uint8)
    mask[1, 2, 0] = 1
    assert mask_digest(mask) == mask_digest(mask.astype(bool)) == mask_digest(mask.astype(np.int16))
    assert mask_digest(mask) != mask_digest(mask.reshape(5, 4, 3))  # same voxels, other shape
    moved = np.roll(mask, 1, axis=0)
    assert mask_digest(mask) != mask_digest(moved)


def test_a_volume_is_scored_while_the_next_one_is_predicted(params, monkeypatch) -> None:
    """The first volume's metrics wait until the second volume's prediction has begun: done one
    after the other in one thread, they would wait in vain."""
    second_prediction = threading.Event()
    real_evaluate = nodes.evaluate_pair
    predicted = []

    def evaluate_pair(*args, **kwargs):
        assert second_prediction.wait(timeout=60), "the first volume was not scored beside the second prediction"
        return real_evaluate(*args, **kwargs)

    def segment(model, image, window, device):
        predicted.append(threading.current_thread().name)
        if len(predicted) == 2:
            second_prediction.set()
        return _speckled(model, image, window, device)

    monkeypatch.setattr(nodes, "evaluate_pair", evaluate_pair)
    monkeypatch.setattr(nodes, "segment_volume", segment)
    _, _, scores, _ = _predict(params, _labels())
    assert len(predicted) == 2 and sorted(scores) == ["components/mv02", "components/mv03", "none/mv02", "none/mv03"]


def test_scores_made_beside_the_prediction_are_the_scores(params, monkeypatch, counted) -> None:
    monkeypatch.setattr(nodes, "segment_volume", _speckled)
    predictions, lineage, scores, raw_labels = _predict(params, _labels())

    reused = _score(params, predictions, lineage, raw_labels, scores)
    assert counted == []  # every score came from the memo
    fresh = _score(params, predictions, lineage, raw_labels, {})
    assert len(counted) == 4
    columns = [c for c in fresh.columns if c != "seconds"]
    pd.testing.assert_frame_equal(reused[columns], fresh[columns])
    assert (reused["dsc"] < 1).all()  # the specks made real differences to score


def test_a_changed_mask_or_setting_is_scored_afresh(params, monkeypatch, counted) -> None:
    monkeypatch.setattr(nodes, "segment_volume", _speckled)
    predictions, lineage, scores, raw_labels = _predict(params, _labels())
    changed = dict(predictions)
    replaced = predictions["none/mv03"].array.copy()
    replaced[0, 0, 0] ^= 1  # one voxel of one file differs from what was scored
    changed["none/mv03"] = NiftiVolume(replaced, predictions["none/mv03"].affine, predictions["none/mv03"].spacing)

    table = _score(params, changed, lineage, raw_labels, scores)
    assert counted == [mask_digest(replaced)]  # only that one is recomputed
    fresh = _score(params, changed, lineage, raw_labels, {})
    pd.testing.assert_series_equal(table["masd"], fresh["masd"])

    counted.clear()
    other_tau = {**params["evaluation"], "nsd_tau": 0.5}
    _score(params, predictions, lineage, raw_labels, scores, other_tau)
    assert len(counted) == 4  # computed with another tolerance: none reusable


def test_a_memo_scored_at_the_dataset_wide_tolerance_is_not_reused_under_auto(params, monkeypatch, counted) -> None:
    """Scores of the former ``auto`` (the dataset's coarsest spacing, 2.5 um: mv04's z) are not the
    scores of today's ``auto`` (each volume's own, 2 um here): scored afresh, never reused."""
    monkeypatch.setattr(nodes, "segment_volume", _speckled)
    dataset_wide = {**params["evaluation"], "nsd_tau": 2.5}
    predictions, lineage, old_scores, raw_labels = _predict(params, _labels(), dataset_wide)
    _, _, scores, _ = _predict(params, _labels())
    assert {entry["nsd_tau"] for entry in old_scores.values()} == {2.5}
    assert {entry["nsd_tau"] for entry in scores.values()} == {2.0}  # the memo keys on each volume's own

    table = _score(params, predictions, lineage, raw_labels, old_scores)
    assert len(counted) == 4 and set(table["nsd_tau"]) == {2.0}
    fresh = _score(params, predictions, lineage, raw_labels, {})
    pd.testing.assert_series_equal(table["nsd"], fresh["nsd"])


def test_the_memo_file_is_optional_and_round_trips(tmp_path) -> None:
    dataset = ScoresMemoDataset(filepath=str(tmp_path / "prediction_scores.json"))
    assert dataset.load() == {} and dataset.exists()  # a run evaluated before the memo existed: nothing to reuse
    memo = {"none/mv01": {"pred_sha256": "a", "result": {"masd": float("nan"), "dsc": 0.5}}}
    dataset.save(memo)
    loaded = dataset.load()
    assert loaded["none/mv01"]["result"]["dsc"] == 0.5 and np.isnan(loaded["none/mv01"]["result"]["masd"])
