"""Generate the deterministic input datasets used by ``reference.R`` and the analysis tests.

Run from this folder: ``python make_inputs.py`` (writes ``trial_a.csv`` and ``trial_b.csv``).
Values are rounded to 4 decimals so that R and Python parse identical numbers.

- ``trial_a``: 60 participants, two arms, a numeric (``age``) and a categorical (``site``, three
  unequal levels) covariate, 10 coaches (clusters), no missing values.
- ``trial_b``: 90 participants with dropout: follow-up missing for about 20% (more often in the
  delayed arm), one baseline and two ``site`` values missing, 12 coaches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def make(n: int, n_coaches: int, seed: int, dropout: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(n) < 0.5, "immediate", "delayed")
    treat = (arm == "immediate").astype(float)
    coach = rng.integers(1, n_coaches + 1, size=n)
    coach_effect = rng.normal(0, 0.25, size=n_coaches + 1)[coach]
    site = rng.choice(["north", "south", "west"], p=[0.5, 0.3, 0.2], size=n)
    site_effect = pd.Series(site).map({"north": 0.0, "south": 0.3, "west": -0.2}).to_numpy()
    age = rng.uniform(28, 65, size=n)
    base = np.clip(rng.normal(1.9, 0.8, size=n), 0, 4)
    follow = (
        0.4
        + 0.6 * base
        - 0.45 * treat
        + 0.01 * (age - 45)
        + site_effect
        + coach_effect
        + rng.normal(0, 0.55 + 0.25 * treat, size=n)
    )
    follow = np.clip(follow, 0, 4)
    frame = pd.DataFrame(
        {
            "participant_id": [f"P{i + 1:03d}" for i in range(n)],
            "arm": arm,
            "coach": [f"C{c:02d}" for c in coach],
            "site": site,
            "age": age.round(1),
            "baseline": base.round(4),
            "followup": follow.round(4),
        }
    )
    if dropout:
        p_drop = np.where(treat == 1, 0.12, 0.28)
        frame.loc[rng.random(n) < p_drop, "followup"] = np.nan
        frame.loc[[5], "baseline"] = np.nan
        frame.loc[[11, 40], "site"] = np.nan
    return frame


if __name__ == "__main__":
    make(60, 10, 20260127, dropout=False).to_csv(HERE / "trial_a.csv", index=False)
    make(90, 12, 20260128, dropout=True).to_csv(HERE / "trial_b.csv", index=False)
