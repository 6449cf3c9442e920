"""Benchmark: reading and validating a large responses CSV vs a bare ``pandas.read_csv``.

Run from the repository root::

    python benchmarks/read_bench.py [--n 100000] [--repeat 3]

Data (generated in a temporary folder, never committed): ``n`` participants x 3 waves, 40
columns: ``participant_id`` (zero-padded, e.g. ``"0000042"``), ``arm``, ``wave``,
``wave_date``, the 16 PFI items and 20 further 0-10 items, about 2% blank cells and 0.5%
``"N/A"`` cells (declared as missing).

Timed (best of ``repeat``, seconds):

* ``bare``: ``pandas.read_csv(path, dtype=str)`` (what a reader must at least do);
* ``ours``: :func:`coaching_trials.read_survey` (encoding / separator / header sniffing,
  cells read as text, the missing-value policy with ``missing_codes={"N/A": ...}``, ids as
  text and the leading-zero / case twin check) followed by
  :func:`coaching_trials.validate_responses` (arms, waves, duplicates, one arm per id,
  PFI items in range).

The target (issue 8) is ``ours <= 2 x bare``; the script exits with status 1 otherwise.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import coaching_trials as ct


def make_file(path: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    rows = 3 * n
    ids = np.char.zfill(np.arange(1, n + 1).astype(str), 7)
    data: dict[str, object] = {
        "participant_id": np.repeat(ids, 3),
        "arm": np.repeat(np.where(np.arange(n) % 2 == 0, "immediate", "delayed"), 3),
        "wave": np.tile(["baseline", "month3", "month6"], n),
        "wave_date": np.tile(["2024-01-15", "2024-04-15", "2024-07-15"], n),
    }
    for i in range(1, 17):
        data[f"pfi_{i:02d}"] = rng.integers(0, 5, rows).astype(str)
    for i in range(1, 21):
        data[f"extra_{i:02d}"] = rng.integers(0, 11, rows).astype(str)
    frame = pd.DataFrame(data)
    items = [c for c in frame.columns if c.startswith(("pfi_", "extra_"))]
    for col in items:
        u = rng.random(rows)
        values = frame[col].to_numpy(dtype=object)
        values[u < 0.02] = ""
        values[(u >= 0.02) & (u < 0.025)] = "N/A"
        frame[col] = values
    frame.to_csv(path, index=False)


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="participants")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "responses.csv"
        make_file(path, args.n)
        size = path.stat().st_size / 1e6

        def bare() -> None:
            pd.read_csv(path, dtype=str)

        def ours() -> None:
            df = ct.read_survey(path, missing_codes={"N/A": "not applicable"})
            ct.validate_responses(
                df,
                arms=("immediate", "delayed"),
                waves=("baseline", "month3", "month6"),
                instruments=("pfi",),
            )

        t_bare = best(bare, args.repeat)
        t_ours = best(ours, args.repeat)
    ratio = t_ours / t_bare
    print(f"file: {3 * args.n} rows x 40 columns, {size:.1f} MB")
    print(f"bare pandas.read_csv(dtype=str): {t_bare:.2f} s")
    print(f"read_survey + validate_responses: {t_ours:.2f} s  ({ratio:.2f} x bare; target <= 2)")
    return 0 if ratio <= 2.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
