"""A registered model version as the files of a MONAI Bundle."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from monai.data import save_net_with_metadata

from minivess_kedro.bundle.configs import inference_config, metadata
from minivess_kedro.bundle.texts import MIT_LICENSE, data_license, readme
from minivess_kedro.inference.sliding_window import SlidingWindowConfig
from minivess_kedro.models import build_network
from minivess_kedro.models import softmax_mean as softmax_mean_module
from minivess_kedro.postprocessing import components as components_module
from minivess_kedro.postprocessing import components_transform as transform_module

#: Every file a bundle holds, relative to its root.
BUNDLE_FILES: tuple[str, ...] = (
    "configs/metadata.json",
    "configs/inference.json",
    "models/model.pt",
    "models/model.ts",
    "scripts/__init__.py",
    "scripts/softmax_mean.py",
    "scripts/components.py",
    "scripts/components_transform.py",
    "docs/README.md",
    "docs/data_license.txt",
    "LICENSE",
)


@dataclass(frozen=True)
class BundleSettings:
    """How the bundle segments.

    Attributes:
        window: the evaluation's window (the training patch), overlap and blending.
        postprocessing: the verdict's (``{"mode": "none"}``, or ``components`` with its sizes).
    """

    window: SlidingWindowConfig
    postprocessing: Mapping


def bundle_files(model: Mapping, settings: BundleSettings) -> dict[str, bytes]:
    """The bundle of a registered version, ``{path relative to the bundle root: content}``.

    Args:
        model: the version as :class:`~minivess_kedro.datasets.registry_model_dataset.RegistryModelDataset`
            loads it (``model``, ``members``, ``model_config``, ``ensemble``).
        settings: window and post-processing.

    Returns:
        Every file of :data:`BUNDLE_FILES`. ``models/model.pt`` is the state dict of the
        ensemble module (of the DynUNet itself for a training run's version, whose logits the
        inference pipeline blends); ``models/model.ts`` its TorchScript, saved with the metadata
        by MONAI's ``save_net_with_metadata``.
    """
    single = model["ensemble"] is None
    network = build_network(model["model_config"], model["members"], not single)
    meta = metadata(model["model"].to_dict(), model["ensemble"], settings.window, settings.postprocessing)
    members = None if single else len(model["members"])
    config = inference_config(model["model_config"], members, settings.window, settings.postprocessing)
    files = {
        "configs/metadata.json": json.dumps(meta, indent=2).encode(),
        "configs/inference.json": json.dumps(config, indent=2).encode(),
        "scripts/__init__.py": b'"""Modules the configs name: the ensemble and the components clean-up."""\n',
        "scripts/softmax_mean.py": Path(softmax_mean_module.__file__).read_bytes(),
        "scripts/components.py": Path(components_module.__file__).read_bytes(),
        "scripts/components_transform.py": Path(transform_module.__file__).read_bytes(),
        "docs/README.md": readme(meta).encode(),
        "docs/data_license.txt": data_license().encode(),
        "LICENSE": MIT_LICENSE.encode(),
    }
    with tempfile.TemporaryDirectory(prefix="bundle-") as scratch:
        folder = Path(scratch)
        torch.save(network.state_dict(), folder / "model.pt")
        scripted = torch.jit.script(network.cpu().eval())
        save_net_with_metadata(
            scripted,
            str(folder / "model"),
            include_config_vals=False,
            append_timestamp=False,
            meta_values=meta,
            more_extra_files={"inference.json": files["configs/inference.json"]},
        )
        files["models/model.pt"] = (folder / "model.pt").read_bytes()
        files["models/model.ts"] = (folder / "model.ts").read_bytes()
    return {name: files[name] for name in BUNDLE_FILES}
