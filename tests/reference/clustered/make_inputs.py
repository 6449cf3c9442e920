"""Simulate the group-coaching trial read by ``make_golden.R`` and ``test_clustered.py``.

Run from the repository root: ``python tests/reference/clustered/make_inputs.py`` (writes
``group_trial.csv``). Values are rounded to 4 decimals so that R and Python parse identical
numbers.

Design (one row per participant, seed 20261127):

- 70 participants in the ``immediate`` arm coached in 20 groups (10 groups of 3, 10 of 4),
  column ``group`` (``G01`` ... ``G20``); 70 wait-list ``delayed`` participants with no group
  (``group`` empty): the partially nested design.
- ``followup``: baseline-adjusted outcome with a group effect in the coached arm only
  (SD 0.30, residual SD 0.55 coached and 0.75 wait-list, so the true ICC in the coached arm is
  0.09 / (0.09 + 0.3025) = 0.23) and a true effect of -0.45.
- For the fully nested case the wait-list participants also meet in 20 groups (``W01`` ...
  ``W20``, sizes 3 and 4): column ``group_all`` holds ``group`` in the coached arm and the
  wait-list group otherwise, and ``followup_full`` adds a group effect (SD 0.30) in both arms
  with a common residual SD of 0.6.
- Covariates ``age`` (numeric) and ``site`` (three unequal levels).
- Missing data: ``followup`` and ``followup_full`` missing for 5 participants, one coached
  participant without a ``group`` id, one ``baseline`` missing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def make(seed: int = 20261127) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = np.array([3, 4] * 10)
    groups = np.repeat([f"G{g + 1:02d}" for g in range(20)], sizes)
    wl_groups = np.repeat([f"W{g + 1:02d}" for g in range(20)], sizes[::-1])
    n_t = groups.size
    n_c = wl_groups.size
    arm = np.array(["immediate"] * n_t + ["delayed"] * n_c, dtype=object)
    treat = (arm == "immediate").astype(float)
    n = n_t + n_c

    base = np.clip(rng.normal(2.0, 0.8, size=n), 0, 4)
    age = rng.uniform(28, 65, size=n)
    site = rng.choice(["north", "south", "west"], p=[0.5, 0.3, 0.2], size=n)
    site_effect = pd.Series(site).map({"north": 0.0, "south": 0.25, "west": -0.15}).to_numpy()

    u_t = rng.normal(0, 0.30, size=20)
    g_code = np.concatenate([np.repeat(np.arange(20), sizes), np.full(n_c, -1)])
    group_effect = np.where(g_code >= 0, u_t[np.maximum(g_code, 0)], 0.0)
    resid = rng.normal(0, 1, size=n) * np.where(treat == 1, 0.55, 0.75)
    mean = 0.5 + 0.55 * base - 0.45 * treat + 0.008 * (age - 45) + site_effect
    follow = mean + group_effect + resid

    u_w = rng.normal(0, 0.30, size=20)
    w_code = np.concatenate([np.full(n_t, -1), np.repeat(np.arange(20), sizes[::-1])])
    wl_effect = np.where(w_code >= 0, u_w[np.maximum(w_code, 0)], 0.0)
    follow_full = mean + group_effect + wl_effect + rng.normal(0, 0.6, size=n)

    frame = pd.DataFrame(
        {
            "participant_id": [f"P{i + 1:03d}" for i in range(n)],
            "arm": arm,
            "group": list(groups) + [None] * n_c,
            "group_all": list(groups) + list(wl_groups),
            "site": site,
            "age": age.round(1),
            "baseline": base.round(4),
            "followup": follow.round(4),
            "followup_full": follow_full.round(4),
        }
    )
    missing = rng.choice(n, size=5, replace=False)
    frame.loc[missing, ["followup", "followup_full"]] = np.nan
    frame.loc[[8], "group"] = None  # a coached participant without a group id
    frame.loc[[100], "baseline"] = np.nan
    # shuffle the rows so that clusters are not contiguous
    order = rng.permutation(n)
    return frame.iloc[order].reset_index(drop=True)


if __name__ == "__main__":
    make().to_csv(HERE / "group_trial.csv", index=False)
