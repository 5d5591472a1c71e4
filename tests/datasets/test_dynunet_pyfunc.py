"""The registered model's loader reads weights only: a state-dict artifact replaced by a pickle
that runs code is refused before that code runs, and the real weights load and segment."""

from __future__ import annotations

import json
import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from minivess_kedro.datasets import dynunet_pyfunc as pyfunc_module
from minivess_kedro.datasets.dynunet_pyfunc import DynUNetSegmenter
from minivess_kedro.inference import SlidingWindowConfig, segment_volume
from minivess_kedro.models import DynUNetConfig, build_dynunet, build_ensemble

CONFIG = {**DynUNetConfig(filters=(4, 8, 16, 32)).to_dict(), "patch_size": [16, 16, 8]}


class _WritesAFile:
    """Unpickling this object writes ``path``: what a tampered artifact would do."""

    def __init__(self, path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _context(tmp_path, state_path) -> SimpleNamespace:
    config = tmp_path / "model_config.json"
    config.write_text(json.dumps(CONFIG))
    return SimpleNamespace(artifacts={"model_config": str(config), "state_dict": str(state_path)})


def test_the_trained_weights_load_and_segment(tmp_path) -> None:
    model = build_dynunet(DynUNetConfig.from_dict(CONFIG))
    torch.save(model.state_dict(), tmp_path / "best_model.pt")
    segmenter = DynUNetSegmenter()
    segmenter.load_context(_context(tmp_path, tmp_path / "best_model.pt"))

    mask = segmenter.predict(None, np.random.default_rng(0).normal(size=(20, 16, 8)).astype(np.float32))
    assert mask.shape == (20, 16, 8) and set(np.unique(mask)) <= {0, 1}


def test_the_caller_names_the_device(tmp_path, monkeypatch) -> None:
    """model_config names it for the model's life, params for one call; CUDA here is refused by name."""
    torch.save(build_dynunet(DynUNetConfig.from_dict(CONFIG)).state_dict(), tmp_path / "best_model.pt")
    used: list[torch.device] = []

    def segment(model, image, window, device):
        used.append(device)
        assert next(model.parameters()).device == device
        return np.zeros(image.shape, np.uint8), None

    monkeypatch.setattr(pyfunc_module, "segment_volume", segment)
    context = _context(tmp_path, tmp_path / "best_model.pt")
    segmenter = DynUNetSegmenter()
    segmenter.load_context(SimpleNamespace(**vars(context), model_config={"device": "cpu"}))
    volume = np.zeros((16, 16, 8), np.float32)
    segmenter.predict(None, volume)
    segmenter.predict(None, volume, params={"device": "auto"})
    assert used == [torch.device("cpu"), torch.device("cuda" if torch.cuda.is_available() else "cpu")]

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="params device='cuda': not a device this machine has"):
            segmenter.predict(None, volume, params={"device": "cuda"})
        with pytest.raises(ValueError, match="model_config device='cuda:1': not a device this machine has"):
            DynUNetSegmenter().load_context(SimpleNamespace(**vars(context), model_config={"device": "cuda:1"}))


@pytest.mark.parametrize("how", ["pickle", "torch.save"])
def test_a_tampered_weights_artifact_is_refused_before_its_code_runs(tmp_path, how) -> None:
    marker = tmp_path / "code-ran"
    tampered = tmp_path / "best_model.pt"
    payload = {"output_block.conv.conv.weight": _WritesAFile(marker)}
    if how == "pickle":
        tampered.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, tampered)

    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        DynUNetSegmenter().load_context(_context(tmp_path, tampered))
    assert not marker.exists()


def test_an_ensemble_version_predicts_the_argmax_of_its_members_mean_probability(tmp_path) -> None:
    """The report's ensemble: member_0, member_1 ... artifacts beside model_config and its record."""
    states = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        states.append(build_dynunet(DynUNetConfig.from_dict(CONFIG)).state_dict())
        torch.save(states[-1], tmp_path / f"member_{seed}.pt")
    context = _context(tmp_path, tmp_path / "member_0.pt")
    context.artifacts = {
        "model_config": context.artifacts["model_config"],
        "member_0": str(tmp_path / "member_0.pt"),
        "member_1": str(tmp_path / "member_1.pt"),
        "ensemble": str(tmp_path / "model_config.json"),  # a record the pyfunc does not need
    }
    segmenter = DynUNetSegmenter()
    segmenter.load_context(context)
    volume = np.random.default_rng(0).normal(size=(16, 16, 8)).astype(np.float32)

    expected, _ = segment_volume(build_ensemble(CONFIG, states), volume, SlidingWindowConfig(roi_size=(16, 16, 8)))
    np.testing.assert_array_equal(segmenter.predict(None, volume), expected)
    assert len(segmenter.model.members) == 2
