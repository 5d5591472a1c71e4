"""Training throughput: the project's epoch loop against a plain hand-written MONAI loop.

Same model, data, batch, patch and loss, alternated in one run (A B A B ...) so that both see
the same machine load. Prints patches per second, the ratio (target: the project within 5 %), and
the share of the project's step time spent waiting for data.

Run: python bench/train.py [--repeats 3] [--batch 2] [--patch 64 64 16]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from minivess_kedro.data.synthetic import generate_volume
from minivess_kedro.losses import build_loss
from minivess_kedro.models import DynUNetConfig, build_dynunet
from minivess_kedro.training import LoaderSettings, VolumeItem, build_training_dataset
from minivess_kedro.training.data import epoch_loader
from minivess_kedro.training.steps import StepSettings, train_one_epoch


def plain_epoch(model, loss_fn, batches, optimizer) -> int:
    """The loop a MONAI tutorial would write: forward, loss, backward, clip, step."""
    model.train()
    patches = 0
    for batch in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(batch["image"]), batch["label"].long())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        patches += batch["image"].shape[0]
    return patches


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--patch", type=int, nargs=3, default=[64, 64, 16])
    parser.add_argument("--volumes", type=int, default=6)
    args = parser.parse_args()

    items = [
        VolumeItem(f"mv{i:02d}", v.image, v.label, v.spacing)
        for i, v in ((i, generate_volume(i, (128, 128, 24))) for i in range(1, args.volumes + 1))
    ]
    settings = LoaderSettings(patch_size=tuple(args.patch), batch_size=args.batch, samples_per_volume=4)
    dataset = build_training_dataset(items, settings)
    loss_fn = build_loss("dice_ce")
    device = torch.device("cpu")
    rates: dict[str, list[float]] = {"plain MONAI loop": [], "project loop": []}
    waits = []
    for repeat in range(args.repeats + 1):  # the first round warms up and is not counted
        order = ["plain MONAI loop", "project loop"][:: 1 if repeat % 2 else -1]  # A B, then B A
        for name in order:
            torch.manual_seed(0)
            model = build_dynunet(DynUNetConfig())
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
            batches = epoch_loader(dataset, settings, seed=repeat)
            start = time.perf_counter()
            if name == "plain MONAI loop":
                plain_epoch(model, loss_fn, batches, optimizer)
            else:
                scaler = torch.amp.GradScaler("cpu", enabled=False)
                record = train_one_epoch(model, loss_fn, batches, optimizer, scaler, device, StepSettings())
                if repeat:
                    waits.append(record["data_wait_fraction"])
            if repeat:
                rates[name].append(len(dataset) / (time.perf_counter() - start))

    print(f"batch {args.batch}, patch {'x'.join(map(str, args.patch))}, {len(dataset)} patches per epoch, CPU")
    for name, values in rates.items():
        print(f"{name:>18}: {statistics.median(values):6.2f} patches/s (median of {len(values)})")
    ratio = statistics.median(rates["project loop"]) / statistics.median(rates["plain MONAI loop"])
    print(f"project / plain: {ratio:.3f} (target >= 0.95)")
    print(f"data wait: {100 * statistics.median(waits):.1f} % of the project's step time")


if __name__ == "__main__":
    main()
