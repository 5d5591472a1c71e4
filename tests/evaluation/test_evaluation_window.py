"""The whole-volume window of evaluation: the training patch by default, a checked larger one on
request, and the components clean-up overlapped with the next prediction gives the same masks."""

from __future__ import annotations

import numpy as np
import pytest

from minivess_kedro.io import NiftiVolume
from minivess_kedro.models import DynUNetConfig, build_dynunet
from minivess_kedro.pipelines.evaluation import nodes
from minivess_kedro.pipelines.evaluation.nodes import evaluation_window, predict_volumes
from minivess_kedro.pipelines.evaluation.params import EvaluationParams
from minivess_kedro.postprocessing import ComponentSettings, clean_components
from minivess_kedro.training.lineage import model_lineage
from tests.evaluation.test_evaluation_nodes import RUN, SPACING, _fold, _labels
from tests.test_config import _loader

CONFIG = {**DynUNetConfig(filters=(4, 8, 16, 32)).to_dict(), "patch_size": [16, 16, 8]}


@pytest.fixture(scope="module")
def params() -> dict:
    parameters = _loader("test")["parameters"]
    return {"evaluation": parameters["evaluation"], "training": parameters["training"]}


def _evaluation(params: dict, **window) -> EvaluationParams:
    evaluation = params["evaluation"]
    return EvaluationParams.model_validate({**evaluation, "sliding_window": {**evaluation["sliding_window"], **window}})


def test_the_window_is_the_training_patch_unless_set(params) -> None:
    assert evaluation_window(_evaluation(params, roi_size=None), CONFIG).roi_size == (16, 16, 8)
    window = evaluation_window(_evaluation(params, roi_size=[32, 32, 16], overlap=0.25, sw_batch_size=3), CONFIG)
    assert (window.roi_size, window.overlap, window.sw_batch_size) == ((32, 32, 16), 0.25, 3)


def test_a_window_the_network_cannot_take_is_refused_with_its_key(params) -> None:
    with pytest.raises(ValueError, match=r"evaluation.sliding_window.roi_size \[32, 30, 16\].*H=|W=30") as caught:
        evaluation_window(_evaluation(params, roi_size=[32, 30, 16]), CONFIG)
    assert "parameters_evaluation.yml" in str(caught.value) and "use 24 or 32" in str(caught.value)


def test_predict_volumes_refuses_the_window_before_predicting(params, monkeypatch) -> None:
    monkeypatch.setattr(nodes, "segment_volume", None)  # would fail if any volume were predicted
    evaluation = {
        **params["evaluation"],
        "sliding_window": {**params["evaluation"]["sliding_window"], "roi_size": [20, 16, 8]},
    }
    images = {k: (lambda v=v: NiftiVolume.from_array(v, SPACING)) for k, v in _labels().items()}
    lineage = model_lineage("dice_ce", _fold(), 0, "abc")
    with pytest.raises(ValueError, match="evaluation.sliding_window.roi_size"):
        predict_volumes(images, _fold(), {}, CONFIG, lineage, evaluation, params["training"], **RUN)


def test_components_cleaned_beside_the_next_prediction_are_those_of_each_volume(params, monkeypatch) -> None:
    """The clean-up runs in a thread while the next volume is predicted: each volume's cleaned mask
    is its own raw mask cleaned (specks removed), whatever order the threads finish in."""
    labels = _labels()

    def speckled(model, image, window, device):  # the vessel plus single-voxel specks, per volume
        mask = (image > 500).astype(np.uint8)
        rng = np.random.default_rng(int(mask.sum()))
        mask[rng.random(mask.shape) < 0.02] = 1
        return mask, mask.astype(np.float32)

    monkeypatch.setattr(nodes, "segment_volume", speckled)
    images = {
        k: (lambda v=v: NiftiVolume.from_array((100 + 800 * v.astype(np.uint16)).astype(np.uint16), SPACING))
        for k, v in labels.items()
    }
    model = build_dynunet(DynUNetConfig.from_dict(CONFIG))
    lineage = model_lineage("dice_ce", _fold(), 0, "abc")
    predictions, _, _ = predict_volumes(
        images, _fold(), model.state_dict(), CONFIG, lineage, params["evaluation"], params["training"], **RUN
    )
    settings = ComponentSettings(**EvaluationParams.model_validate(params["evaluation"]).components.model_dump())
    for volume_id in ("mv02", "mv03"):
        raw = predictions[f"none/{volume_id}"]
        cleaned = predictions[f"components/{volume_id}"]
        np.testing.assert_array_equal(cleaned.array, clean_components(raw.array, raw.spacing, settings))
        assert cleaned.array.sum() < raw.array.sum() and cleaned.spacing == raw.spacing
