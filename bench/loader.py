"""Training loader throughput at MiniVess size, against the rate the profile's training steps
consume patches: the current loader and the former one, measured side by side in one run.

The current loader (``minivess_kedro.training.data``) caches each volume's vessel and background
voxel indices with it, hands the cache to the random steps without a copy and keeps its workers
for the whole run; the former one rebuilt both index lists over the whole volume for every
sample, deep-copied the cached volume for every sample and restarted its workers every epoch.
The volumes are synthetic MiniVess-like volumes of 512 x 512 x ~100 (generated at half size and
upsampled, nearest, which keeps the vessel fraction).

Run from the project root:
    python bench/loader.py --env cpu
    python bench/loader.py --env cloud_single --out loader.json   # on the GPU machine
Goal: the current loader at least 3x the profile's step rate.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from monai.data import CacheDataset
from monai.transforms import Compose, RandCropByPosNegLabeld
from torch.utils.data import Subset

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling gpu_smoke.py
from gpu_smoke import hardware, profile_parameters

from minivess_kedro.data.synthetic import generate_volume
from minivess_kedro.losses import build_loss
from minivess_kedro.models import build_dynunet
from minivess_kedro.pipelines.training.nodes import loop_settings
from minivess_kedro.training import LoaderSettings, VolumeItem, build_training_dataset, resolve_device
from minivess_kedro.training.data import PatchLoader, epoch_loader
from minivess_kedro.training.device import autocast_dtype
from minivess_kedro.training.seeding import seed_everything
from minivess_kedro.training.steps import StepSettings, train_one_epoch
from minivess_kedro.training.transforms import KEYS, augmentation, preprocessing


def real_size_items(count: int, size: tuple[int, int, int]) -> list[VolumeItem]:
    """``count`` synthetic volumes of ``size`` (generated at half size, upsampled by 2, nearest)."""
    half = tuple(max(1, s // 2) for s in size)
    items = []
    for index in range(1, count + 1):
        volume = generate_volume(index, half)
        image, label = (np.repeat(np.repeat(np.repeat(a, 2, 0), 2, 1), 2, 2) for a in (volume.image, volume.label))
        spacing = tuple(s / 2 for s in volume.spacing)
        items.append(
            VolumeItem(
                f"mv{index:02d}",
                image[tuple(slice(0, s) for s in size)],
                label[: size[0], : size[1], : size[2]],
                spacing,
            )
        )
    return items


def former_dataset(items: list[VolumeItem], settings: LoaderSettings) -> Subset:
    """The loader before the cached indices: crop centres found in the label for every sample,
    the cache deep-copied for every sample."""
    patch = settings.patch_size
    crop = RandCropByPosNegLabeld(keys=KEYS, label_key="label", spatial_size=list(patch), num_samples=1)
    transform = Compose([*preprocessing(patch), crop, *augmentation(patch)[2:]])
    cached = CacheDataset([item.as_dict() for item in items], transform=transform, num_workers=None, progress=False)
    return Subset(cached, list(range(len(items))) * settings.samples_per_volume)


def loader_rate(epoch: Callable[[int], object], epochs: int, batch_size: int) -> dict:
    """Patches per second over ``epochs`` epochs, worker starts included."""
    patches, start = 0, time.perf_counter()
    for seed in range(epochs):
        for batch in epoch(seed):
            patches += batch["image"].shape[0]
    seconds = time.perf_counter() - start
    return {"patches": patches, "seconds": seconds, "patches_per_s": patches / seconds}


def step_rate(params, settings: LoaderSettings, batches: list[dict], device: torch.device) -> dict:
    """Patches per second the profile's training steps consume (batches already in memory), with
    the profile's own AMP, accumulation and kernel flags; the first pass warms up."""
    _, _, fit = loop_settings(params)
    seed_everything(fit.seed, fit.deterministic)
    model = build_dynunet(params.model.to_config()).to(device)
    loss = build_loss("dice_ce").to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=fit.learning_rate)
    dtype = autocast_dtype(device, fit.amp)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    steps = StepSettings(dtype, fit.grad_accumulation, fit.grad_clip, show_progress=False)
    train_one_epoch(model, loss, batches[:2], optimizer, scaler, device, steps, "warm-up")
    record = train_one_epoch(model, loss, batches, optimizer, scaler, device, steps, "timed")
    patches = sum(batch["image"].shape[0] for batch in batches)
    return {"patches": patches, "seconds": record["seconds"], "patches_per_s": patches / record["seconds"]}


def measure(env: str, volumes: int, size: tuple[int, int, int], epochs: int, device: torch.device) -> dict:
    params = profile_parameters(env)
    settings, _, _ = loop_settings(params)
    start = time.perf_counter()
    items = real_size_items(volumes, size)
    generated = time.perf_counter() - start
    result: dict = {"env": env, "hardware": hardware(device), "volumes": volumes, "size": list(size)}
    result["loader_settings"] = {
        "batch_size": settings.batch_size,
        "patch_size": list(settings.patch_size),
        "num_workers": settings.num_workers,
        "samples_per_volume": settings.samples_per_volume,
    }
    start = time.perf_counter()
    current = build_training_dataset(items, settings)
    cached_current = time.perf_counter() - start
    start = time.perf_counter()
    former = former_dataset(items, settings)
    cached_former = time.perf_counter() - start
    result["cache_seconds"] = {"current": cached_current, "former": cached_former, "generation": generated}

    patches = PatchLoader(current, settings)
    result["current"] = loader_rate(patches.epoch, epochs, settings.batch_size)
    result["former"] = loader_rate(lambda seed: epoch_loader(former, settings, seed), epochs, settings.batch_size)
    in_memory = list(PatchLoader(current, replace(settings, num_workers=0)).epoch(123))
    result["step"] = step_rate(params, settings, in_memory, device)
    step = result["step"]["patches_per_s"]
    result["current_over_step"] = result["current"]["patches_per_s"] / step
    result["former_over_step"] = result["former"]["patches_per_s"] / step
    result["current_over_former"] = result["current"]["patches_per_s"] / result["former"]["patches_per_s"]
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="cpu", help="compute profile (conf/<env>)")
    parser.add_argument("--volumes", type=int, default=4)
    parser.add_argument("--size", type=int, nargs=3, default=[512, 512, 100], help="H W D of each volume")
    parser.add_argument("--epochs", type=int, default=2, help="epochs drawn from each loader")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)

    result = measure(args.env, args.volumes, tuple(args.size), args.epochs, resolve_device(args.device))
    loader = result["loader_settings"]
    print(f"{args.env} on {result['hardware']}: {args.volumes} volumes {'x'.join(map(str, args.size))}")
    print(
        f"loader: batch {loader['batch_size']} x {'x'.join(map(str, loader['patch_size']))}, "
        f"{loader['num_workers']} workers, {args.epochs} epochs"
    )
    for name in ("current", "former", "step"):
        print(f"  {name:>8}: {result[name]['patches_per_s']:8.2f} patches/s ({result[name]['patches']} patches)")
    print(
        f"  current / step {result['current_over_step']:.1f}x, former / step {result['former_over_step']:.1f}x, "
        f"current / former {result['current_over_former']:.1f}x"
    )
    print("  caching: " + ", ".join(f"{k} {v:.1f} s" for k, v in result["cache_seconds"].items()))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
