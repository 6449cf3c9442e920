"""Scoring and summarising a system-wide PFI survey out of core, with Dask.

Generates PFI responses partition by partition (never the whole data in memory), scores them
with ``score_lazy`` and summarises burnout by wave and site with ``summarize_lazy`` (n, mean, SD,
prevalence above the cut-point). Each size runs in a fresh process so that its peak resident
memory can be read; the goal is memory bounded by the partition size, not by the data size.

Run: ``python benchmarks/dask_bench.py [millions ...]`` (default: 5 and 20 million responses).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

ROWS_PER_PARTITION = 250_000


def one(millions: float) -> dict:
    import resource

    import dask
    import dask.dataframe as dd
    import numpy as np
    import pandas as pd

    from coaching_trials.instruments.lazy import score_lazy, summarize_lazy

    n = int(millions * 1_000_000)
    parts = max(1, n // ROWS_PER_PARTITION)

    def make(i: int) -> pd.DataFrame:
        rng = np.random.default_rng(i)
        size = ROWS_PER_PARTITION if i < parts - 1 else n - ROWS_PER_PARTITION * (parts - 1)
        frame = pd.DataFrame(
            rng.integers(0, 5, size=(size, 16)).astype("float64"),
            columns=[f"pfi_{j:02d}" for j in range(1, 17)],
        )
        frame.iloc[rng.random(size) < 0.02, 3] = np.nan
        frame.insert(0, "wave", rng.choice(["2024", "2025", "2026"], size=size))
        frame.insert(0, "site", rng.choice([f"site{k:02d}" for k in range(40)], size=size))
        return frame

    data = dd.from_map(make, range(parts))
    t0 = time.perf_counter()
    scored = score_lazy(data, "pfi", keep_items=False)
    table = summarize_lazy(
        scored, ["pfi_burnout", "pfi_pf"], by=["wave", "site"], flags=["pfi_burnout_high"]
    )
    with dask.config.set(scheduler="threads", num_workers=2):
        result = table.compute()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB on Linux
    return {
        "responses": n,
        "partitions": parts,
        "groups": len(result),
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(peak, 1),
        "responses_per_second": round(n / seconds),
    }


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(one(float(sys.argv[2]))))
        return
    sizes = [float(x) for x in sys.argv[1:]] or [5.0, 20.0]
    print(f"{'responses':>12} {'partitions':>10} {'seconds':>8} {'resp/s':>10} {'peak RSS':>9}")
    for size in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size)],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['responses']:>12,} {r['partitions']:>10} {r['seconds']:>8} "
            f"{r['responses_per_second']:>10,} {r['peak_rss_mib']:>7} MiB"
        )
    print(f"(partitions of {ROWS_PER_PARTITION:,} responses; memory should not grow with size)")


if __name__ == "__main__":
    main()
