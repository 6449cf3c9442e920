"""Write the deterministic item-level inputs for the scoring golden (``make_golden.R``).

Run from the repository root: ``python tests/reference/instruments/make_inputs.py``.
Uses only numpy (no package code), so the inputs do not depend on what they test.

The rows are built to hit the rules the R script re-implements independently:
complete rows, rows prorated at and just above each subscale's minimum-answered boundary,
rows one item short of it (unscorable), all-missing rows, scores exactly on cut-points
(PFI burnout mean 1.33 is not reachable exactly with 10 items, so 1.3 / 1.4 bracket it;
WE sum 7, ID sum 9, MBI EE 27, DP 10, PA 33 are hit exactly), and the extremes of the
response range.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N_RANDOM = 40
SEED = 20240611


def _frame(prefix: str, n_items: int, lo: int, hi: int, fixed: list[list[float]], rng):
    rand = rng.integers(lo, hi + 1, size=(N_RANDOM, n_items)).astype(float)
    # item-level missingness, heavier in some rows so that minimum-answered rules bite
    p_miss = np.repeat([0.0, 0.1, 0.3, 0.6], N_RANDOM // 4)[:, None]
    rand[rng.random((N_RANDOM, n_items)) < p_miss] = np.nan
    block = np.vstack([np.asarray(fixed, dtype=float).reshape(-1, n_items), rand])
    cols = [f"{prefix}_{i:02d}" for i in range(1, n_items + 1)]
    return cols, block


def _write(name: str, cols: list[str], block: np.ndarray) -> None:
    ids = [f"R{i:03d}" for i in range(1, len(block) + 1)]
    lines = ["row_id," + ",".join(cols)]
    for rid, row in zip(ids, block, strict=True):
        cells = ["" if np.isnan(v) else str(int(v)) for v in row]
        lines.append(rid + "," + ",".join(cells))
    (HERE / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    rng = np.random.default_rng(SEED)
    nan = np.nan
    # PFI: PF 1-6 (min 3), WE 7-10 (min 2), ID 11-16 (min 3), burnout = WE+ID (min 5)
    pfi_fixed = [
        [0] * 16,
        [4] * 16,
        [4, 4, 3, 3, 2, 2, 2, 2, 2, 1, 2, 2, 1, 1, 1, 2],  # WE sum 7, ID sum 9 exactly
        [3, 3, 3, 3, 3, 3, 1, 1, 1, 2, 2, 1, 1, 2, 1, 1],  # PF mean 3.0, burnout 1.3
        [3, 3, 3, 3, 3, 2, 2, 1, 2, 1, 1, 1, 1, 2, 2, 1],  # PF 2.833, burnout 1.4
        [3, 3, 3, nan, nan, nan, 2, 2, nan, nan, 1, 1, 1, nan, nan, nan],  # all at minimum
        [3, 3, nan, nan, nan, nan, 2, nan, nan, nan, 1, 1, nan, nan, nan, nan],  # one short
        [nan] * 16,
        [nan] * 6 + [3, 3, 3, 3] + [nan] * 6,  # WE only: burnout 4 of 10 answered -> NA
        [nan] * 6 + [3, 3, 3, nan] + [1, 1, nan, nan, nan, nan],  # burnout 5 of 10
    ]
    _write("input_pfi.csv", *_frame("pfi", 16, 0, 4, pfi_fixed, rng))

    # CBI: personal 1-6, work 7-13 (cbi_13 reverse-keyed), client 14-19; min = half rounded up
    cbi_fixed = [
        [0] * 19,
        [4] * 19,
        [1, 2, 3, 4, 0, 1] + [2, 2, 2, 2, 2, 2, 0] + [1, 1, 1, 1, 1, 1],
        [nan] * 6 + [nan, nan, nan, 4, 4, 4, 0] + [nan] * 6,  # work 4 of 7 incl. reverse item
        [nan] * 6 + [nan, nan, nan, nan, 4, 4, 0] + [nan] * 6,  # work 3 of 7 -> NA
    ]
    _write("input_cbi.csv", *_frame("cbi", 19, 0, 4, cbi_fixed, rng))

    # MBI: EE sum (min 5 of 9), DP (3 of 5), PA (4 of 8); EE 27, DP 10, PA 33 exactly
    ee = [1, 2, 3, 6, 8, 13, 14, 16, 20]
    dp = [5, 10, 11, 15, 22]
    pa = [4, 7, 9, 12, 17, 18, 19, 21]

    def mbi_row(ee_vals, dp_vals, pa_vals):
        row = [nan] * 22
        for idx, v in zip(ee, ee_vals, strict=True):
            row[idx - 1] = v
        for idx, v in zip(dp, dp_vals, strict=True):
            row[idx - 1] = v
        for idx, v in zip(pa, pa_vals, strict=True):
            row[idx - 1] = v
        return row

    mbi_fixed = [
        [0] * 22,
        [6] * 22,
        mbi_row([3] * 9, [2] * 5, [4, 4, 4, 4, 4, 4, 4, 5]),  # EE 27, DP 10, PA 33
        mbi_row([3] * 8 + [2], [2, 2, 2, 2, 1], [4, 4, 4, 4, 4, 4, 4, 6]),  # 26, 9, 34
        mbi_row([3] * 8 + [2], [2, 2, 2, 2, 2], [nan] * 8),  # EE 26 DP 10 -> burnout
        mbi_row([6, 6, 6, 6, 6] + [nan] * 4, [0, 0, 0, nan, nan], [6, 6, 6, 6] + [nan] * 4),
        mbi_row([6, 6, 6, 6] + [nan] * 5, [0, 0, nan, nan, nan], [6, 6, 6] + [nan] * 5),
        [nan] * 22,
    ]
    _write("input_mbi.csv", *_frame("mbi", 22, 0, 6, mbi_fixed, rng))


if __name__ == "__main__":
    main()
