"""Benchmark: the project's metrics against the straightforward full-volume-EDT path.

Generates a realistic vessel-like mask pair (default 512 x 512 x 100 voxels, spacing
0.7 x 0.7 x 5.0 um as float32 header zooms, as in the shared reference cases) and times, side
by side in one run:

* project: ``minivess_kedro.metrics`` (distances only at border voxels through KD-trees, one
  pass shared by MASD, HD95 and NSD, the two skeletons computed concurrently);
* reference: the way MetricsReloaded computes them: the two border maps, one whole-volume
  Euclidean distance transform per border map (computed once and shared by MASD, HD95 and
  NSD, as MetricsReloaded caches them), the metrics read from the full volumes; DSC on the
  volumes; clDice from two skeletons computed one after the other.

Each path runs ``--repeats`` times, interleaved, and the best time is kept (the machine may be
shared). The script checks that both paths give identical values (bit for bit, including every
directed border distance) and exits with status 1 if not. Numpy allocation peaks are measured
with ``tracemalloc`` in a separate pass.

Run: ``python bench/metrics.py`` (about a minute on 2 cores) or ``--shape 128 128 40`` for a
quick look.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from minivess_kedro.metrics import evaluate_pair
from minivess_kedro.metrics.centreline import cldice_from_skeletons, skeleton
from minivess_kedro.metrics.distance_metrics import (
    hausdorff_from_distances,
    masd_from_distances,
    nsd_from_distances,
)
from minivess_kedro.metrics.overlap import dsc_of_masks
from minivess_kedro.metrics.surface_distances import surface_distances
from minivess_kedro.tools.edt_reference import edt_centreline_dsc, edt_surface_distances

DISTANCE_METRICS = ("masd", "hd95", "nsd")
FIVE_METRICS = ("dsc", "cldice", *DISTANCE_METRICS)


# ----------------------------------------------------------------------------- data


def _walk(rng, start, direction, n_steps, *, step, wobble, upper) -> np.ndarray:
    """Persistent random walk in physical space, stopped at the volume's edge."""
    points = [np.asarray(start, dtype=float)]
    heading = direction / np.linalg.norm(direction)
    for _ in range(n_steps):
        heading = heading + wobble * rng.standard_normal(3)
        heading /= np.linalg.norm(heading)
        nxt = points[-1] + step * heading
        if np.any(nxt < 0) or np.any(nxt > upper):
            break
        points.append(nxt)
    return np.array(points)


def _smooth_noise(rng, n: int, amplitude: float) -> np.ndarray:
    """Smooth zero-ended random profile (a Brownian bridge) scaled to ``amplitude``."""
    walk = np.cumsum(rng.standard_normal(n))
    walk -= np.linspace(walk[0], walk[-1], n)
    return amplitude * walk / max(np.abs(walk).max(), 1e-9)


def _rasterise(shape, spacing, tubes) -> np.ndarray:
    """Union of balls along each centreline (radius per point, in physical units)."""
    mask = np.zeros(shape, dtype=bool)
    flat = mask.reshape(-1)
    scale = np.asarray(spacing)
    points = np.concatenate([t[0] for t in tubes])
    radii = np.round(np.concatenate([t[1] for t in tubes]) * 4) / 4
    voxels = np.round(points / scale).astype(np.int64)
    for radius in np.unique(radii):
        reach = [int(np.ceil(radius / s)) for s in scale]
        grid = np.mgrid[tuple(slice(-r, r + 1) for r in reach)].reshape(3, -1).T
        offsets = grid[((grid * scale) ** 2).sum(1) <= radius**2]
        centres = voxels[radii == radius]
        for i in range(0, len(centres), 4000):
            coords = (centres[i : i + 4000, None, :] + offsets[None]).reshape(-1, 3)
            inside = np.all((coords >= 0) & (coords < shape), axis=1)
            flat[np.ravel_multi_index(coords[inside].T, shape)] = True
    return mask


