"""The bundle's ``docs/README.md``, ``LICENSE`` and ``docs/data_license.txt``."""

from __future__ import annotations

from collections.abc import Mapping

from minivess_kedro.bundle.configs import MINIVESS_CITATION

MIT_LICENSE = """MIT License

Copyright (c) minivess_kedro authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def data_license() -> str:
    """The licence of the data the weights were trained on."""
    return (
        "The weights in models/ were trained on MiniVess, licensed under the Creative Commons\n"
        "Attribution-NonCommercial-ShareAlike 4.0 International licence (CC BY-NC-SA 4.0):\n"
        "https://creativecommons.org/licenses/by-nc-sa/4.0/\n\n"
        "Non-commercial use only; adaptations are shared under the same licence; attribute the\n"
        "dataset by citing:\n\n"
        f"{MINIVESS_CITATION}\n\n"
        "Dataset: EBRAINS bf268b89-1420-476b-b428-b85a913eb523, doi:10.25493/HPBE-YHK.\n"
        "The code of this bundle (configs/, scripts/) is under the MIT licence in LICENSE.\n"
    )


def readme(meta: Mapping) -> str:
    """``docs/README.md``: what the model is, how to run it, what its numbers mean."""
    info = meta["minivess_kedro"]
    members = info["members"]
    member_lines = "\n".join(
        f"| {m.get('fold_idx', '?')} | {m.get('seed', '?')} | `{m['run_id']}` | {m.get('version', '?')} |"
        for m in members
    )
    ensemble = (
        f"The fold ensemble of {len(members)} networks (every fold x seed the study's verdict is about); "
        "`models/model.pt` holds them all and predicts the mean of their softmax probabilities.\n\n"
        "| fold | seed | MLflow run | model version |\n|---|---|---|---|\n" + member_lines
        if members
        else "One network of one training run."
    )
    window = meta["network_data_format"]["inputs"]["image"]["spatial_shape"]
    return f"""# {meta["name"]}

{meta["description"]}

## The model

{ensemble}

Exported from `{info["model_uri"]}` ({info["model_name"]} version {info["model_version"]}, MLflow run
`{info["model_run_id"]}`). Post-processing of the masks: `{info["postprocessing"]["mode"]}` (the one the
study's report judged).

## Run it

```bash
pip install monai=={meta["monai_version"]} torch nibabel scikit-image scipy pytorch-ignite fire
python -m monai.bundle run --config_file configs/inference.json --dataset_dir /path/to/volumes
```

Every `*.nii.gz` / `*.nii` of `dataset_dir` is z-scored on its non-zero voxels, segmented with
sliding windows of {window} voxels (Gaussian blending) and written as `eval/<name>_mask.nii.gz`
(uint8, the source's affine). Voxel sizes are read in micrometres from the NIfTI header.
`models/model.ts` is the same network as TorchScript (input `B x 1 x H x W x D`, output the two
class probabilities).

## Expected performance

The study's report (`report.md`, section "Models promoted") gives the cross-validated test numbers
of the members. The ensemble itself was not tested on volumes unseen by all its members; averaging
members usually helps, by an amount this export does not measure.

## Licence

Code: MIT (`LICENSE`). Weights: trained on MiniVess, CC BY-NC-SA 4.0 (`docs/data_license.txt`).
Cite: {MINIVESS_CITATION}
"""
