"""Generate the deterministic inputs of ``reference.R`` and ``tests/analysis/test_imputation.py``.

Run from this folder: ``python make_inputs.py``. Values are rounded to 4 decimals so that R and
Python parse identical numbers.

- ``trial_mi.csv``: 150 participants, two arms, a numeric (``age``) and a categorical (``site``)
  covariate; ``followup`` missing for about 20% (missing at random: more often in the delayed
  arm and at high baseline); ``baseline`` complete and ``baseline_gap`` = the same baseline
  with about 10% missing (some rows miss both); ``followup_full`` keeps the values before
  dropout.
- ``pool_inputs.csv``: fixed per-imputation estimates and variances (``case, imputation,
  estimate, variance, df_complete``; ``df_complete`` empty = infinite) for ``pool.scalar``,
  including a case with no between-imputation variance (lambda below the 1e-4 floor).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def make_trial(n: int = 150, seed: int = 20261127) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(n) < 0.5, "immediate", "delayed")
    treat = (arm == "immediate").astype(float)
    site = rng.choice(["north", "south", "west"], p=[0.5, 0.3, 0.2], size=n)
    site_effect = pd.Series(site).map({"north": 0.0, "south": 0.3, "west": -0.2}).to_numpy()
    age = rng.uniform(28, 65, size=n).round(1)
    base = rng.normal(2.0, 0.8, size=n).round(4)
    follow = (
        0.4
        + 0.6 * base
        - 0.45 * treat
        + 0.01 * (age - 45)
        + site_effect
        + rng.normal(0, 0.6, size=n)
    ).round(4)
    logit = -1.9 + 0.9 * (1 - treat) + 0.6 * (base - 2.0)
    drop = rng.random(n) < 1 / (1 + np.exp(-logit))
    gap = rng.random(n) < 0.10
    frame = pd.DataFrame(
        {
            "participant_id": [f"P{i + 1:03d}" for i in range(n)],
            "arm": arm,
            "site": site,
            "age": age,
            "baseline": base,
            "baseline_gap": np.where(gap, np.nan, base),
            "followup": np.where(drop, np.nan, follow),
            "followup_full": follow,
        }
    )
    return frame


def make_pool_inputs(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cases = [
        # case, m, true variance, between sd, df_complete
        ("m5_dfcom96", 5, 0.04, 0.15, 96.0),
        ("m20_dfcom12", 20, 0.30, 0.60, 12.0),
        ("m3_dfcom_inf", 3, 0.01, 0.05, np.inf),
        ("m2_dfcom40", 2, 0.20, 0.30, 40.0),
        ("m50_dfcom200", 50, 0.02, 0.03, 200.0),
    ]
    rows = []
    for case, m, var, sd, dfc in cases:
        est = 0.8 + rng.normal(0, sd, m)
        v = var * rng.chisquare(30, m) / 30
        for j in range(m):
            rows.append((case, j + 1, round(est[j], 6), round(v[j], 6), dfc))
    for j in range(10):  # no between-imputation variance: lambda = 0 < 1e-4 floor
        rows.append(("m10_b0_dfcom30", j + 1, 1.25, 0.09, 30.0))
    frame = pd.DataFrame(
        rows, columns=["case", "imputation", "estimate", "variance", "df_complete"]
    )
    frame["df_complete"] = frame["df_complete"].replace(np.inf, np.nan)
    return frame


if __name__ == "__main__":
    make_trial().to_csv(HERE / "trial_mi.csv", index=False)
    make_pool_inputs().to_csv(HERE / "pool_inputs.csv", index=False)
