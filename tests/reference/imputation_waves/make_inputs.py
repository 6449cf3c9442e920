"""Two simulated 3-wave coaching trials for the chained-equations imputation check.

Run from the repository root: ``python tests/reference/imputation_waves/make_inputs.py``.
Writes ``monotone.csv`` and ``nonmonotone.csv`` (long: id, arm, wave, base, age, site, y),
committed; ``make_golden.R`` imputes them with mice. Deterministic; no real participants.

- monotone: 120 participants, complete baseline, dropout after each wave more likely after a
  high (bad) score (MAR), so each later wave is missing whenever an earlier one is.
- nonmonotone: 120 participants, 8% missing baselines and waves missed independently with a
  probability that depends on the baseline (MAR given the baseline): all patterns occur.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
WAVES = ["m03", "m06", "m12"]


def simulate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    arm = rng.permutation(np.repeat(["immediate", "delayed"], n // 2))
    base = rng.normal(2.2, 0.6, n)
    age = np.round(rng.normal(45, 9, n), 1)
    site = rng.choice(["north", "south", "west"], n)
    corr = np.array([[1.0, 0.6, 0.45], [0.6, 1.0, 0.6], [0.45, 0.6, 1.0]])
    sd = np.array([0.45, 0.5, 0.6])
    err = rng.multivariate_normal(np.zeros(3), corr * np.outer(sd, sd), size=n)
    effect = np.array([-0.2, -0.35, -0.3])
    y = (
        0.4
        + 0.7 * base[:, None]
        + 0.01 * (age[:, None] - 45)
        + (arm == "immediate")[:, None] * effect[None, :]
        + err
    )
    frame = pd.DataFrame(
        {
            "id": [f"P{i + 1:03d}" for i in range(n)],
            "arm": arm,
            "base": np.round(base, 3),
            "age": age,
            "site": site,
        }
    )
    return frame, np.round(y, 3)


def long(frame: pd.DataFrame, y: np.ndarray, observed: np.ndarray) -> pd.DataFrame:
    parts = []
    for j, wave in enumerate(WAVES):
        part = frame.assign(wave=wave, y=np.where(observed[:, j], y[:, j], np.nan))
        parts.append(part)
    return pd.concat(parts, ignore_index=True).sort_values(["id", "wave"], kind="stable")


rng = np.random.default_rng(20261203)
frame, y = simulate(rng, 120)
observed = np.ones_like(y, dtype=bool)
for j in (0, 1, 2):
    prev = frame["base"].to_numpy() if j == 0 else y[:, j - 1]
    p_drop = 1 / (1 + np.exp(-(-2.3 + 1.5 * (prev - 2.2))))
    observed[:, j] = (observed[:, j - 1] if j else True) & (rng.uniform(size=len(y)) > p_drop)
long(frame, y, observed).to_csv(HERE / "monotone.csv", index=False, na_rep="")

frame, y = simulate(rng, 120)
p_miss = 1 / (1 + np.exp(-(-1.8 + 1.2 * (frame["base"].to_numpy() - 2.2))))
observed = rng.uniform(size=y.shape) > p_miss[:, None]
frame.loc[rng.uniform(size=len(frame)) < 0.08, "base"] = np.nan
long(frame, y, observed).to_csv(HERE / "nonmonotone.csv", index=False, na_rep="")

for name in ("monotone", "nonmonotone"):
    d = pd.read_csv(HERE / f"{name}.csv")
    print(
        name,
        d.groupby("wave")["y"].apply(lambda s: s.isna().mean()).round(2).to_dict(),
        "missing base",
        d.drop_duplicates("id")["base"].isna().sum(),
    )
