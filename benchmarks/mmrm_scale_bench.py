"""Benchmark: MMRM (unstructured covariance) fit time at 1,000 / 20,000 / 100,000 subjects.

Run from the repository root::

    python benchmarks/mmrm_scale_bench.py [--sizes 1000 20000 100000] [--repeat 3]
                                          [--r-max 5000]

Data: a two-arm trial with 4 waves, a baseline covariate and monotone dropout (geometric,
~15% per wave; every subject has the first wave), simulated with ``seed=1``. Model: ``y ~
arm * wave + baseline * wave``, unstructured covariance, REML, Satterthwaite df (ours) --
the model of ``ct.mmrm(..., baseline=)``.

R: ``nlme::gls(y ~ arm * wave + base * wave, correlation = corSymm(form = ~ t | subject),
weights = varIdent(form = ~ 1 | wave), method = "REML")`` on the same CSV, timed inside R with
``system.time`` (reading the CSV is not timed). ``gls`` grows faster than linearly in the number
of subjects; sizes above ``--r-max`` are skipped (R is then reported as "skipped" with the time
extrapolated from the largest R run, assuming linear growth, which understates it).

Timings are best-of-``repeat`` wall seconds after one warm-up fit; ``uptime``'s load average is
printed next to each timing because the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from coaching_trials.analysis.mmrm import mmrm

R_SCRIPT = r"""
suppressPackageStartupMessages(library(nlme))
d <- read.csv(commandArgs(TRUE)[1])
d$arm <- factor(d$arm, levels = c("control", "coach"))
d$wave <- factor(d$wave, levels = c("w1", "w2", "w3", "w4"))
d$t <- as.integer(d$wave)
tm <- system.time(
  fit <- gls(y ~ arm * wave + base * wave, data = d,
             correlation = corSymm(form = ~ t | subject),
             weights = varIdent(form = ~ 1 | wave), method = "REML")
)[["elapsed"]]
b <- coef(fit)
cat(sprintf("%.4f %.10f %.10f\n", tm, b[["armcoach:wavew4"]] + b[["armcoach"]], -2 * logLik(fit)))
"""


def simulate(n_subjects: int, seed: int = 1) -> pd.DataFrame:
    """Long data: 4 waves, two arms, baseline, monotone dropout."""
    rng = np.random.default_rng(seed)
    t = 4
    arm = rng.integers(0, 2, n_subjects)
    base = rng.normal(50.0, 10.0, n_subjects)
    chol = np.linalg.cholesky(0.5 * np.ones((t, t)) + 0.5 * np.eye(t)) * 8.0
    err = rng.normal(size=(n_subjects, t)) @ chol.T
    y = 20.0 + 0.6 * base[:, None] + np.arange(t) + arm[:, None] * 0.8 * np.arange(1, t + 1) + err
    n_obs = np.clip(rng.geometric(0.15, n_subjects), 1, t)
    subject = np.repeat(np.arange(n_subjects), t)
    wave_idx = np.tile(np.arange(t), n_subjects)
    keep = wave_idx < np.repeat(n_obs, t)
    frame = pd.DataFrame(
        {
            "subject": subject,
            "arm": np.repeat(np.where(arm == 1, "coach", "control"), t),
            "wave": np.array(["w1", "w2", "w3", "w4"])[wave_idx],
            "y": y.ravel(),
            "base": np.repeat(base, t),
        }
    )
    return frame[keep].reset_index(drop=True)


def load() -> str:
    return os.getloadavg().__repr__()


def ours(frame: pd.DataFrame):
    return mmrm(
        frame,
        outcome="y",
        arm="arm",
        wave="wave",
        subject="subject",
        treated="coach",
        baseline="base",
    )


def time_ours(frame: pd.DataFrame, repeat: int) -> tuple[float, object]:
    best, res = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        res = ours(frame)
        best = min(best, time.perf_counter() - start)
    return best, res


def time_r(frame: pd.DataFrame) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "d.csv"
        script = Path(tmp) / "fit.R"
        frame.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        out = subprocess.run(
            ["Rscript", str(script), str(csv)], capture_output=True, text=True, check=True
        )
    sec, est, neg2 = (float(v) for v in out.stdout.split())
    return sec, est, neg2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000, 100000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--r-max", type=int, default=5000, help="largest n to run in R")
    args = parser.parse_args()
    have_r = shutil.which("Rscript") is not None
    ours(simulate(200))  # warm-up: imports and first-call costs
    print(
        f"{'subjects':>9} {'rows':>8} {'ours s':>8} {'R gls s':>10} {'ratio':>7}  "
        "est(ours) est(R)  load(1,5,15 min)"
    )
    r_rate = None
    for n in args.sizes:
        frame = simulate(n)
        sec, res = time_ours(frame, args.repeat)
        load_ours = load()
        r_txt, ratio, r_est = "skipped", "", ""
        if have_r and n <= args.r_max:
            r_sec, r_est_v, _ = time_r(frame)
            r_rate = r_sec / n
            r_txt, ratio, r_est = f"{r_sec:.2f}", f"{r_sec / sec:.0f}x", f"{r_est_v:.5f}"
        elif r_rate is not None:
            r_txt = f"skip(~{r_rate * n:.0f}+)"
        print(
            f"{n:>9} {len(frame):>8} {sec:>8.3f} {r_txt:>10} {ratio:>7}  "
            f"{res.estimate:.5f} {r_est}  {load_ours}"
        )


if __name__ == "__main__":
    main()
