"""The one GPU check: every number the docs need from a GPU, in under 8 minutes on one H100.

Run it through ``bash bench/gpu_all.sh`` (which refuses without CUDA and picks the project's own
Python). Stages, each written to the JSON file as soon as it ends (a failed stage is recorded with
its error and the next one still runs):

1. ``losses``: for each of the 13 losses, the run's own ``Trainer`` on 3 + 1 synthetic volumes
   (patch 64 x 64 x 32, batch 2): epoch 0 (two steps in the autocast the device picks, bf16 where
   native, a validation batch of windows, ``last.pt``/``best.pt``), then a new ``Trainer``
   resumes and trains epoch 1 (the late terms of warp and topo on), then one fp16 step with a
   ``GradScaler``. About 13 x 5 s.
2. ``profiles``: for gpu_low, gpu_high, dgx_spark and cloud_single, seconds per optimiser step and
   ``max_memory_reserved`` (cuDNN's workspace included) with the profile's own flags (its
   ``deterministic``, AMP, batch, patch, accumulation), dice_ce and cbdice (whether cuCIM ran its
   distance transform is recorded): 4 profiles x 2 losses x (3 warm-up + 10 timed steps), about 60 s.
3. ``loader``: ``bench/loader.py`` on cloud_single at 512 x 512 x 100 (4 volumes, 2 epochs): the
   current loader's patches/s against the step rate, and the former loader's. About 60 s.
4. ``evaluation``: one 512 x 512 x 100 prediction with cloud_single's trained-patch window and the
   evaluation's overlap and ``sw_batch_size``. About 20 s.

The CPU baselines (Frangi, Otsu) are not run. ``--quick`` is the rehearsal the test suite runs on
the CPU: the test profile, tiny volumes, every stage.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from monai.utils import optional_import

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its siblings gpu_smoke.py and loader.py
import loader as loader_bench
from gpu_smoke import hardware, profile_parameters, resolved_parameters

from minivess_kedro.data.synthetic import generate_volume
from minivess_kedro.inference import SlidingWindowConfig, segment_volume
from minivess_kedro.losses import LOSS_NAMES, build_loss
from minivess_kedro.models import DynUNetConfig, build_dynunet
from minivess_kedro.pipelines.evaluation.nodes import evaluation_window
from minivess_kedro.pipelines.evaluation.params import EvaluationParams
from minivess_kedro.pipelines.training.nodes import loop_settings
from minivess_kedro.training import FitConfig, LoaderSettings, Trainer, VolumeItem, resolve_device
from minivess_kedro.training.device import autocast_dtype
from minivess_kedro.training.seeding import seed_everything
from minivess_kedro.training.steps import StepSettings, train_one_epoch

#: The GPU profiles of stage 2 (cloud_multi is DDP on 8 GPUs: one GPU's step is cloud_single's).
GPU_PROFILES = ("gpu_low", "gpu_high", "dgx_spark", "cloud_single")
#: Late terms on in the second epoch; topo's cubes fit the loss stage's patch.
LATE_KWARGS = {"warp": {"activate_at": 0.5}, "topo": {"activate_at": 0.5, "topo_size": 16}}


class Stages:
    """Runs stages in order, writing the JSON after each one (``{"error": ...}`` for a failure)."""

    def __init__(self, out: Path, header: dict) -> None:
        self.out, self.result, self.failed = out, {**header, "stages": {}}, 0

    def run(self, name: str, stage: Callable[[], dict]) -> None:
        start = time.perf_counter()
        try:
            self.result["stages"][name] = stage()
        except Exception as err:  # a failed stage must not cost the others their numbers
            self.failed += 1
            self.result["stages"][name] = {"error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()}
            print(f"!! {name} failed: {err}", flush=True)
        self.result["stages"][name]["stage_seconds"] = time.perf_counter() - start
        self.out.write_text(json.dumps(self.result, indent=1, default=str))
        print(f"== {name} done in {time.perf_counter() - start:.1f} s -> {self.out}", flush=True)


def _items(count: int, shape: tuple[int, int, int]) -> list[VolumeItem]:
    volumes = [generate_volume(index, shape) for index in range(1, count + 1)]
    return [VolumeItem(f"mv{i:02d}", v.image, v.label, v.spacing) for i, v in enumerate(volumes, start=1)]


def _peak(device: torch.device) -> float | None:
    """``max_memory_reserved`` in GiB (what the allocator holds, cuDNN's workspace included)."""
    if device.type != "cuda":
        return None
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_reserved(device) / 2**30


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def loss_stage(name: str, device: torch.device, patch: tuple[int, int, int], folder: Path) -> dict:
    """Two epochs of the run's Trainer, interrupted and resumed between them, then one fp16 step."""
    items = _items(4, tuple(p + p // 2 for p in patch))
    loader = LoaderSettings(patch_size=patch, batch_size=2, samples_per_volume=1)
    config = FitConfig(max_epochs=2, warmup_epochs=0, amp=True, val_windows=2, metrics_every=1, deterministic=False)
    window = SlidingWindowConfig(roi_size=patch, sw_batch_size=2)
    shutil.rmtree(folder, ignore_errors=True)  # a rerun of the check starts afresh

    def trainer() -> Trainer:
        seed_everything(0, deterministic=False)
        model = build_dynunet(DynUNetConfig(filters=(16, 32, 64, 128)))
        return Trainer(model, build_loss(name, **LATE_KWARGS.get(name, {})), config, device, folder, {"loss": name})

    def interrupt(epoch: int, record: dict) -> None:
        raise KeyboardInterrupt

    start = time.perf_counter()
    first = trainer()
    with contextlib.suppress(KeyboardInterrupt):  # stopped after epoch 0, as a Ctrl-C would
        first.fit(items[:3], items[3:], loader, window, on_epoch_end=interrupt)
    resumed = trainer().fit(items[:3], items[3:], loader, window)
    seconds = time.perf_counter() - start
    fp16 = fp16_step(name, device, items, patch)
    return {
        "autocast": str(first.autocast).removeprefix("torch."),
        "resumed_from_epoch": resumed.resumed_from_epoch,
        "epochs": len(resumed.history),
        "train_loss": [record["train_loss"] for record in resumed.history],
        "val_dsc": [record.get("val_dsc") for record in resumed.history],
        "two_epochs_seconds": seconds,
        "fp16_step": fp16,
    }


def fp16_step(name: str, device: torch.device, items: list[VolumeItem], patch: tuple[int, int, int]) -> dict:
    """One optimiser step under fp16 autocast with a GradScaler (gpu_low's precision)."""
    model = build_dynunet(DynUNetConfig(filters=(16, 32, 64, 128))).to(device)
    loss = build_loss(name, **LATE_KWARGS.get(name, {})).to(device)
    if hasattr(loss, "set_training_progress"):
        loss.set_training_progress(1.0)
    dtype = torch.float16 if device.type == "cuda" else None  # no fp16 autocast for 3D convolutions on the CPU
    scaler = torch.amp.GradScaler(device.type, enabled=True)
    h, w, d = patch
    batch = {
        "image": torch.from_numpy(items[0].image[None, None, :h, :w, :d].astype(np.float32)),
        "label": torch.from_numpy(items[0].label[None, None, :h, :w, :d].astype(np.int64)),
    }
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    steps = StepSettings(dtype, 1, 1.0, show_progress=False)
    record = train_one_epoch(model, loss, [batch], optimizer, scaler, device, steps, f"{name} fp16")
    return {"train_loss": record["train_loss"], "scale": scaler.get_scale(), "seconds": record["seconds"]}


def profile_stage(env: str, device: torch.device, timed: int) -> dict:
    """Seconds per optimiser step and peak reserved memory of one profile, dice_ce and cbdice."""
    params = profile_parameters(env)
    settings, _, fit = loop_settings(params)
    dtype = autocast_dtype(device, fit.amp)
    result = {
        "batch_size": settings.batch_size,
        "patch_size": list(settings.patch_size),
        "grad_accumulation": fit.grad_accumulation,
        "deterministic": fit.deterministic,
        "autocast": str(dtype).removeprefix("torch.") if dtype else "none",
        "cucim_distance_transform": optional_import("cucim.core.operations.morphology")[1] and device.type == "cuda",
    }
    generator = torch.Generator().manual_seed(0)
    shape = (settings.batch_size, 1, *settings.patch_size)
    batches = [
        {
            "image": torch.randn(shape, generator=generator),
            "label": (torch.rand(shape, generator=generator) > 0.95).long(),
        }
        for _ in range(fit.grad_accumulation * (3 + timed))
    ]
    for name in ("dice_ce", "cbdice"):
        seed_everything(fit.seed, fit.deterministic)  # the pipeline's own kernel flags
        model = build_dynunet(params.model.to_config()).to(device)
        loss = build_loss(name, **params.loss_kwargs.get(name, {})).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=fit.learning_rate)
        scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
        steps = StepSettings(dtype, fit.grad_accumulation, fit.grad_clip, show_progress=False)
        warm = 3 * fit.grad_accumulation
        _reset_peak(device)
        train_one_epoch(model, loss, batches[:warm], optimizer, scaler, device, steps, "warm-up")
        record = train_one_epoch(model, loss, batches[warm:], optimizer, scaler, device, steps, "timed")
        result[name] = {
            "seconds_per_step": record["seconds"] / timed,
            "patches_per_s": timed * fit.grad_accumulation * settings.batch_size / record["seconds"],
            "max_memory_reserved_gib": _peak(device),
        }
    return result


def evaluation_stage(env: str, device: torch.device, shape: tuple[int, int, int]) -> dict:
    """One whole-volume prediction as the evaluation pipeline makes it."""
    parameters = resolved_parameters(env)
    params = profile_parameters(env)
    model_config = {**params.model.to_config().to_dict(), "patch_size": list(params.compute.patch_size)}
    window = evaluation_window(EvaluationParams.model_validate(parameters["evaluation"]), model_config)
    model = build_dynunet(params.model.to_config()).to(device).eval()
    image = np.random.default_rng(0).normal(1000, 200, size=shape).astype(np.float32)
    segment_volume(model, image[:, :, : min(shape[2], params.compute.patch_size[2])], window, device)  # warm-up
    _reset_peak(device)
    start = time.perf_counter()
    segment_volume(model, image, window, device)
    return {
        "shape": list(shape),
        "roi_size": list(window.roi_size),
        "overlap": window.overlap,
        "sw_batch_size": window.sw_batch_size,
        "seconds": time.perf_counter() - start,
        "max_memory_reserved_gib": _peak(device),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the CPU rehearsal: test profile, tiny volumes")
    parser.add_argument("--out", type=Path, default=Path("bench-results/gpu_check.json"))
    args = parser.parse_args(argv)

    device = resolve_device("auto")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    stages = Stages(args.out, {"hardware": hardware(device), "quick": args.quick})
    quick = args.quick
    patch = (16, 16, 8) if quick else (64, 64, 32)
    losses = LOSS_NAMES
    for name in losses:
        stages.run(f"loss.{name}", lambda n=name: loss_stage(n, device, patch, args.out.parent / "checkpoints" / n))
    for env in ("test",) if quick else GPU_PROFILES:
        stages.run(f"profile.{env}", lambda e=env: profile_stage(e, device, 2 if quick else 10))
    loader_env, size = ("test", (48, 48, 16)) if quick else ("cloud_single", (512, 512, 100))
    stages.run("loader", lambda: loader_bench.measure(loader_env, 2 if quick else 4, size, 2, device))
    stages.run("evaluation", lambda: evaluation_stage(loader_env, device, (40, 36, 12) if quick else (512, 512, 100)))
    total = sum(stage["stage_seconds"] for stage in stages.result["stages"].values())
    print(f"== {stages.failed} failed stage(s) in {total:.0f} s; results in {args.out}")
    return stages.failed


if __name__ == "__main__":
    sys.exit(main())
