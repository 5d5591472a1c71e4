"""Inference applies the post-processing the verdict judged unless told otherwise, explicitly."""

from __future__ import annotations

import pytest

from minivess_kedro.inference.verdict_postprocessing import PostprocessingMismatchError, chosen_postprocessing
from minivess_kedro.postprocessing import ComponentSettings

URI = "models:/minivess-dynunet@best-cldice"
EVALUATION = ComponentSettings(min_volume_um3=100.0, max_hole_um3=50.0)
RECORDED = {"mode": "components", "components": {"min_volume_um3": 80.0, "max_hole_um3": 20.0}}


def test_auto_follows_the_models_record_with_its_component_sizes() -> None:
    assert chosen_postprocessing("auto", False, RECORDED, EVALUATION, URI) == (
        "components",
        ComponentSettings(min_volume_um3=80.0, max_hole_um3=20.0),
    )
    assert chosen_postprocessing("auto", False, {"mode": "none"}, EVALUATION, URI) == ("none", None)
    assert chosen_postprocessing("auto", False, None, EVALUATION, URI) == ("none", None)  # one run's network
    assert chosen_postprocessing("components", False, None, EVALUATION, URI) == ("components", EVALUATION)
    assert chosen_postprocessing("components", False, {"mode": "components"}, EVALUATION, URI) == (
        "components",
        EVALUATION,  # a record without sizes: the evaluation's
    )


def test_another_choice_than_the_verdicts_is_refused_unless_allowed() -> None:
    with pytest.raises(PostprocessingMismatchError) as err:
        chosen_postprocessing("none", False, RECORDED, EVALUATION, URI)
    assert str(err.value) == (
        f"inference.postprocessing=none, but the report's verdict on {URI} judged components-post-processed masks "
        "(the model's record): drop inference.postprocessing to follow the verdict, or add "
        "inference.allow_postprocessing_mismatch=true to use none"
    )
    assert chosen_postprocessing("none", True, RECORDED, EVALUATION, URI) == ("none", None)
    # components asked for against a none verdict: the evaluation's sizes, once allowed
    assert chosen_postprocessing("components", True, {"mode": "none"}, EVALUATION, URI) == ("components", EVALUATION)


def test_a_verdict_on_a_post_processing_inference_cannot_apply_is_refused_with_the_way_out() -> None:
    with pytest.raises(PostprocessingMismatchError, match="judged toposculpt-post-processed masks, which inference"):
        chosen_postprocessing("auto", False, {"mode": "toposculpt"}, EVALUATION, URI)
    with pytest.raises(PostprocessingMismatchError, match=r"pass inference.postprocessing=none\|components with"):
        chosen_postprocessing("auto", False, {"mode": "toposculpt"}, EVALUATION, URI)
    with pytest.raises(
        PostprocessingMismatchError, match=r"does not apply: add inference.allow_postprocessing_mismatch"
    ):
        chosen_postprocessing("none", False, {"mode": "toposculpt"}, EVALUATION, URI)
    assert chosen_postprocessing("none", True, {"mode": "toposculpt"}, EVALUATION, URI) == ("none", None)
