"""What one run costs at MiniVess size: every stage on synthetic 512 x 512 x 96-112 volumes.

The synthetic generator writes ``--volumes`` volumes in the canonical layout; then, with the
compute profile's resolved parameters (``conf/base`` + ``conf/<env>``), the stages of one run are
timed with the project's own functions, each with its peak memory (process RSS, sampled; on CUDA
also the tensors' peak):

1. ingestion: reading and validating every image/label pair (``validate_pairs``);
2. the cached training dataset (its memory);
3. one training epoch (seconds per patch);
4. one validation pass as the loop makes it (``training.val_windows``) and, in the same run, one
   whole-volume sliding-window pass (``val_windows: whole``), on the validation volumes;
5. evaluation of one volume: prediction, components post-processing, all metrics;
6. the Otsu and Frangi baselines of one volume, and the Frangi threshold fit (one volume at a
   time).

It then projects the wall time of one run of the real dataset (70 volumes) at 100 epochs, under
the previous study's protocol (40 train, 20 val) and the default nested protocol, with today's
validation and with whole-volume validation, and prints validation / training epoch ratios.

Run (from the project root):
    python bench/real_size.py --env cpu
    python bench/real_size.py --env cloud_single --out real_size.json
    python bench/real_size.py --env cpu --volumes 3 --size 96 96 --depth 24 28   # a quick check
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_smoke import hardware, profile_parameters, resolved_parameters

from minivess_kedro.baselines import FrangiSettings, fit_frangi_threshold, frangi_segmentation, otsu_segmentation
from minivess_kedro.data.splits import make_splits
from minivess_kedro.data.synthetic_dataset import SyntheticDatasetSettings, write_synthetic_dataset
from minivess_kedro.data.validation import validate_pairs
from minivess_kedro.inference import segment_volume
from minivess_kedro.io import read_nifti
from minivess_kedro.losses import build_loss
from minivess_kedro.metrics import evaluate_pair
from minivess_kedro.models import build_dynunet
from minivess_kedro.pipelines.evaluation.nodes import evaluation_window
from minivess_kedro.pipelines.evaluation.params import EvaluationParams
from minivess_kedro.pipelines.training.nodes import loop_settings
from minivess_kedro.postprocessing import ComponentSettings, clean_components
from minivess_kedro.training import VolumeItem, build_training_dataset, resolve_device
from minivess_kedro.training.data import build_validation_dataset, epoch_loader
from minivess_kedro.training.device import autocast_dtype
from minivess_kedro.training.steps import StepSettings, train_one_epoch
from minivess_kedro.training.validation import score_volumes
from minivess_kedro.training.validation_windows import choose_windows, score_windows, windows_per_volume

EPOCHS = 100
DATASET_SIZE = 70
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss_bytes() -> int:
    """Resident memory of this process now (Linux ``/proc``; 0 elsewhere)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE
    except OSError:
        return 0


