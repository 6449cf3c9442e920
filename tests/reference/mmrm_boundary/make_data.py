"""Constructed boundary case for the MMRM: 200 subjects, 4 visits, the last visit sparse.

Run from the repository root: ``python tests/reference/mmrm_boundary/make_data.py``. Writes
``sparse_last_visit.csv`` (committed). Deterministic (fixed seed); no real participants.

Visits V1-V3 are observed for (nearly) everybody; only 6 subjects (3 per arm) reach V4. With
an unstructured covariance, baseline-by-visit and arm-by-visit terms, visit V4 has 3 mean
parameters plus 4 covariance parameters (its variance and its covariances with V1-V3) but
only 6 observations: the conditional variance of V4 given V1-V3 can be driven to 0 and the
REML likelihood is unbounded (nlme::gls stops with an error, see make_golden.R).
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261203)
n = 200
ids = [f"S{i + 1:03d}" for i in range(n)]
arm = np.where(np.arange(n) % 2 == 0, "TRT", "PBO")
base = np.round(rng.normal(50.0, 8.0, n), 2)
sd = np.array([6.0, 6.5, 7.0, 7.5])
corr = 0.5 + 0.5 * np.eye(4)
err = rng.multivariate_normal(np.zeros(4), corr * np.outer(sd, sd), size=n)
effect = np.array([-1.0, -2.0, -3.0, -4.0])
y = np.round(10.0 + 0.8 * base[:, None] + (arm == "TRT")[:, None] * effect[None, :] + err, 2)
observed = np.ones((n, 4), dtype=bool)
observed[:, 1:3] = rng.uniform(size=(n, 2)) > 0.05
observed[:, 3] = False
observed[[0, 2, 4, 1, 3, 5], 3] = True  # 3 per arm reach the last visit
observed[[0, 2, 4, 1, 3, 5], :3] = True
rows = [
    {
        "USUBJID": ids[i],
        "ARMCD": arm[i],
        "AVISIT": f"V{j + 1}",
        "BASE": base[i],
        "AVAL": y[i, j] if observed[i, j] else np.nan,
    }
    for i in range(n)
    for j in range(4)
]
out = pd.DataFrame(rows)
out.to_csv(Path(__file__).with_name("sparse_last_visit.csv"), index=False, na_rep="")
print(out["AVAL"].notna().groupby(out["AVISIT"]).sum())
