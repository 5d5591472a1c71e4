"""GPU smoke run: training steps of a compute profile with and without AMP, then one whole-volume
sliding-window inference, with peak memory and throughput.

It builds everything from the profile's resolved parameters (``conf/base`` + ``conf/<env>``), so
the numbers are those of ``kedro run --env <env>``: DynUNet, the loss, the patch and batch, the
project's own epoch loop. AMP and float32 steps alternate in one run (A B A B ...) and the AMP /
float32 ratio is printed; on the CPU there is no AMP (both are float32) and the ratio is ~1.

Run (on the GPU machine, from the project root):
    python bench/gpu_smoke.py --env gpu_low --loss dice_ce --steps 20 --volume 512 512 100
Writes the numbers as JSON with ``--out FILE``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from kedro.config import OmegaConfigLoader

from minivess_kedro import settings
from minivess_kedro.data.synthetic import generate_volume
from minivess_kedro.inference import SlidingWindowConfig, segment_volume
from minivess_kedro.losses import build_loss
from minivess_kedro.models import build_dynunet
from minivess_kedro.pipelines.training.nodes import loop_settings
from minivess_kedro.pipelines.training.params import TrainingParams
from minivess_kedro.training import VolumeItem, build_training_dataset, resolve_device
from minivess_kedro.training.data import epoch_loader
from minivess_kedro.training.device import autocast_dtype
from minivess_kedro.training.steps import StepSettings, train_one_epoch

PROJECT = Path(__file__).resolve().parents[1]


def resolved_parameters(env: str) -> dict:
    """Every parameter ``kedro run --env ENV`` would use (``conf/base`` + ``conf/<env>``)."""
    loader = OmegaConfigLoader(conf_source=str(PROJECT / "conf"), env=env, **settings.CONFIG_LOADER_ARGS)
    return loader["parameters"]


def profile_parameters(env: str) -> TrainingParams:
    """The training parameters ``kedro run --env ENV`` would use."""
    return TrainingParams.model_validate(resolved_parameters(env)["training"])


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{props.name} ({props.total_memory / 2**30:.0f} GiB), torch {torch.__version__}"
    threads = torch.get_num_threads()
    return f"CPU {platform.processor() or platform.machine()} x {threads} threads, torch {torch.__version__}"


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device: torch.device) -> float:
    """Peak GPU memory allocated by tensors since the last reset (NaN on the CPU)."""
    if device.type != "cuda":
        return float("nan")
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) / 2**30


def train_rates(params: TrainingParams, loss: str, steps: int, repeats: int, device: torch.device) -> dict:
    """Patches per second of the project's loop, AMP and float32 alternated; peak memory of each."""
    loader, _, fit = loop_settings(params)
    loader = replace(loader, samples_per_volume=max(1, steps * loader.batch_size // 4), num_workers=0)
    height, width, depth = loader.patch_size
    size = (max(2 * height, 64), max(2 * width, 64), max(2 * depth, 32))  # room for random crops
    items = [VolumeItem(f"mv{i:02d}", *_volume(i, size)) for i in range(1, 5)]
    dataset = build_training_dataset(items, loader)
    loss_fn = build_loss(loss, **params.loss_kwargs.get(loss, {})).to(device)
    modes = {"amp": autocast_dtype(device, True), "float32": None}
    rates: dict[str, list[float]] = {name: [] for name in modes}
    waits: dict[str, list[float]] = {name: [] for name in modes}
    peaks: dict[str, float] = {}
    for repeat in range(repeats + 1):  # round 0 warms up (cuDNN autotuning, allocator) and is not counted
        for name in list(modes)[:: 1 if repeat % 2 else -1]:
            torch.manual_seed(0)
            model = build_dynunet(params.model.to_config()).to(device)
            optimizer = torch.optim.AdamW(model.parameters(), lr=fit.learning_rate)
            scaler = torch.amp.GradScaler(device.type, enabled=modes[name] == torch.float16)
            step = StepSettings(modes[name], fit.grad_accumulation, fit.grad_clip, show_progress=False)
            reset_peak(device)
            batches = epoch_loader(dataset, loader, seed=repeat)
            record = train_one_epoch(model, loss_fn, batches, optimizer, scaler, device, step, name)
            if repeat:
                rates[name].append(len(batches) * loader.batch_size / record["seconds"])
                waits[name].append(record["data_wait_fraction"])
                peaks[name] = max(peak_gib(device), peaks.get(name, float("-inf")))  # NaN on the CPU
    amp_dtype = modes["amp"]
    return {
        "batch_size": loader.batch_size,
        "patch_size": list(loader.patch_size),
        "amp_dtype": str(amp_dtype).removeprefix("torch.") if amp_dtype else "none (CPU: float32)",
        "patches_per_s": {name: statistics.median(values) for name, values in rates.items()},
        "peak_gib": peaks,
        # Crops and augmentation run in the timed loop (no loader workers): this share of the time
        # is data, not network; a profile's loader workers hide it in a real run.
        "data_wait_fraction": {name: statistics.median(values) for name, values in waits.items()},
        "amp_over_float32": statistics.median(rates["amp"]) / statistics.median(rates["float32"]),
    }


def _volume(index: int, size: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    volume = generate_volume(index, size)
    return volume.image, volume.label, volume.spacing


def inference_time(params: TrainingParams, shape: tuple[int, int, int], device: torch.device) -> dict:
    """One whole-volume prediction as the evaluation pipeline makes it (sliding windows on the
    device, Gaussian blending, stitching on the CPU)."""
    model = build_dynunet(params.model.to_config()).to(device).eval()
    window = SlidingWindowConfig(
        roi_size=params.compute.patch_size, sw_batch_size=4, overlap=0.5, mode="gaussian", device="cpu"
    )
    image = np.random.default_rng(0).normal(1000, 200, size=shape).astype(np.float32)
    segment_volume(model, image[:, :, : min(shape[2], 16)], window, device)  # warm-up
    reset_peak(device)
    start = time.perf_counter()
    mask, _ = segment_volume(model, image, window, device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return {
        "shape": list(shape),
        "seconds": time.perf_counter() - start,
        "peak_gib": peak_gib(device),
        "foreground_share": float(mask.mean()),
    }


def _gib(value: float) -> str:
    return "n/a (CPU)" if math.isnan(value) else f"{value:.2f} GiB"  # no GPU memory counter on the CPU


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="gpu_low", help="compute profile (conf/<env>)")
    parser.add_argument("--loss", default="dice_ce")
    parser.add_argument("--steps", type=int, default=20, help="optimiser micro-steps per timed epoch")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--volume", type=int, nargs=3, default=[512, 512, 100], help="H W D of the inference volume")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)

    params = profile_parameters(args.env)
    device = resolve_device(args.device)
    torch.backends.cudnn.benchmark = device.type == "cuda"
    result = {"env": args.env, "loss": args.loss, "hardware": hardware(device)}
    result["training"] = train_rates(params, args.loss, args.steps, args.repeats, device)
    result["inference"] = inference_time(params, tuple(args.volume), device)

    train, infer = result["training"], result["inference"]
    print(f"{args.env} on {result['hardware']}")
    print(f"training, batch {train['batch_size']} x {'x'.join(map(str, train['patch_size']))}, {args.loss}:")
    for name, rate in train["patches_per_s"].items():
        wait, peak = 100 * train["data_wait_fraction"][name], _gib(train["peak_gib"][name])
        print(f"  {name:>8}: {rate:7.2f} patches/s, peak {peak}, {wait:.0f} % waiting for data")
    print(f"  AMP ({train['amp_dtype']}) / float32: {train['amp_over_float32']:.2f}")
    print(
        f"inference of one {'x'.join(map(str, infer['shape']))} volume: {infer['seconds']:.1f} s, "
        f"peak {_gib(infer['peak_gib'])}"
    )
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
