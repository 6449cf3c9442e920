"""A small deterministic synthetic delayed-intervention trial for the design tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

WAVES = ("baseline", "month3", "month6")


def make_trial_frames(
    seed: int = 7, n_immediate: int = 30, n_delayed: int = 32, dropout: float = 0.1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long responses (participant x wave) and a participants table, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    n = n_immediate + n_delayed
    ids = np.array([f"P{i:03d}" for i in range(1, n + 1)])
    arm = np.array(["immediate"] * n_immediate + ["delayed"] * n_delayed)
    rng.shuffle(arm)
    imm = arm == "immediate"
    person = rng.normal(0, 0.5, n)
    base = 1.5 + person + rng.normal(0, 0.3, n)
    m3 = 1.5 + person + rng.normal(0, 0.3, n) - 0.4 * imm
    m6 = 1.5 + person + rng.normal(0, 0.3, n) - 0.35 * imm - 0.3 * ~imm
    pf = (
        2.5
        - 0.5 * person[:, None]
        + rng.normal(0, 0.4, (n, 3))
        + np.c_[0 * imm, 0.3 * imm, 0.3 + 0 * imm]
    )
    y = np.c_[base, m3, m6]
    long = pd.DataFrame(
        {
            "participant_id": np.repeat(ids, 3),
            "arm": np.repeat(arm, 3),
            "wave": np.tile(WAVES, n),
            "pfi_burnout": y.ravel().round(3),
            "pfi_pf": pf.ravel().round(3),
        }
    )
    # monotone dropout (from month3 or from month6) and a few missing scores
    u = rng.random(n)
    first_missing = np.where(u < dropout, 1, np.where(u < 2 * dropout, 2, 3))
    keep = np.tile(np.arange(3), n) < np.repeat(first_missing, 3)
    long = long.loc[keep].reset_index(drop=True)
    na = rng.random(len(long)) < 0.03
    long.loc[na, "pfi_pf"] = np.nan
    withdrawn = first_missing < 3
    reasons = np.where(withdrawn & (rng.random(n) < 0.6), "left institution", None)
    participants = pd.DataFrame(
        {
            "participant_id": ids,
            "arm": arm,
            "age": rng.normal(45, 8, n).round(0),
            "gender": rng.choice(["woman", "man", "nonbinary"], n, p=[0.5, 0.45, 0.05]),
            "sessions_attended": rng.integers(2, 7, n),
            "withdrawal_reason": reasons,
        }
    )
    return long, participants


#: Scored outcomes of the sample trial compared with R in the golden tests.
OUTCOMES = [
    "pfi_burnout",
    "pfi_pf",
    "pfi_id",
    "iwpr_score",
    "qol_score",
    "uwes9_total",
    "svs_total",
]
#: Effects-table columns checked against R.
FIELDS = ["estimate", "std_error", "df", "statistic", "p_value", "conf_low", "conf_high"]

DESIGN = dict(
    immediate="immediate",
    delayed="delayed",
    baseline_wave="baseline",
    endpoint_wave="month3",
    followup_waves=("month6",),
)
