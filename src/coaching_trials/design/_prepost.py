"""Small closed-form estimators used by the non-randomized trial analyses.

* :func:`paired_t` — the one-sample t on within-person differences (identical to R's
  ``t.test(post, pre, paired = TRUE)``).
* :func:`ols_slope` — the OLS slope of one regressor (optionally adjusting for others) with a
  t-based CI (identical to R's ``lm`` + ``confint``).
* :func:`ols_cluster` — the same coefficient with cluster-robust CR1 standard errors and
  ``G - 1`` df (identical to R's ``sandwich::vcovCL(type = "HC1")`` +
  ``lmtest::coeftest(df = G - 1)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from coaching_trials.analysis._common import t_interval, t_test

__all__ = ["paired_t", "ols_slope", "ols_cluster"]


def _t_row(estimate: float, se: float, df: float, conf_level: float) -> dict[str, float]:
    if not (np.isfinite(se) and se > 0 and df > 0):
        nan = float("nan")
        return dict(
            estimate=estimate,
            std_error=se,
            df=df,
            statistic=nan,
            p_value=nan,
            conf_low=nan,
            conf_high=nan,
        )
    statistic, p_value = t_test(estimate, se, df)
    low, high = t_interval(estimate, se, df, conf_level)
    return dict(
        estimate=float(estimate),
        std_error=float(se),
        df=float(df),
        statistic=float(statistic),
        p_value=float(p_value),
        conf_low=float(low),
        conf_high=float(high),
    )


def paired_t(diff: np.ndarray, *, conf_level: float = 0.95) -> dict[str, Any]:
    """Paired t on complete differences ``diff`` (NaN already removed).

    Returns the effects-table fields plus ``n``. Fewer than two differences give NaN statistics.
    """
    d = np.asarray(diff, dtype=float)
    n = d.size
    est = float(d.mean()) if n else float("nan")
    se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    row = _t_row(est, se, float(n - 1), conf_level)
    row["n"] = n
    return row


def ols_slope(
    y: np.ndarray, x: np.ndarray, others: np.ndarray | None = None, *, conf_level: float = 0.95
) -> dict[str, Any]:
    """OLS of ``y`` on an intercept, ``x`` (and ``others``); the coefficient of ``x``.

    Rows must be complete. Residual df = n - p. Returns effects-table fields plus ``n``.
    """
    y = np.asarray(y, dtype=float)
    cols = [np.ones_like(y), np.asarray(x, dtype=float)]
    if others is not None and np.size(others):
        o = np.asarray(others, dtype=float)
        cols += list(o.reshape(len(y), -1).T)
    design = np.column_stack(cols)
    n, p = design.shape
    if n <= p or np.linalg.matrix_rank(design) < p:
        row = _t_row(float("nan"), float("nan"), float(n - p), conf_level)
        row["n"] = n
        return row
    xtx_inv = np.linalg.inv(design.T @ design)
    beta = xtx_inv @ design.T @ y
    resid = y - design @ beta
    df = n - p
    sigma2 = float(resid @ resid) / df
    se = float(np.sqrt(sigma2 * xtx_inv[1, 1]))
    row = _t_row(float(beta[1]), se, float(df), conf_level)
    row["n"] = n
    return row


def ols_cluster(
    y: np.ndarray,
    x: np.ndarray,
    clusters: np.ndarray,
    others: np.ndarray | None = None,
    *,
    conf_level: float = 0.95,
) -> dict[str, Any]:
    """OLS coefficient of ``x`` with CR1 cluster-robust SE and ``G - 1`` df.

    CR1: ``G/(G-1) * (n-1)/(n-p) * (X'X)^-1 (sum_g X_g' e_g e_g' X_g) (X'X)^-1`` (Cameron &
    Miller 2015, eq. 11; R ``sandwich::vcovCL(fit, cluster = ~g, type = "HC1")``). Rows must be
    complete. Returns effects-table fields plus ``n`` and ``n_clusters``.
    """
    y = np.asarray(y, dtype=float)
    cols = [np.ones_like(y), np.asarray(x, dtype=float)]
    if others is not None and np.size(others):
        cols += list(np.asarray(others, dtype=float).reshape(len(y), -1).T)
    design = np.column_stack(cols)
    n, p = design.shape
    codes, uniques = pd.factorize(pd.Series(np.asarray(clusters, dtype=object)), sort=True)
    g = len(uniques)
    if n <= p or g < 2 or np.linalg.matrix_rank(design) < p:
        row = _t_row(float("nan"), float("nan"), float(g - 1), conf_level)
        row.update(n=n, n_clusters=g)
        return row
    xtx_inv = np.linalg.inv(design.T @ design)
    beta = xtx_inv @ design.T @ y
    resid = y - design @ beta
    scores = np.zeros((g, p))
    np.add.at(scores, codes, design * resid[:, None])
    meat = scores.T @ scores
    factor = g / (g - 1) * (n - 1) / (n - p)
    vcov = factor * xtx_inv @ meat @ xtx_inv
    row = _t_row(float(beta[1]), float(np.sqrt(vcov[1, 1])), float(g - 1), conf_level)
    row.update(n=n, n_clusters=g)
    return row
