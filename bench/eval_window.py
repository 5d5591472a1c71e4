"""Does a larger inference window change a trained model's predictions? (instance norm sees it)

DynUNet is fully convolutional, so whole-volume prediction may use windows larger than the
training patch (fewer windows, less overlap work); but instance normalisation normalises each
window with its own statistics, which differ from a balanced training patch's. This segments the
evaluated volumes of one trained run with several windows, in one run on one machine, and prints
for each: the mean DSC against the reference, the mean DSC against the training-patch window's
masks (agreement), and the seconds per volume.

Run after ``kedro run --env demo`` (its run of dice_ce, fold 0):
    python bench/eval_window.py
    python bench/eval_window.py --windows 32x32x16@0.5 64x64x32@0.25 128x128x64@0.25
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from minivess_kedro.inference import SlidingWindowConfig, segment_volume
from minivess_kedro.io import read_nifti
from minivess_kedro.metrics import compute_dsc
from minivess_kedro.models import DynUNetConfig, build_dynunet

PROJECT = Path(__file__).resolve().parents[1]


def parse_window(text: str) -> tuple[tuple[int, int, int], float]:
    """``64x64x32@0.25`` as ``((64, 64, 32), 0.25)``."""
    size, _, overlap = text.partition("@")
    return tuple(int(n) for n in size.split("x")), float(overlap or 0.25)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, default=PROJECT / "data/06_models/synthetic/dice_ce/fold_0")
    parser.add_argument("--data", type=Path, default=PROJECT / "data/01_raw/synthetic")
    parser.add_argument("--split", type=Path, default=PROJECT / "data/03_primary/synthetic/splits/fold_0.json")
    parser.add_argument("--windows", nargs="+", default=["32x32x16@0.5", "64x64x32@0.25", "128x128x64@0.25"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    config = json.loads((args.run_dir / "model_config.json").read_text())
    model = build_dynunet(DynUNetConfig.from_dict(config))
    model.load_state_dict(torch.load(args.run_dir / "best_model.pt", map_location="cpu", weights_only=True))
    split = json.loads(args.split.read_text())
    ids = sorted(split.get("val", []) + split.get("test", []))
    windows = [parse_window(w) for w in args.windows]
    masks: dict[str, list] = {w: [] for w in args.windows}
    rows = {}
    for name, (roi, overlap) in zip(args.windows, windows, strict=True):
        dsc, seconds = [], []
        window = SlidingWindowConfig(roi_size=roi, sw_batch_size=4, overlap=overlap, mode="gaussian", device="cpu")
        for volume_id in ids:
            image = read_nifti(args.data / "imagesTr" / f"{volume_id}.nii.gz")
            label = read_nifti(args.data / "labelsTr" / f"{volume_id}.nii.gz")
            start = time.perf_counter()
            mask, _ = segment_volume(model, image.array, window)
            seconds.append(time.perf_counter() - start)
            dsc.append(compute_dsc(mask.astype(bool), label.array.astype(bool)))
            masks[name].append(mask.astype(bool))
        reference = masks[args.windows[0]]
        agreement = [compute_dsc(a, b) for a, b in zip(masks[name], reference, strict=True)]
        rows[name] = {
            "dsc": statistics.mean(dsc),
            "agreement_with_first": statistics.mean(agreement),
            "seconds_per_volume": statistics.mean(seconds),
        }
        print(
            f"{name:>16}: DSC {rows[name]['dsc']:.4f}, agreement with {args.windows[0]} "
            f"{rows[name]['agreement_with_first']:.4f}, {rows[name]['seconds_per_volume']:.2f} s/volume "
            f"({len(ids)} volumes)",
            flush=True,
        )
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
