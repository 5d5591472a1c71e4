"""Optional cross-check of the project's values against MetricsReloaded itself.

Usage::

    python -m minivess_kedro.tools.crosscheck FOLDER [--tau 1.0] [--rtol 1e-6]

FOLDER holds pairs ``<case>_pred.nii[.gz]`` / ``<case>_ref.nii[.gz]`` (the layout of the shared
reference cases). For every pair the command prints the project's DSC, clDice, MASD, HD95 and
NSD next to MetricsReloaded's and exits with status 1 if any differ by more than ``rtol``
(relative) outside the documented policy cells (where MetricsReloaded returns NaN).

MetricsReloaded is not on PyPI and not a dependency of this project. Without it the command
prints how to install it and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import nibabel as nib
import numpy as np

from minivess_kedro.metrics.evaluate import evaluate_pair

INSTALL_HINT = (
    "MetricsReloaded is not importable. It is not on PyPI; with internet access install it "
    "from its repository:\n"
    "    pip install git+https://github.com/Project-MONAI/MetricsReloaded.git\n"
    "then rerun this command. The project's metrics do not need it."
)
#: project key -> (MetricsReloaded BinaryPairwiseMeasures method, printed name)
MR_METHODS: dict[str, str] = {
    "dsc": "dsc",
    "cldice": "centreline_dsc",
    "masd": "measured_masd",
    "hd95": "measured_hausdorff_distance_perc",
    "nsd": "normalised_surface_distance",
}


def import_metricsreloaded() -> ModuleType | None:
    """MetricsReloaded's pairwise-measures module, or ``None`` when it is not installed."""
    try:
        return importlib.import_module("MetricsReloaded.metrics.pairwise_measures")
    except ImportError:
        return None


def find_pairs(folder: Path) -> list[tuple[str, Path, Path]]:
    """``(case, pred_path, ref_path)`` for every ``<case>_pred.nii[.gz]`` in ``folder``.

    Raises:
        ValueError: if the folder does not exist, holds no pair, or a prediction has no
            reference.
    """
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder.")
    pairs = []
    for pred_path in sorted(folder.glob("*_pred.nii*")):
        case, suffix = pred_path.name.rsplit("_pred", 1)  # case names may contain "_pred"
        ref_path = folder / f"{case}_ref{suffix}"
        if not ref_path.is_file():
            raise ValueError(f"{pred_path.name} has no reference {ref_path.name} in {folder}.")
        pairs.append((case, pred_path, ref_path))
    if not pairs:
        raise ValueError(f"no '<case>_pred.nii[.gz]' files in {folder}.")
    return pairs


def load_pair(pred_path: Path, ref_path: Path) -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    """Masks and header spacing of a pair (spacing must agree between the two headers)."""
    pred_img, ref_img = nib.load(pred_path), nib.load(ref_path)
    spacing = tuple(float(z) for z in pred_img.header.get_zooms()[:3])
    ref_spacing = tuple(float(z) for z in ref_img.header.get_zooms()[:3])
    if spacing != ref_spacing:
        raise ValueError(f"{pred_path.name} and {ref_path.name} differ in spacing.")
    return np.asanyarray(pred_img.dataobj), np.asanyarray(ref_img.dataobj), spacing


def metricsreloaded_values(
    module: ModuleType, pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float], tau: float
) -> dict[str, float]:
    """The five metrics as MetricsReloaded's ``BinaryPairwiseMeasures`` computes them."""
    measures = module.BinaryPairwiseMeasures(
        np.asarray(pred, dtype=np.int32),
        np.asarray(ref, dtype=np.int32),
        measures=list(MR_METHODS),
        pixdim=list(spacing),
        dict_args={"hd_perc": 95, "nsd": tau},
    )
    values = {}
    for key, method in MR_METHODS.items():
        value = getattr(measures, method)()
        values[key] = math.nan if value is None else float(value)
    return values


def agrees(ours: float, theirs: float, rtol: float) -> bool:
    """Equal within ``rtol``, or a documented policy cell (MetricsReloaded gives NaN)."""
    if math.isnan(theirs):
        return True  # our policy replaces MetricsReloaded's NaN (see docs/metrics.md)
    if math.isnan(ours):
        return False
    return abs(ours - theirs) <= rtol * max(abs(theirs), abs(ours)) or ours == theirs


def crosscheck(
    folder: Path,
    tau: float = 1.0,
    rtol: float = 1e-6,
    module: ModuleType | None = None,
    echo: Callable[[str], Any] = print,
) -> bool:
    """Compare every pair in ``folder``; return ``True`` when all values agree."""
    ok = True
    echo(f"{'case':24s} {'metric':7s} {'project':>14s} {'MetricsReloaded':>16s}")
    for case, pred_path, ref_path in find_pairs(folder):
        pred, ref, spacing = load_pair(pred_path, ref_path)
        ours = evaluate_pair(pred, ref, spacing, nsd_tau=tau)
        theirs = metricsreloaded_values(module, pred, ref, spacing, tau)
        for key in MR_METHODS:
            good = agrees(ours[key], theirs[key], rtol)
            ok &= good
            flag = "" if good else "  <- differs"
            echo(f"{case:24s} {key:7s} {ours[key]:14.8g} {theirs[key]:16.8g}{flag}")
    return ok


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: 0 agree, 1 differ, 2 MetricsReloaded missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tau", type=float, default=1.0, help="NSD tolerance (header units)")
    parser.add_argument("--rtol", type=float, default=1e-6)
    args = parser.parse_args(argv)
    module = import_metricsreloaded()
    if module is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    return 0 if crosscheck(args.folder, args.tau, args.rtol, module) else 1


if __name__ == "__main__":
    sys.exit(main())
