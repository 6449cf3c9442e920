"""Benchmark: the randomized comparison and power simulation against statsmodels in a loop.

Two measurements, each printed as seconds and as a ratio (ours / alternative):

1. ``DelayedInterventionTrial.compare`` of seven outcomes on the sample trial (ANCOVA with
   adjusted means, percent change, standardized effects and Holm adjustment) against seven
   ``statsmodels.formula.api.ols`` fits on the same wide frames (coefficients only).
2. ``coaching_trials.power`` for ``--n-sims`` simulated trials (item-level simulation, scoring
   and ANCOVA of each trial, vectorized over trials) against the obvious alternative: a Python
   loop that fits ``statsmodels`` OLS to each simulated trial's wide frame (the simulation itself
   is shared, so the ratio isolates the fitting).

Run::

    python benchmarks/analysis_bench.py [--n-sims 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

import coaching_trials as ct

OUTCOMES = (
    "pfi_burnout",
    "pfi_pf",
    "pfi_id",
    "iwpr_score",
    "qol_score",
    "uwes9_total",
    "svs_total",
)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def scored_example() -> tuple[pd.DataFrame, ct.ExampleData]:
    example = ct.load_example("delayed_intervention")
    scored = example.responses
    for inst in ("pfi", "svs", "uwes9", "qol", "iwpr"):
        scored = ct.score(scored, inst)
    return scored, example


def wide_frames(scored: pd.DataFrame) -> dict[str, pd.DataFrame]:
    frames = {}
    arms = scored.groupby("participant_id")["arm"].first()
    for outcome in OUTCOMES:
        wide = scored.pivot(index="participant_id", columns="wave", values=outcome)
        frames[outcome] = pd.DataFrame(
            {"arm": arms, "base": wide["baseline"], "follow": wide["month3"]}
        ).dropna()
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sims", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    scored, example = scored_example()
    trial = ct.DelayedInterventionTrial(scored, participants=example.participants, **example.design)
    frames = wide_frames(scored)

    ours = best_of(lambda: trial.compare(list(OUTCOMES), primary="pfi_burnout"), args.repeat)
    alt = best_of(
        lambda: [smf.ols("follow ~ arm + base", data=f).fit() for f in frames.values()],
        args.repeat,
    )
    single = best_of(
        lambda: [
            ct.ancova(f, outcome="follow", arm="arm", baseline="base", treated="immediate")
            for f in frames.values()
        ],
        args.repeat,
    )
    print(f"ancova x 7 (with adjusted means and audit): {single:.3f} s")
    print(f"compare(7 outcomes, full tables): {ours:.3f} s")
    print(f"statsmodels ols x 7 (coefficients only): {alt:.3f} s")
    print(
        f"ratio ancova / statsmodels: {single / alt:.2f}; compare / statsmodels: {ours / alt:.2f}"
    )

    start = time.perf_counter()
    result = ct.power(n_sims=args.n_sims, seed=1)
    ours_power = time.perf_counter() - start
    sims = ct.simulate_trial(n_immediate=67 * 20, n_delayed=71 * 20, seed=2)
    big = sims.responses
    big = ct.score(big, "pfi")
    one = wide_frames_for(big)
    per_fit = best_of(lambda: smf.ols("follow ~ arm + base", data=one).fit(), args.repeat)
    loop_estimate = per_fit * args.n_sims
    print(
        f"power({args.n_sims} trials, simulate + score + ANCOVA): {ours_power:.3f} s, "
        f"power = {result.power:.3f}"
    )
    print(
        f"statsmodels ols loop, fitting only ({args.n_sims} x {per_fit * 1e3:.2f} ms): "
        f"{loop_estimate:.3f} s  ratio {ours_power / loop_estimate:.2f}"
    )


def wide_frames_for(scored: pd.DataFrame) -> pd.DataFrame:
    arms = scored.groupby("participant_id")["arm"].first()
    wide = scored.pivot(index="participant_id", columns="wave", values="pfi_burnout")
    frame = pd.DataFrame({"arm": arms, "base": wide["baseline"], "follow": wide["month3"]})
    return frame.dropna().iloc[: 67 + 71]


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
