"""The fold ensemble: the mean of its members' softmax probabilities, in eager mode, TorchScript
and through the sliding window of inference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from minivess_kedro.inference import SlidingWindowConfig, segment_volume
from minivess_kedro.inference.segment import normalised_image
from minivess_kedro.models import DynUNetConfig, SoftmaxMeanEnsemble, build_dynunet, build_ensemble

CONFIG = {**DynUNetConfig(filters=(4, 8, 16, 32)).to_dict(), "patch_size": [16, 16, 8]}


def _states(count: int) -> list[dict[str, torch.Tensor]]:
    states = []
    for seed in range(count):
        torch.manual_seed(seed)
        states.append(build_dynunet(DynUNetConfig.from_dict(CONFIG)).state_dict())
    return states


def _members(states) -> list[torch.nn.Module]:
    members = []
    for state in states:
        network = build_dynunet(DynUNetConfig.from_dict(CONFIG)).eval()
        network.load_state_dict(state)
        members.append(network)
    return members


@torch.no_grad()
def test_the_output_is_the_mean_of_the_members_softmax_probabilities() -> None:
    states = _states(3)
    x = torch.randn(2, 1, 16, 16, 8)
    expected = sum(torch.softmax(m(x), dim=1) for m in _members(states)) / 3
    output = build_ensemble(CONFIG, states)(x)
    assert output.shape == (2, 2, 16, 16, 8) and output.dtype == torch.float32
    torch.testing.assert_close(output, expected)
    torch.testing.assert_close(output.sum(dim=1), torch.ones(2, 16, 16, 8))


@torch.no_grad()
def test_the_torchscript_ensemble_predicts_as_the_eager_one() -> None:
    ensemble = build_ensemble(CONFIG, _states(2))
    x = torch.randn(1, 1, 16, 16, 8)
    torch.testing.assert_close(torch.jit.script(ensemble)(x), ensemble(x))


def test_a_member_of_another_network_is_refused_by_position() -> None:
    other = build_dynunet(DynUNetConfig(filters=(8, 16, 32, 64))).state_dict()
    with pytest.raises(ValueError, match=r"ensemble member 1: its weights do not fit the model config"):
        build_ensemble(CONFIG, [_states(1)[0], other])
    with pytest.raises(ValueError, match="at least one member"):
        SoftmaxMeanEnsemble([])


def test_a_volume_is_segmented_by_the_argmax_of_the_mean_probability() -> None:
    """A volume of one window: the blended output is the ensemble's own output."""
    states = _states(2)
    image = np.random.default_rng(0).gamma(2.0, 100.0, size=(16, 16, 8)).astype(np.float32)
    window = SlidingWindowConfig(roi_size=(16, 16, 8), overlap=0.25)
    mask, probability = segment_volume(build_ensemble(CONFIG, states), image, window)
    with torch.no_grad():
        x = normalised_image(image)
        expected = sum(torch.softmax(m(x), dim=1) for m in _members(states))[0] / 2
    np.testing.assert_allclose(probability, expected[1].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(mask, (expected[1] > expected[0]).numpy().astype(np.uint8))


def test_an_ensemble_of_one_network_segments_as_that_network() -> None:
    state = _states(1)[0]
    image = np.random.default_rng(1).gamma(2.0, 100.0, size=(24, 20, 8)).astype(np.float32)
    window = SlidingWindowConfig(roi_size=(16, 16, 8), overlap=0.5)
    single, _ = segment_volume(_members([state])[0], image, window)
    ensemble, _ = segment_volume(build_ensemble(CONFIG, [state]), image, window)
    # blending probabilities instead of logits across windows may only flip voxels near 0.5
    assert np.mean(single != ensemble) < 0.01
