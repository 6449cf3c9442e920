"""Generate the small synthetic 3-visit coaching trial used as input for ``make_golden.R``.

Run from the repository root: ``python tests/reference/mmrm_r/make_data.py``. The output
``trial3.csv`` is committed; the R script fits it and writes ``golden_*.csv``. Deterministic
(fixed seed); no real participants.

Design: 90 participants randomised 1:1 to "immediate" or "delayed" coaching; a baseline burnout
score; follow-up waves month3, month6, month9 with correlated errors (unequal variances),
monotone dropout that depends on the previous observed value (missing at random) and a few
intermittently missed waves.
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(20240611)
n = 90
ids = [f"P{i + 1:03d}" for i in range(n)]
arm = rng.permutation(np.repeat(["immediate", "delayed"], n // 2))
baseline = np.round(rng.normal(2.0, 0.6, n), 3)
waves = ["month3", "month6", "month9"]
sd = np.array([0.45, 0.55, 0.70])
corr = np.array([[1.0, 0.6, 0.4], [0.6, 1.0, 0.6], [0.4, 0.6, 1.0]])
cov = corr * np.outer(sd, sd)
err = rng.multivariate_normal(np.zeros(3), cov, size=n)
effect = np.array([-0.25, -0.35, -0.30])
trend = np.array([0.0, -0.05, -0.10])
mean = (
    0.4
    + 0.75 * baseline[:, None]
    + trend[None, :]
    + (arm == "immediate")[:, None] * effect[None, :]
)
y = np.round(mean + err, 3)
observed = np.ones((n, 3), dtype=bool)
for j in (1, 2):  # monotone dropout, more likely after a high (bad) previous score: MAR
    p_drop = 1.0 / (1.0 + np.exp(-(-2.4 + 1.2 * (y[:, j - 1] - 2.0))))
    observed[:, j] = observed[:, j - 1] & (rng.uniform(size=n) > p_drop)
intermittent = rng.uniform(size=(n, 3)) < 0.05
observed[:, :2] &= ~intermittent[:, :2]
rows = []
for i in range(n):
    for j, wave in enumerate(waves):
        rows.append(
            {
                "participant_id": ids[i],
                "arm": arm[i],
                "wave": wave,
                "pfi_burnout_bl": baseline[i],
                "pfi_burnout": y[i, j] if observed[i, j] else np.nan,
            }
        )
out = pd.DataFrame(rows)
out.to_csv(Path(__file__).with_name("trial3.csv"), index=False, na_rep="")
print(out["pfi_burnout"].isna().groupby(out["wave"]).sum())
