"""The fold ensemble: the mean of its members' softmax probabilities, in eager mode, TorchScript
and through the sliding window of inference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from minivess_kedro.inference import SlidingWindowConfig, segment_volume
from minivess_kedro.inference.segment import normalised_image
from minivess_kedro.models import DynUNetConfig, SoftmaxMeanEnsemble, build_dynunet, build_ensemble, build_network

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


def test_an_ensemble_of_one_network_segments_a_window_as_that_network() -> None:
    """One window: no blending, so the argmax of the softmax is the argmax of the logits."""
    state = _states(1)[0]
    image = np.random.default_rng(1).gamma(2.0, 100.0, size=(16, 16, 8)).astype(np.float32)
    window = SlidingWindowConfig(roi_size=(16, 16, 8))
    single, single_probability = segment_volume(_members([state])[0], image, window)
    ensemble, probability = segment_volume(build_ensemble(CONFIG, [state]), image, window)
    np.testing.assert_array_equal(ensemble, single)
    np.testing.assert_allclose(probability, single_probability, rtol=1e-5, atol=1e-6)


def test_the_ensemble_runs_where_its_members_are() -> None:
    """On the meta device, as on CUDA, an intermediate left on the CPU would fail."""
    ensemble = build_ensemble(CONFIG, _states(2)).to("meta")
    output = ensemble(torch.empty(1, 1, 16, 16, 8, device="meta"))
    assert output.device.type == "meta" and output.shape == (1, 2, 16, 16, 8)


def test_a_training_runs_version_is_its_network_and_an_ensemble_version_the_mean() -> None:
    state = _states(1)[0]
    single = build_network(CONFIG, [state], ensemble=False)
    assert not isinstance(single, SoftmaxMeanEnsemble) and not single.training
    assert isinstance(build_network(CONFIG, [state], ensemble=True), SoftmaxMeanEnsemble)
    other = build_dynunet(DynUNetConfig(filters=(8, 16, 32, 64))).state_dict()
    with pytest.raises(ValueError, match="its weights do not fit the model config"):
        build_network(CONFIG, [other], ensemble=False)
