"""Issue 11's measurements in one run: designing the next trial at scale.

Runs, one after the other, in fresh processes:

1. ``power_bench.py``: ``ct.power`` with 10,000 simulated ANCOVA trials against the numpy floor
   (a bare vectorised normal-model simulation with batched least squares), and a 48-cell power
   grid serial against 2 worker processes;
2. ``mmrm_scale_bench.py``: MMRM (unstructured) at 1,000 / 20,000 / 100,000 subjects against R
   ``nlme::gls`` where R finishes (skipped without ``Rscript``);
3. ``dask_bench.py``: scoring and summarising 20 million PFI responses through Dask, with the
   peak resident memory (bounded by the partition size, not the data size).

Run from the repository root: ``python benchmarks/planning_bench.py [--quick]`` (``--quick``:
smaller sizes, for a smoke run). The machine's load average is printed first: timings on a
shared machine are only comparable at similar load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(script: str, *args: str) -> None:
    print(f"\n=== {script} {' '.join(args)}".rstrip(), flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = parser.parse_args()
    print(f"load average (1, 5, 15 min): {os.getloadavg()}; cores: {os.cpu_count()}")
    if args.quick:
        run("power_bench.py", "--n-sims", "2000", "--grid-sims", "200", "--grid-repeat", "1",
            "--repeat", "1")  # fmt: skip
        run("mmrm_scale_bench.py", "--sizes", "1000", "20000", "--repeat", "1", "--r-max", "1000")
        run("dask_bench.py", "1")
    else:
        run("power_bench.py")
        run("mmrm_scale_bench.py")
        run("dask_bench.py", "5", "20")


if __name__ == "__main__":
    main()
