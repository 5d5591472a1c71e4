"""The fold ensemble against its single networks: test DSC on unseen volumes, seconds per volume.

The report promotes a loss's fold ensemble (every fold x seed network, mean of softmax) but
cannot test it: each study volume was a training or selection volume of some member. The
synthetic generator makes volumes no member saw, so here the ensemble and each member alone
segment the same fresh volumes, alternated in one run on one machine, with the evaluation's
window and overlap. Prints per network the mean test DSC and seconds per volume, and the
ensemble's gain and cost against the mean member.

Run after a demo study of several folds and its report (which registers the ensembles):
    kedro sweep --env demo --losses dice_ce --folds 0,1,2
    python bench/ensemble.py                       # models:/minivess-dynunet-demo@reference
    python bench/ensemble.py --model models:/minivess-dynunet-demo/7 --volumes 12
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import mlflow
import numpy as np
import torch

from minivess_kedro.data.synthetic import generate_volume
from minivess_kedro.data.synthetic_dataset import SyntheticDatasetSettings
from minivess_kedro.datasets.registry_model_dataset import RegistryModelDataset
from minivess_kedro.inference import SlidingWindowConfig, segment_volume
from minivess_kedro.metrics import compute_dsc
from minivess_kedro.models import DynUNetConfig, build_dynunet, build_ensemble

PROJECT = Path(__file__).resolve().parents[1]
FRESH_SEED = 777  # volume i is seed 777_000 + i: the demo dataset (seed 2023) never draws these


def fresh_volumes(count: int, size_hw: tuple[int, int], depth_range: tuple[int, int]):
    """Synthetic volumes of the demo's sizes that no member was trained, selected or tested on."""
    depths = np.random.default_rng(FRESH_SEED).integers(depth_range[0], depth_range[1] + 1, size=count)
    return [generate_volume(FRESH_SEED * 1000 + i, shape=(*size_hw, int(d))) for i, d in enumerate(depths, start=1)]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models:/minivess-dynunet-demo@reference")
    parser.add_argument("--tracking-uri", default=f"sqlite:///{PROJECT / 'mlflow.db'}")
    parser.add_argument("--volumes", type=int, default=8)
    parser.add_argument("--overlap", type=float, default=0.5, help="the evaluation's sliding_window.overlap")
    parser.add_argument("--size-hw", type=int, nargs=2, default=[96, 96], help="the demo's synthetic.size_hw")
    args = parser.parse_args(argv)

    mlflow.set_tracking_uri(args.tracking_uri)
    model = RegistryModelDataset(uri=args.model).load()
    if model["ensemble"] is None:
        raise SystemExit(f"{args.model} is one network, not an ensemble: name the version a report registered")
    config = model["model_config"]
    networks: dict[str, torch.nn.Module] = {}
    for member, state in zip(model["ensemble"]["members"], model["members"], strict=True):
        network = build_dynunet(DynUNetConfig.from_dict(config))
        network.load_state_dict(state)
        networks[f"fold {member['fold_idx']} seed {member['seed']}"] = network.eval()
    networks["ensemble"] = build_ensemble(config, model["members"])
    window = SlidingWindowConfig(roi_size=tuple(config["patch_size"]), overlap=args.overlap, sw_batch_size=4)
    depth_range = SyntheticDatasetSettings().depth_range
    volumes = fresh_volumes(args.volumes, tuple(args.size_hw), depth_range)

    dsc: dict[str, list[float]] = {name: [] for name in networks}
    seconds: dict[str, list[float]] = {name: [] for name in networks}
    for index, volume in enumerate(volumes):
        order = list(networks) if index % 2 == 0 else list(reversed(networks))  # alternate who runs first
        for name in order:
            started = time.perf_counter()
            mask, _ = segment_volume(networks[name], volume.image, window)
            seconds[name].append(time.perf_counter() - started)
            dsc[name].append(compute_dsc(mask, volume.label))

    members = [name for name in networks if name != "ensemble"]
    print(f"{args.model}: {len(members)} members ({model['ensemble']['loss']}), {len(volumes)} fresh volumes")
    print(f"{'network':<22}{'test DSC':>10}{'s/volume':>10}")
    for name in networks:
        print(f"{name:<22}{statistics.mean(dsc[name]):>10.4f}{statistics.mean(seconds[name]):>10.3f}")
    member_dsc = statistics.mean(statistics.mean(dsc[name]) for name in members)
    member_seconds = statistics.mean(statistics.mean(seconds[name]) for name in members)
    result = {
        "members": len(members),
        "volumes": len(volumes),
        "member_dsc": member_dsc,
        "best_member_dsc": max(statistics.mean(dsc[name]) for name in members),
        "ensemble_dsc": statistics.mean(dsc["ensemble"]),
        "member_seconds": member_seconds,
        "ensemble_seconds": statistics.mean(seconds["ensemble"]),
    }
    print(
        f"ensemble - mean member DSC: {result['ensemble_dsc'] - member_dsc:+.4f} "
        f"(best member {result['best_member_dsc']:.4f}); time: {result['ensemble_seconds'] / member_seconds:.2f}x "
        "a member's"
    )
    return result


if __name__ == "__main__":
    main()
