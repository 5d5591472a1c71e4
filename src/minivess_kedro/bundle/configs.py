"""The bundle's ``configs/inference.json`` and ``configs/metadata.json`` (MONAI Bundle specification)."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import version

import numpy as np
import torch

from minivess_kedro.inference.sliding_window import SlidingWindowConfig
from minivess_kedro.models import DynUNetConfig
from minivess_kedro.models.dynunet import dynunet_arguments

SCHEMA = "https://github.com/Project-MONAI/MONAI-extra-test-data/releases/download/0.8.1/meta_schema_20240725.json"
MINIVESS_CITATION = (
    "Poon C, Teikari P, Rachmadi MF, Skibbe H, Hynynen K. A dataset of rodent cerebrovasculature from in vivo "
    "multiphoton fluorescence microscopy imaging. Scientific Data 10, 141 (2023). doi:10.1038/s41597-023-02048-8"
)


def _postprocessing(postprocessing: Mapping) -> list[dict]:
    """Argmax of the mean probability, the verdict's clean-up, and the uint8 mask beside the input."""
    steps: list[dict] = [{"_target_": "AsDiscreted", "keys": "pred", "argmax": True}]
    if postprocessing["mode"] == "components":
        sizes = postprocessing["components"]
        steps.append(
            {
                "_target_": "scripts.components_transform.CleanComponentsd",
                "keys": "pred",
                "min_volume_um3": float(sizes["min_volume_um3"]),
                "max_hole_um3": float(sizes["max_hole_um3"]),
            }
        )
    steps.append(
        {
            "_target_": "SaveImaged",
            "keys": "pred",
            "output_dir": "@output_dir",
            "output_postfix": "mask",
            "output_dtype": "$numpy.uint8",
            "separate_folder": False,
            "resample": False,
            "print_log": False,
        }
    )
    return steps


def network_definition(num_members: int | None) -> dict | str:
    """``network_def``: the ensemble of ``num_members`` DynUNets (mean softmax), or, for one
    training run's version (``None``), the DynUNet itself (logits, blended across windows as the
    inference pipeline blends them)."""
    if num_members is None:
        return "$monai.networks.nets.DynUNet(**@member_def)"
    return {
        "_target_": "scripts.softmax_mean.SoftmaxMeanEnsemble",
        "members": "$[monai.networks.nets.DynUNet(**@member_def) for _ in range(@num_members)]",
    }


def inference_config(
    model_config: Mapping, num_members: int | None, window: SlidingWindowConfig, postprocessing: Mapping
) -> dict:
    """``configs/inference.json``: every ``*.nii.gz`` / ``*.nii`` of ``dataset_dir`` segmented into
    ``output_dir/<name>_mask.nii.gz``, with the preprocessing, window and post-processing of the
    project's inference pipeline.

    Args:
        model_config: the members' network configuration.
        num_members: networks of the ensemble (``None``: one training run's network).
        window: the evaluation's window (the training patch), overlap and blending.
        postprocessing: the verdict's (``{"mode": "none"}`` or ``components`` with its sizes).
    """
    return {
        "imports": ["$import glob", "$import os", "$import numpy", "$import scripts"],
        "bundle_root": ".",
        "output_dir": "$@bundle_root + '/eval'",
        "dataset_dir": "/workspace/data",
        "datalist": "$sorted(glob.glob(os.path.join(@dataset_dir, '*.nii.gz')) "
        "+ glob.glob(os.path.join(@dataset_dir, '*.nii')))",
        "device": "$torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')",
        **({} if num_members is None else {"num_members": num_members}),
        "member_def": dynunet_arguments(DynUNetConfig.from_dict(dict(model_config))),
        "network_def": network_definition(num_members),
        "network": "$@network_def.to(@device)",
        "preprocessing": {
            "_target_": "Compose",
            "transforms": [
                {"_target_": "LoadImaged", "keys": "image", "reader": "NibabelReader"},
                {"_target_": "EnsureChannelFirstd", "keys": "image"},
                {"_target_": "NormalizeIntensityd", "keys": "image", "nonzero": True},
                {"_target_": "EnsureTyped", "keys": "image", "dtype": "$torch.float32"},
            ],
        },
        "dataset": {
            "_target_": "Dataset",
            "data": "$[{'image': path} for path in @datalist]",
            "transform": "@preprocessing",
        },
        "dataloader": {
            "_target_": "DataLoader",
            "dataset": "@dataset",
            "batch_size": 1,
            "shuffle": False,
            "num_workers": 0,
        },
        "inferer": {
            "_target_": "SlidingWindowInferer",
            "roi_size": list(window.roi_size),
            "sw_batch_size": window.sw_batch_size,
            "overlap": window.overlap,
            "mode": window.mode,
        },
        "postprocessing": {"_target_": "Compose", "transforms": _postprocessing(postprocessing)},
        "handlers": [
            {
                "_target_": "CheckpointLoader",
                "load_path": "$@bundle_root + '/models/model.pt'",
                "load_dict": {"model": "@network"},
            },
            {"_target_": "StatsHandler", "iteration_log": False},
        ],
        "evaluator": {
            "_target_": "SupervisedEvaluator",
            "device": "@device",
            "val_data_loader": "@dataloader",
            "network": "@network",
            "inferer": "@inferer",
            "postprocessing": "@postprocessing",
            "val_handlers": "@handlers",
            "amp": False,
        },
        "initialize": [],
        "run": ["$@evaluator.run()"],
    }


