"""The tipping delta of a delta-adjusted analysis and its Monte Carlo uncertainty.

A tipping delta computed from ``m`` imputations is itself a random quantity: another seed gives
other imputations and another delta. Its Monte Carlo standard error (MC SE) is estimated here by
the jackknife over imputations (leave one imputation out, recompute the pooled analysis and the
tipping delta; ``SE = sqrt((m - 1) / m * sum (t_(i) - t_(.))^2)``), the estimator of Monte Carlo
error recommended for multiple-imputation results by White, Royston & Wood (Stat Med
2011;30:377-99, section 7.1). It shrinks like ``1 / sqrt(m)``. The same jackknife gives the MC
SE of every pooled p-value of the table.

Everything takes ``pooled_at(deltas, keep)``: the pooled result (a dict of arrays with at least
``"p_value"``) at the given deltas using only the imputations selected by ``keep``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize

PooledAt = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]


def grid_step(grid: np.ndarray) -> float:
    """Median spacing of the distinct deltas (NaN with fewer than two)."""
    values = np.unique(np.asarray(grid, dtype=float))
    return float(np.median(np.diff(values))) if values.size > 1 else float("nan")


def tipping_delta(pooled_at: PooledAt, keep: np.ndarray, grid: np.ndarray, alpha: float) -> float:
    """The delta closest to 0 at which the conclusion differs from the MAR conclusion.

    On each side of 0 the grid is walked outward from 0; the first change of significance is
    bracketed by two grid points and the root of ``p(delta) - alpha`` found by Brent's method.
    NaN when the conclusion never changes on the grid.
    """

    def p_at(d: np.ndarray) -> np.ndarray:
        return pooled_at(np.asarray(d, dtype=float), keep)["p_value"]

    mar_sig = bool(p_at(np.array([0.0]))[0] < alpha)
    tipping = float("nan")
    for sign in (1.0, -1.0):
        side = np.unique(np.abs(grid[np.sign(grid) == sign]))
        if not side.size:
            continue
        pts = sign * np.r_[0.0, side]
        sig = np.r_[mar_sig, p_at(pts[1:]) < alpha]
        flips = np.nonzero(sig != mar_sig)[0]
        if flips.size:
            lo, hi = pts[flips[0] - 1], pts[flips[0]]
            root = optimize.brentq(
                lambda d: float(p_at(np.array([d]))[0]) - alpha, lo, hi, xtol=1e-10
            )
            if np.isnan(tipping) or abs(root) < abs(tipping):
                tipping = float(root)
    return tipping


def jackknife_se(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Jackknife standard error from leave-one-out replicates along ``axis``."""
    values = np.asarray(values, dtype=float)
    m = values.shape[axis]
    centred = values - values.mean(axis=axis, keepdims=True)
    return np.sqrt((m - 1.0) / m * np.sum(centred**2, axis=axis))


def _leave_one_out(m: int) -> np.ndarray:
    return ~np.eye(m, dtype=bool)


def tipping_mcse(pooled_at: PooledAt, m: int, grid: np.ndarray, alpha: float) -> float:
    """Jackknife MC SE of :func:`tipping_delta` (NaN when a replicate has no tipping delta)."""
    reps = np.array([tipping_delta(pooled_at, keep, grid, alpha) for keep in _leave_one_out(m)])
    if not np.all(np.isfinite(reps)):
        return float("nan")
    return float(jackknife_se(reps))


def p_value_mcse(pooled_at: PooledAt, m: int, grid: np.ndarray) -> np.ndarray:
    """Jackknife MC SE of the pooled p-value at every delta of ``grid``."""
    reps = np.stack([pooled_at(grid, keep)["p_value"] for keep in _leave_one_out(m)])
    return jackknife_se(reps)