@contextmanager
def measured(stages: dict, name: str, device: torch.device):
    """Times the block and samples its peak RSS every 20 ms (and the CUDA peak)."""
    peak, stop = [_rss_bytes()], threading.Event()

    def sample():
        while not stop.wait(0.02):
            peak[0] = max(peak[0], _rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    sampler.start()
    start = time.perf_counter()
    record: dict = {}
    try:
        yield record
    finally:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        stop.set()
        sampler.join()
        peak[0] = max(peak[0], _rss_bytes())
        record |= {"seconds": seconds, "peak_rss_gib": peak[0] / 2**30}
        if device.type == "cuda":
            record["peak_cuda_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
        stages[name] = record
        print(f"  {name:<34} {seconds:9.1f} s   peak RSS {record['peak_rss_gib']:6.2f} GiB", flush=True)


def protocol_counts(protocol: str) -> dict[str, int]:
    """Train/val volumes of one fold and the volumes a run evaluates, for the real dataset."""
    ids = [f"mv{i:02d}" for i in range(1, DATASET_SIZE + 1)]
    if protocol == "previous":
        return {"train": 40, "val": 20, "evaluated": 30}  # the previous study: 3 folds, 10 held out
    splits = make_splits(ids, num_folds=3, seed=42, protocol=protocol, val_size=0.2)
    fold = splits["folds"][0]
    return {"train": len(fold["train"]), "val": len(fold["val"]), "evaluated": len(fold["val"]) + len(fold["test"])}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="cpu", help="compute profile (conf/<env>)")
    parser.add_argument("--loss", default="dice_ce")
    parser.add_argument("--volumes", type=int, default=8, help="synthetic volumes (2 are validation volumes)")
    parser.add_argument("--size", type=int, nargs=2, default=[512, 512], help="H W of every volume")
    parser.add_argument("--depth", type=int, nargs=2, default=[96, 112], help="depth range (inclusive)")
    parser.add_argument("--whole", type=int, default=1, help="validation volumes scored whole for the comparison")
    parser.add_argument(
        "--patches", type=int, help="patches of the timed epoch (default: the profile's samples per training volume)"
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data", type=Path, help="folder for the volumes (kept); a temporary one otherwise")
    parser.add_argument("--out", type=Path, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)
    if args.volumes < 3:
        parser.error("--volumes must be at least 3 (training and 2 validation volumes)")

    device = resolve_device(args.device)
    torch.backends.cudnn.benchmark = device.type == "cuda"
    training = profile_parameters(args.env)
    evaluation = EvaluationParams.model_validate(resolved_parameters(args.env)["evaluation"])
    result: dict = {"env": args.env, "loss": args.loss, "hardware": hardware(device), "stages": {}}
    print(f"{args.env} on {result['hardware']}")
    with tempfile.TemporaryDirectory() as scratch:
        volumes = _ingest(args, args.data or Path(scratch), device, result)
        model, rates = _train_and_validate(volumes, training, args, device, result["stages"])
        result["evaluation"] = _evaluate_one(model, volumes[-1], evaluation, training, device, result["stages"])
        result["baselines"] = _baselines(volumes, evaluation, device, result["stages"])
    result["projection"] = _project(rates, result)
    _print_projection(result["projection"])
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    return result


def _ingest(args, root: Path, device, result: dict) -> list:
    """Writes the synthetic volumes, then reads and validates them as ``data_ingestion`` does."""
    stages = result["stages"]
    settings = SyntheticDatasetSettings(
        num_volumes=args.volumes, size_hw=tuple(args.size), depth_range=tuple(args.depth)
    )
    with measured(stages, "synthetic volumes (not in a run)", device) as record:
        files = write_synthetic_dataset(root, settings)
    record["volumes"] = len(files)
    with measured(stages, "ingestion: read + validate, all", device) as record:
        summaries = validate_pairs(
            {f.volume_id: (lambda f=f: read_nifti(f.image)) for f in files},
            {f.volume_id: (lambda f=f: read_nifti(f.label)) for f in files},
        )
    record["volumes"] = len(files)
    result["shapes"] = [list(s.shape) for s in summaries]
    return [(f.volume_id, read_nifti(f.image), read_nifti(f.label)) for f in files]


def _train_and_validate(volumes, training, args, device, stages: dict) -> tuple[torch.nn.Module, dict]:
    """The cached dataset, one training epoch, one validation pass on windows and one whole."""
    loader, window, fit = loop_settings(training)
    samples_per_volume = loader.samples_per_volume  # the profile's, for the projection
    items = [VolumeItem(i, image.array, label.array, image.spacing) for i, image, label in volumes]
    train_items, val_items = items[:-2], items[-2:]
    timed = math.ceil(args.patches / len(train_items)) if args.patches else samples_per_volume
    # Crops in the timed loop (no workers): the upper bound of the data time.
    loader = replace(loader, num_workers=0, samples_per_volume=timed)
    with measured(stages, "cached training dataset", device) as record:
        dataset = build_training_dataset(train_items, loader)
    record["volumes"] = len(train_items)

    model = build_dynunet(training.model.to_config()).to(device)
    loss_fn = build_loss(args.loss, **training.loss_kwargs.get(args.loss, {})).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=fit.learning_rate)
    amp = autocast_dtype(device, fit.amp)
    scaler = torch.amp.GradScaler(device.type, enabled=amp == torch.float16)
    step = StepSettings(amp, fit.grad_accumulation, fit.grad_clip, show_progress=False)
    warm_up = epoch_loader(dataset, loader, seed=99)
    train_one_epoch(model, loss_fn, warm_up, optimizer, scaler, device, step, "warm-up")
    with measured(stages, "one training epoch", device) as record:
        batches = epoch_loader(dataset, loader, seed=0)
        epoch = train_one_epoch(model, loss_fn, batches, optimizer, scaler, device, step, "epoch")
    record |= {"patches": len(batches) * loader.batch_size, "data_wait_fraction": epoch["data_wait_fraction"]}

    validation = build_validation_dataset(val_items)
    val_volumes = [validation[i] for i in range(len(validation))]
    previous = protocol_counts("previous")
    count = windows_per_volume(fit.val_windows, previous["train"] * samples_per_volume, previous["val"])
    windows = [choose_windows(v.image.shape, window.roi_size, count, (fit.seed, i)) for i, v in enumerate(val_items)]
    with measured(stages, "validation: windows", device) as record:
        score_windows(model, loss_fn, val_volumes, windows, window.roi_size, window.sw_batch_size, device, True, amp)
    record |= {"volumes": len(val_items), "windows": sum(len(w) for w in windows)}
    whole = max(1, min(args.whole, len(val_items)))
    spacings = [item.spacing for item in val_items]
    with measured(stages, "validation: whole volumes", device) as whole_record:
        score_volumes(model, loss_fn, val_volumes[:whole], spacings[:whole], window, device, True, amp)
    whole_record["volumes"] = whole
    rates = {
        "seconds_per_patch": stages["one training epoch"]["seconds"] / stages["one training epoch"]["patches"],
        "seconds_per_window": record["seconds"] / record["windows"],
        "seconds_per_whole_volume": whole_record["seconds"] / whole,
        "samples_per_volume": samples_per_volume,
        "val_windows": fit.val_windows,
    }
    return model, rates


def window_count(shape, roi_size, overlap: float) -> int:
    """Windows MONAI's sliding window places on a volume (its scan interval, sides padded to the window)."""
    count = 1
    for side, roi in zip(shape, roi_size, strict=True):
        interval = max(1, int(roi * (1 - overlap)))
        count *= 1 if side <= roi else math.ceil((side - roi) / interval) + 1
    return count


def _evaluate_one(model, volume, evaluation: EvaluationParams, training, device, stages) -> dict:
    """Prediction, components post-processing and every metric of one volume, as the evaluation
    pipeline makes them."""
    volume_id, image, label = volume
    window = evaluation_window(
        evaluation, training.model.to_config().to_dict() | {"patch_size": list(training.compute.patch_size)}
    )
    with measured(stages, "evaluation: prediction", device) as record:
        mask, _ = segment_volume(model, image.array, window, device)
    record |= {
        "foreground_share": float(mask.mean()),
        "roi_size": list(window.roi_size),
        "overlap": window.overlap,
        "sw_batch_size": window.sw_batch_size,
        "windows": window_count(image.array.shape, window.roi_size, window.overlap),
        "windows_at_overlap_0.5": window_count(image.array.shape, window.roi_size, 0.5),
    }
    # The network here is barely trained, and the cost of skeletons and surface distances grows
    # with the vessel tree: post-processing and metrics are timed on a trained model's kind of
    # mask, the reference moved by one voxel (the prediction's own cost is the same either way).
    vessel_like = np.roll(label.array, 1, axis=0)
    with measured(stages, "evaluation: components", device):
        cleaned = clean_components(vessel_like, image.spacing, ComponentSettings(**evaluation.components.model_dump()))
    with measured(stages, "evaluation: metrics, 2 variants", device):
        for prediction in (vessel_like, cleaned):
            evaluate_pair(prediction, label.array, image.spacing, nsd_tau=max(image.spacing))
    names = ("evaluation: prediction", "evaluation: components", "evaluation: metrics, 2 variants")
    return {"volume": volume_id, "seconds": sum(stages[n]["seconds"] for n in names)}


def _baselines(volumes, evaluation: EvaluationParams, device, stages) -> dict:
    """Otsu and Frangi of one volume; the Frangi threshold fit on two volumes, one at a time."""
    _, image, _ = volumes[-1]
    settings = FrangiSettings(sigmas=evaluation.baselines.frangi_sigmas)
    with measured(stages, "baseline: Otsu, one volume", device):
        otsu_segmentation(image.array)
    with measured(stages, "baseline: Frangi, one volume", device):
        frangi_segmentation(image.array, 0.05, settings)
    with measured(stages, "baseline: Frangi fit, 2 volumes", device):
        threshold = fit_frangi_threshold(((v[1].array, v[2].array) for v in volumes[:2]), settings)
    return {"frangi_threshold": threshold}


def _project(rates: dict, result: dict) -> dict:
    """Wall time of one run of the real dataset at ``EPOCHS`` epochs, the stages scaled by counts:
    an epoch by its patches, a validation pass by its windows (``val_windows``, which for ``auto``
    follow the training patches) or whole volumes, the evaluation by the volumes evaluated."""
    evaluation_s = result["evaluation"]["seconds"]
    projection = {"epochs": EPOCHS, "evaluation_per_volume_s": evaluation_s, **rates}
    for protocol in ("previous", "nested"):
        counts = protocol_counts(protocol)
        patches = counts["train"] * rates["samples_per_volume"]
        epoch = patches * rates["seconds_per_patch"]
        whole = counts["val"] * rates["seconds_per_whole_volume"]
        per_volume = windows_per_volume(rates["val_windows"], patches, counts["val"])
        validation = whole if per_volume is None else counts["val"] * per_volume * rates["seconds_per_window"]
        evaluation = counts["evaluated"] * evaluation_s
        projection[protocol] = {
            **counts,
            "train_epoch_s": epoch,
            "validation_s": validation,
            "validation_whole_s": whole,
            "validation_over_epoch": validation / epoch,
            "whole_over_epoch": whole / epoch,
            "run_h": (EPOCHS * (epoch + validation) + evaluation) / 3600,
            "run_whole_validation_h": (EPOCHS * (epoch + whole) + evaluation) / 3600,
        }
    return projection


def _print_projection(projection: dict) -> None:
    print(f"one run of the real dataset ({DATASET_SIZE} volumes) at {projection['epochs']} epochs:")
    for protocol in ("previous", "nested"):
        p = projection[protocol]
        print(
            f"  {protocol:>8} ({p['train']} train, {p['val']} val, {p['evaluated']} evaluated): "
            f"epoch {p['train_epoch_s']:.0f} s, validation {p['validation_s']:.0f} s "
            f"({p['validation_over_epoch']:.2f} x epoch; whole volumes {p['validation_whole_s']:.0f} s, "
            f"{p['whole_over_epoch']:.1f} x), run {p['run_h']:.1f} h (whole-volume validation "
            f"{p['run_whole_validation_h']:.1f} h)"
        )
    print(f"  evaluation of one volume: {projection['evaluation_per_volume_s']:.0f} s")
    ok = all(projection[p]["validation_over_epoch"] <= 0.25 for p in ("previous", "nested"))
    print(f"  validation at most a quarter of a training epoch: {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
