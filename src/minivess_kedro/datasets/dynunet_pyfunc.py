"""The registered model: a trained DynUNet as an MLflow pyfunc, logged as code.

MLflow's "models from code": this file is stored with the model and executed at load time, and
the weights are read with ``torch.load(..., weights_only=True)``, so loading a registered model
never unpickles anything. Input: one raw volume ``H x W x D``; output: its {0, 1} vessel mask.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import torch

from minivess_kedro.inference import SlidingWindowConfig, segment_volume
from minivess_kedro.models import DynUNetConfig, build_dynunet


class DynUNetSegmenter(mlflow.pyfunc.PythonModel):
    """Segments a whole volume with sliding-window inference at the training patch size."""

    def load_context(self, context) -> None:
        config = json.loads(Path(context.artifacts["model_config"]).read_text())
        self.model = build_dynunet(DynUNetConfig.from_dict(config))
        self.model.load_state_dict(torch.load(context.artifacts["state_dict"], map_location="cpu", weights_only=True))
        self.model.eval()
        self.window = SlidingWindowConfig(roi_size=tuple(config["patch_size"]))

    def predict(self, context, model_input: np.ndarray, params: dict | None = None) -> np.ndarray:
        mask, _ = segment_volume(self.model, np.asarray(model_input), self.window)
        return mask


mlflow.models.set_model(DynUNetSegmenter())
