"""Benchmark: how often the report calls a loss better or worse when it is not, and its power.

Simulates nested 3-fold studies of 12 losses on 70 volumes (minivess_kedro.reporting.calibration:
per-run training noise, a persistent loss x volume effect, residual noise) and runs each through
the report's own ``compare_to_reference``, side by side with the method the report used before
(each volume one unit, Wilcoxon signed-rank, Holm over the losses). Prints, per seed count:

* the null studies' unadjusted rejection rate of each test (nominal 0.05), the per-test false
  better/worse rate after Holm, and the family-wise rate (any of the 11 null losses called better
  or worse; nominal <= 0.05), each with its Monte Carlo standard error;
* the power to call a loss with a true +0.02 DSC effect better (the other 10 null).

Run: ``python bench/verdict_calibration.py`` (about 5 minutes on 2 cores with 1,000 studies per
cell) or ``--studies 200`` for a quick look; ``--scenario fresh`` puts all the volume noise in
fresh per-run draws (no persistent loss x volume effect).
"""

from __future__ import annotations

import argparse
import time

from minivess_kedro.reporting.calibration import Rates, StudyShape, error_rates

SCENARIOS = {
    "persistent": {"run_sd": 0.01, "volume_sd": 0.03, "residual_sd": 0.01},
    "fresh": {"run_sd": 0.01, "volume_sd": 0.0, "residual_sd": 0.03},
}


def _cell(value: float, se: float) -> str:
    return f"{value:.3f} ± {se:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=1000, help="simulated studies per cell")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 3, 5], help="seed counts")
    parser.add_argument("--effect", type=float, default=0.02, help="true DSC effect for the power column")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="persistent")
    args = parser.parse_args()
    noise = SCENARIOS[args.scenario]
    print(f"scenario {args.scenario}: {noise}; 12 losses, nested 3-fold, 70 volumes, {args.studies} studies per cell")
    header = (
        "| seeds | method | testable | unadjusted rate | false better/worse per test | family-wise | "
        f"power at +{args.effect:g} DSC |"
    )
    print(header)
    print("|" + "---|" * 7)
    start = time.perf_counter()
    for seeds in args.seeds:
        shape = StudyShape(n_seeds=seeds, **noise)
        for method in ("report", "volume_wilcoxon"):
            null: Rates = error_rates(shape, args.studies, seed=1000 + seeds, method=method)
            effect: Rates = error_rates(shape, args.studies, seed=2000 + seeds, effect=args.effect, method=method)
            name = "run-aware t (now)" if method == "report" else "volume Wilcoxon (before)"
            print(
                f"| {seeds} | {name} | {null.testable:.2f} | {_cell(null.unadjusted, null.unadjusted_se)} | "
                f"{_cell(null.per_test, null.per_test_se)} | {_cell(null.family_wise, null.family_wise_se)} | "
                f"{_cell(effect.power, effect.power_se)} |"
            )
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
