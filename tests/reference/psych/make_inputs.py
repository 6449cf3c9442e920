"""Write the small item data sets that ``make_golden.R`` reads.

Run from this folder with ``python make_inputs.py``. The data are synthetic and deterministic
(numpy ``default_rng`` with fixed seeds); the CSVs are committed so that the tests and the R
script never depend on re-running this file.

- ``items_complete.csv``: 200 respondents x 6 items scored 0-4, one common factor with
  unequal loadings, no missing values.
- ``items_missing.csv``: 150 respondents x 4 items scored 0-4 with about 8% of the cells
  missing completely at random (no respondent misses every item).
- ``items_uwes.csv``: 120 respondents x 9 items scored 0-6 with about 5% missing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def one_factor_items(
    n: int, loadings: list[float], *, top: int, centre: float, seed: int
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lam = np.asarray(loadings)
    factor = rng.standard_normal(n)
    noise = rng.standard_normal((n, lam.size)) * np.sqrt(1.0 - lam**2)
    latent = factor[:, None] * lam + noise
    return np.clip(np.rint(centre + 1.1 * latent), 0, top)


def with_missing(values: np.ndarray, rate: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = values.copy()
    mask = rng.random(values.shape) < rate
    empty = mask.all(axis=1)
    mask[empty, 0] = False  # keep at least one answer per respondent
    out[mask] = np.nan
    return out


def frame(values: np.ndarray, prefix: str) -> pd.DataFrame:
    cols = [f"{prefix}_{j + 1:02d}" for j in range(values.shape[1])]
    return pd.DataFrame(values, columns=cols).astype("Int64")


def main() -> None:
    complete = one_factor_items(200, [0.8, 0.75, 0.7, 0.6, 0.5, 0.4], top=4, centre=2.0, seed=2024)
    frame(complete, "item").to_csv(HERE / "items_complete.csv", index=False)

    small = one_factor_items(150, [0.75, 0.7, 0.65, 0.55], top=4, centre=1.6, seed=138)
    frame(with_missing(small, 0.08, seed=7), "item").to_csv(
        HERE / "items_missing.csv", index=False, na_rep="NA"
    )

    uwes = one_factor_items(
        120, [0.85, 0.8, 0.8, 0.75, 0.7, 0.7, 0.65, 0.6, 0.5], top=6, centre=3.5, seed=9
    )
    frame(with_missing(uwes, 0.05, seed=11), "uwes").to_csv(
        HERE / "items_uwes.csv", index=False, na_rep="NA"
    )


if __name__ == "__main__":
    main()
