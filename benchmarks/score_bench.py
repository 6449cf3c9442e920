"""Benchmark: score every PFI subscale for 1,000,000 respondents.

Data: 16 items drawn uniformly from 0-4, ~2% of responses missing (seeded). The engine is
compared with a bare numpy floor: ``np.nanmean`` over the same item block, per subscale
(the least work any implementation must do to produce item means with missing values).

Run::

    python benchmarks/score_bench.py [--n 1000000] [--repeat 5]

Goal: < 1 s for ``score(df, "pfi")`` with validation on, and within 5x of the numpy floor.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import coaching_trials as ct


def make_data(n: int, seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    block = rng.integers(0, 5, size=(n, 16)).astype("float64")
    block[rng.random((n, 16)) < 0.02] = np.nan
    return pd.DataFrame(block, columns=[f"pfi_{i:02d}" for i in range(1, 17)])


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    df = make_data(args.n)
    inst = ct.get_instrument("pfi")
    block = df.to_numpy()
    positions = {c: i for i, c in enumerate(df.columns)}
    groups = [[positions[c] for c in sub.items] for sub in inst.subscales.values()]

    def numpy_floor() -> None:
        for idx in groups:
            np.nanmean(block[:, idx], axis=1)

    ct.score(df.head(100), "pfi")  # warm-up (imports, registry)
    t_floor = best_of(numpy_floor, args.repeat)
    results = {
        "score(validate=True)": best_of(lambda: ct.score(df, "pfi"), args.repeat),
        "score(validate=False)": best_of(lambda: ct.score(df, "pfi", validate=False), args.repeat),
        "score(metric='0-100')": best_of(lambda: ct.score(df, "pfi", metric="0-100"), args.repeat),
    }
    print(f"respondents: {args.n:,}; PFI subscales: {len(groups)}; best of {args.repeat}")
    print(f"numpy floor (nanmean per subscale): {t_floor:.3f} s")
    for label, t in results.items():
        print(f"{label:<24} {t:.3f} s   ratio to numpy floor: {t / t_floor:.2f}x")


if __name__ == "__main__":
    main()