def metadata(model: Mapping, ensemble: Mapping | None, window: SlidingWindowConfig, postprocessing: Mapping) -> dict:
    """``configs/metadata.json``.

    Args:
        model: the version's identity (``name``, ``version``, ``run_id``, ``uri``).
        ensemble: its record (``loss``, ``members``), ``None`` for one training run's network.
        window: the inference window (the network's input patch).
        postprocessing: the verdict's.
    """
    members = list(ensemble["members"]) if ensemble else []
    what = (
        f"the fold ensemble of {len(members)} DynUNet networks trained with the {ensemble['loss']} loss (every "
        "fold x seed of the study; the mean of their softmax probabilities)"
        if ensemble
        else "one DynUNet network of one training run"
    )
    return {
        "schema": SCHEMA,
        "version": "1.0.0",
        "changelog": {"1.0.0": f"exported from {model['uri']} ({model['name']} version {model['version']})"},
        "monai_version": version("monai"),
        "pytorch_version": torch.__version__.split("+")[0],
        "numpy_version": np.__version__,
        "optional_packages_version": {},
        "required_packages_version": {
            "nibabel": version("nibabel"),
            "scikit-image": version("scikit-image"),
            "scipy": version("scipy"),
            "pytorch-ignite": version("pytorch-ignite"),
            "fire": version("fire"),
        },
        "name": f"MiniVess vessel segmentation ({model['name']} v{model['version']})",
        "task": "Binary segmentation of blood vessels in 3D two-photon microscopy volumes of rodent brain",
        "description": (
            f"Vessel segmentation of MiniVess-like two-photon volumes by {what}, exported by minivess_kedro "
            f"from the MLflow model {model['name']} version {model['version']}. Input: one raw intensity volume "
            "(z-scored on non-zero voxels); output: the {0, 1} vessel mask, post-processing: "
            f"{postprocessing['mode']}."
        ),
        "authors": "minivess_kedro authors",
        "copyright": "Copyright (c) minivess_kedro authors",
        "data_source": "MiniVess (EBRAINS, doi:10.25493/HPBE-YHK)",
        "data_type": "nibabel",
        "image_classes": "single channel two-photon fluorescence intensity",
        "label_classes": "0 background, 1 vessel",
        "pred_classes": "0 background, 1 vessel",
        "eval_metrics": {},
        "intended_use": (
            "Research only; not for clinical use. Trained on data licensed CC BY-NC-SA 4.0 (non-commercial)."
        ),
        "references": [MINIVESS_CITATION],
        "minivess_kedro": {
            "model_uri": model["uri"],
            "model_name": model["name"],
            "model_version": model["version"],
            "model_run_id": model["run_id"],
            "members": members,
            "postprocessing": dict(postprocessing),
        },
        "network_data_format": {
            "inputs": {
                "image": {
                    "type": "image",
                    "format": "magnitude",
                    "modality": "two-photon microscopy",
                    "num_channels": 1,
                    "spatial_shape": list(window.roi_size),
                    "dtype": "float32",
                    "value_range": [],
                    "is_patch_data": True,
                    "channel_def": {"0": "image"},
                }
            },
            "outputs": {
                "pred": {
                    "type": "image",
                    "format": "labels",
                    "num_channels": 2,
                    "spatial_shape": list(window.roi_size),
                    "dtype": "float32",
                    "value_range": [0, 1] if ensemble else [],  # mean probabilities, or one network's logits
                    "is_patch_data": True,
                    "channel_def": {"0": "background", "1": "vessel"},
                }
            },
        },
    }
