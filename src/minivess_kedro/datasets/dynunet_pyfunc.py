"""The registered model: a trained DynUNet, or the fold ensemble of several, as an MLflow pyfunc
logged as code.

MLflow's "models from code": this file is stored with the model and executed at load time, and
the weights are read with ``torch.load(..., weights_only=True)``, so loading a registered model
never unpickles anything. A training run's version holds one network (artifact ``state_dict``);
the report's ensemble version holds every member (``member_0``, ``member_1``, ...) and predicts
the argmax of the mean of their softmax probabilities. Input: one raw volume ``H x W x D``;
output: its {0, 1} vessel mask (before any post-processing: the inference pipeline applies the
verdict's).

The caller names the device: ``mlflow.pyfunc.load_model(uri, model_config={"device": "cuda:1"})``
for the model's life, or ``predict(volume, params={"device": "cpu"})`` for one call; the default
``auto`` is CUDA when present, else the CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import torch

from minivess_kedro.inference import SlidingWindowConfig, segment_volume
from minivess_kedro.inference.registered_model import weights_artifacts
from minivess_kedro.models import DynUNetConfig, build_dynunet, build_ensemble
from minivess_kedro.training.device import resolve_device


class DynUNetSegmenter(mlflow.pyfunc.PythonModel):
    """Segments a whole volume with sliding-window inference at the training patch size."""

    def load_context(self, context) -> None:
        config = json.loads(Path(context.artifacts["model_config"]).read_text())
        names = weights_artifacts(context.artifacts)
        states = [torch.load(context.artifacts[name], map_location="cpu", weights_only=True) for name in names]
        if names == ["state_dict"]:
            self.model = build_dynunet(DynUNetConfig.from_dict(config))
            self.model.load_state_dict(states[0])
        else:
            self.model = build_ensemble(config, states)
        self.model.eval()
        self.window = SlidingWindowConfig(roi_size=tuple(config["patch_size"]))
        self.device = _device((getattr(context, "model_config", None) or {}).get("device", "auto"), "model_config")
        self.model.to(self.device)

    def predict(self, context, model_input: np.ndarray, params: dict | None = None) -> np.ndarray:
        device = _device(params["device"], "params") if params and "device" in params else self.device
        mask, _ = segment_volume(self.model.to(device), np.asarray(model_input), self.window, device)
        return mask


def _device(requested: str, where: str) -> torch.device:
    """The device a caller named in ``where`` (``auto``: CUDA when present)."""
    try:
        return resolve_device(str(requested))
    except (ValueError, RuntimeError) as err:
        raise ValueError(f"{where} device={requested!r}: not a device this machine has ({err})") from err


mlflow.models.set_model(DynUNetSegmenter())
