"""Write ``scale.csv``: a 1,500-subject, 4-wave two-arm trial with monotone dropout.

Run from the repository root: ``python tests/reference/mmrm_scale/make_data.py`` (numpy and
pandas only; the file is committed). Large enough that every visit pattern holds far more
subjects than the MMRM engine's compression threshold ``k (p + 1)``, so the golden values
check the per-pattern sufficient-statistics path against R.
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261203)
n, t = 1500, 4
arm = rng.integers(0, 2, n)
base = rng.normal(50.0, 10.0, n)
cov = np.array(
    [[64, 40, 30, 25], [40, 81, 50, 40], [30, 50, 100, 60], [25, 40, 60, 121]], dtype=float
)
err = rng.normal(size=(n, t)) @ np.linalg.cholesky(cov).T
y = 20 + 0.6 * base[:, None] + np.arange(t) + arm[:, None] * 0.8 * np.arange(1, t + 1) + err
n_obs = np.clip(rng.geometric(0.15, n), 1, t)
subject = np.repeat(np.arange(n), t)
wave = np.tile(np.arange(t), n)
keep = wave < np.repeat(n_obs, t)
frame = pd.DataFrame(
    {
        "subject": [f"S{i:04d}" for i in subject],
        "arm": np.repeat(np.where(arm == 1, "coach", "control"), t),
        "wave": np.array(["w1", "w2", "w3", "w4"])[wave],
        "y": np.round(y.ravel(), 4),
        "base": np.round(np.repeat(base, t), 4),
    }
)[keep]
frame.to_csv(Path(__file__).with_name("scale.csv"), index=False)