def vessel_pair(shape=(512, 512, 100), spacing=(0.7, 0.7, 5.0), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A reference vessel tree and a plausible prediction of it.

    Reference: a few penetrating vessels (radius 4-9 um, mostly along z) and many meandering
    capillaries (radius 1.6-3.2 um). Prediction: the same centrelines with smooth jitter of
    the centre (up to 0.6 um) and radius (+-20 %), 10 % of capillaries missed and short
    false-positive fragments added (DSC about 0.88).
    """
    rng = np.random.default_rng(seed)
    upper = (np.asarray(shape) - 1) * np.asarray(spacing)
    scale = (np.prod(shape) / (512 * 512 * 100)) ** (1 / 3)
    n_big, n_cap = max(1, round(25 * scale**2)), max(4, round(500 * scale**2))
    ref_tubes, pred_tubes = [], []
    for k in range(n_big + n_cap):
        start = rng.uniform(0, 1, 3) * upper
        if k < n_big:
            start[2] = 0.0
            heading = np.array([*rng.normal(0, 0.3, 2), 1.0])
            radius = rng.uniform(4, 9)
            points = _walk(rng, start, heading, 2000, step=0.5, wobble=0.03, upper=upper)
        else:
            heading = rng.standard_normal(3) * np.array([1.0, 1.0, 0.3])
            radius = rng.uniform(1.6, 3.2)
            n_steps = int(rng.uniform(200, 900))
            points = _walk(rng, start, heading, n_steps, step=0.5, wobble=0.08, upper=upper)
        if len(points) < 10:
            continue
        radii = radius * (1 + _smooth_noise(rng, len(points), 0.15))
        ref_tubes.append((points, radii))
        if k >= n_big and rng.uniform() < 0.1:
            continue  # a missed capillary
        jitter = np.stack([_smooth_noise(rng, len(points), 0.6) for _ in range(3)], axis=1)
        pred_tubes.append((points + jitter, radii * (1 + _smooth_noise(rng, len(points), 0.2))))
    for _ in range(n_cap // 10):  # false-positive fragments
        start = rng.uniform(0, 1, 3) * upper
        n_steps = int(rng.uniform(30, 150))
        heading = rng.standard_normal(3)
        points = _walk(rng, start, heading, n_steps, step=0.5, wobble=0.1, upper=upper)
        if len(points) > 5:
            pred_tubes.append((points, np.full(len(points), rng.uniform(1.5, 3.0))))
    return _rasterise(shape, spacing, pred_tubes), _rasterise(shape, spacing, ref_tubes)


# ----------------------------------------------------------------------------- paths


def project_distances(pred, ref, spacing, tau) -> dict[str, float]:
    """MASD, HD95, NSD from one shared KD-tree pass."""
    d = surface_distances(pred, ref, spacing)
    return {
        "masd": masd_from_distances(d),
        "hd95": hausdorff_from_distances(d, 95.0),
        "nsd": nsd_from_distances(d, tau),
    }


def project_five(pred, ref, spacing, tau) -> dict[str, float]:
    """The five metrics as evaluate_pair computes them (skeletons concurrent), no topology."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        skel_pred, skel_ref = pool.submit(skeleton, pred), pool.submit(skeleton, ref)
        values = project_distances(pred, ref, spacing, tau)
        values["dsc"] = dsc_of_masks(pred, ref)
        values["cldice"] = cldice_from_skeletons(pred, ref, skel_pred.result(), skel_ref.result())
    return values


def reference_distances(pred, ref, spacing, tau) -> dict[str, float]:
    """MASD, HD95, NSD from the two full-volume EDTs (computed once for the three)."""
    d = edt_surface_distances(pred, ref, spacing)
    return {
        "masd": masd_from_distances(d),
        "hd95": hausdorff_from_distances(d, 95.0),
        "nsd": nsd_from_distances(d, tau),
    }


def reference_five(pred, ref, spacing, tau) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """All five metrics the straightforward way; also returns the time of each part."""
    seconds, values = _timed(lambda: reference_distances(pred, ref, spacing, tau))
    parts = {"distances": seconds}
    parts["dsc"], values["dsc"] = _timed(lambda: dsc_of_masks(pred, ref))
    parts["cldice"], values["cldice"] = _timed(lambda: edt_centreline_dsc(pred, ref))
    return values, parts


# ----------------------------------------------------------------------------- timing


def _timed(fn: Callable[[], Any]) -> tuple[tuple[float, float], Any]:
    """``((wall seconds, CPU seconds of all threads), fn())``."""
    start, start_cpu = time.perf_counter(), time.process_time()
    out = fn()
    return (time.perf_counter() - start, time.process_time() - start_cpu), out


def _peak_numpy_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def run(shape, spacing, seed: int, repeats: int, tau: float) -> dict[str, Any]:
    """Time both paths, check their values, return the numbers (also printed)."""
    (t_gen, _), (pred, ref) = _timed(lambda: vessel_pair(shape, spacing, seed))
    print(f"mask pair {shape} spacing {spacing}: fg {pred.mean():.2%} / {ref.mean():.2%}, generated in {t_gen:.1f} s")
    best: dict[str, float] = {}
    best_cpu: dict[str, float] = {}

    def keep(key: str, seconds: tuple[float, float]) -> None:
        best[key] = min(best.get(key, float("inf")), seconds[0])
        best_cpu[key] = min(best_cpu.get(key, float("inf")), seconds[1])

    for _ in range(repeats):
        seconds, project_3 = _timed(lambda: project_distances(pred, ref, spacing, tau))
        keep("project_3", seconds)
        seconds, project_5 = _timed(lambda: project_five(pred, ref, spacing, tau))
        keep("project_5", seconds)
        seconds, (reference, parts) = _timed(lambda: reference_five(pred, ref, spacing, tau))
        keep("reference_5", seconds)
        for part, part_seconds in parts.items():
            keep(f"reference_{part}", part_seconds)
    seconds, full = _timed(lambda: evaluate_pair(pred, ref, spacing, nsd_tau=tau))
    keep("evaluate_pair", seconds)

    fast = surface_distances(pred, ref, spacing)
    slow = edt_surface_distances(pred, ref, spacing)
    identical = (
        np.array_equal(fast.pred_to_ref, slow.pred_to_ref)
        and np.array_equal(fast.ref_to_pred, slow.ref_to_pred)
        and all(project_3[m] == reference[m] for m in DISTANCE_METRICS)
        and all(project_5[m] == reference[m] for m in FIVE_METRICS)
        and all(full[m] == reference[m] for m in FIVE_METRICS)
    )
    memory = {
        "project_5": _peak_numpy_mib(lambda: project_five(pred, ref, spacing, tau)),
        "reference_5": _peak_numpy_mib(lambda: reference_five(pred, ref, spacing, tau)),
    }
    report = {
        "border_voxels": (fast.n_border_pred, fast.n_border_ref),
        "values": {m: reference[m] for m in FIVE_METRICS},
        "identical": identical,
        "seconds": best,
        "cpu_seconds": best_cpu,
        "ratio_3": best["reference_distances"] / best["project_3"],
        "ratio_5": best["reference_5"] / best["project_5"],
        "cpu_ratio_3": best_cpu["reference_distances"] / best_cpu["project_3"],
        "cpu_ratio_5": best_cpu["reference_5"] / best_cpu["project_5"],
        "peak_numpy_mib": memory,
    }
    _print_report(report, repeats)
    return report


def _print_report(report: dict[str, Any], repeats: int) -> None:
    s = report["seconds"]
    print(f"border voxels (pred, ref): {report['border_voxels']}")
    print("values: " + ", ".join(f"{k}={v:.6g}" for k, v in report["values"].items()))
    c = report["cpu_seconds"]
    print(f"best of {repeats} interleaved runs, wall-clock seconds (and CPU seconds of all threads):")
    print(f"  {'':26s}{'project':>14s}{'reference':>16s}{'ratio':>15s}")
    for label, key, ref_key, ratio in (
        ("MASD + HD95 + NSD", "project_3", "reference_distances", "ratio_3"),
        ("all five (+ DSC, clDice)", "project_5", "reference_5", "ratio_5"),
    ):
        print(
            f"  {label:26s}{s[key]:7.2f} ({c[key]:5.2f}){s[ref_key]:8.2f} ({c[ref_key]:5.2f})"
            f"{report[ratio]:6.1f}x ({report['cpu_' + ratio]:4.1f}x)"
        )
    print(f"  reference parts: DSC {s['reference_dsc']:.2f}, clDice (two skeletons) {s['reference_cldice']:.2f}")
    print(f"  evaluate_pair (five metrics + topology): {s['evaluate_pair']:.2f} ({c['evaluate_pair']:.2f})")
    mem = report["peak_numpy_mib"]
    print(
        f"peak numpy allocations, all five: project {mem['project_5']:.0f} MiB, "
        f"reference {mem['reference_5']:.0f} MiB; "
        f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB"
    )
    print(f"identical values on both paths: {'yes' if report['identical'] else 'NO'}")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status (1 if values differ)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=(512, 512, 100))
    parser.add_argument("--spacing", type=float, nargs=3, default=(0.7, 0.7, 5.0))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--tau", type=float, default=1.0)
    args = parser.parse_args(argv)
    # Header zooms are float32: use the same values the NIfTI files would give.
    spacing = tuple(float(s) for s in np.float32(args.spacing))
    report = run(tuple(args.shape), spacing, args.seed, args.repeats, args.tau)
    return 0 if report["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
