"""The arithmetic of the reliability coefficients, batched over bootstrap resamples.

Pairwise moments with frequency weights (one row of weights per resample), alpha from a
covariance matrix, the Feldt interval, and the one-factor minimum-residual (minres) fit behind
omega, which matches ``psych::fa(fm = "minres")`` (see ``tests/reference/psych/``).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

# psych::fa bounds each uniqueness to [0.005, 1] (optim L-BFGS-B), i.e. communality <= 0.995
_MAX_COMMUNALITY = 0.995
_PAF_TOL = 1e-12
_PAF_MAX_ITER = 20_000
_PAF_WARMUP = 200
_GN_MAX_ITER = 200
# cells of the (resamples x respondents) weight matrix processed at once by the bootstrap
_BOOT_CHUNK_CELLS = 2_000_000


def _pairwise_moments(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariance and correlation matrices from pairwise-complete rows, for many weightings.

    ``weights`` is (B, n): frequency weights (1 for the observed sample, bootstrap counts for a
    resample). Returns ``cov`` and ``cor`` of shape (B, k, k). For a pair (i, j) both use only
    the rows where i and j are observed, with means (and, for ``cor``, standard deviations) taken
    over those rows -- R's ``cov/cor(use = "pairwise")``; without missing values this is the
    ordinary sample covariance / correlation. Entries with fewer than 2 rows are NaN.
    """
    n, k = values.shape
    observed = ~np.isnan(values)
    # centre by column means: shift-invariant, reduces cancellation in the one-pass sums
    centred = np.where(observed, values - np.nanmean(values, axis=0), 0.0)
    m = observed.astype(float)
    outer = lambda a, b: (a[:, :, None] * b[:, None, :]).reshape(n, k * k)  # noqa: E731
    w = np.asarray(weights, dtype=float)
    shape = (w.shape[0], k, k)
    count = (w @ outer(m, m)).reshape(shape)  # rows with i and j observed
    sum_x = (w @ outer(centred, m)).reshape(shape)  # sum of x_i over those rows
    sum_xx = (w @ outer(centred**2, m)).reshape(shape)  # sum of x_i^2 over those rows
    sum_xy = (w @ outer(centred, centred)).reshape(shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        sum_y = np.swapaxes(sum_x, 1, 2)
        cov = (sum_xy - sum_x * sum_y / count) / (count - 1)
        var_i = (sum_xx - sum_x**2 / count) / (count - 1)
        var_j = np.swapaxes(var_i, 1, 2)
        cor = cov / np.sqrt(var_i * var_j)
    cov = np.where(count >= 2, cov, np.nan)
    cor = np.where(count >= 2, cor, np.nan)
    idx = np.arange(k)
    cor[:, idx, idx] = np.where(np.isfinite(cor[:, idx, idx]), 1.0, np.nan)
    return cov, cor


def _alpha_from_cov(cov: np.ndarray) -> np.ndarray:
    """alpha = k / (k - 1) * (1 - trace(C) / sum(C)) for each matrix of a (..., k, k) stack."""
    k = cov.shape[-1]
    total = cov.sum(axis=(-2, -1))
    trace = np.trace(cov, axis1=-2, axis2=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return k / (k - 1) * (1.0 - trace / total)


def _feldt(estimate: float, n: int, k: int, conf_level: float) -> tuple[float, float]:
    """Feldt (1965) interval: 1 - (1 - alpha) F quantiles with df (n - 1, (n - 1)(k - 1))."""
    tail = (1.0 - conf_level) / 2.0
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1.0 - (1.0 - estimate) * stats.f.ppf(1.0 - tail, df1, df2)
    high = 1.0 - (1.0 - estimate) * stats.f.ppf(tail, df1, df2)
    return float(low), float(high)


# --------------------------------------------------------------------------------------------
# one-factor minres, batched
# --------------------------------------------------------------------------------------------
def _uls_gauss_newton(r: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Minimize sum_{i<j} (r_ij - l_i l_j)^2 over one-factor loadings, for a stack of matrices.

    Gauss-Newton with step halving, started from ``lam`` (A, k). The normal matrix is
    ``|l|^2 I + l l' - 2 diag(l^2)`` and the gradient term ``sum_j res_ij l_j``. Used only to
    speed up principal-axis iterations that converge slowly; the caller finishes with exact
    principal-axis steps.
    """
    k = r.shape[-1]
    idx = np.arange(k)
    r0 = r.copy()
    r0[:, idx, idx] = 0.0
    eye = np.eye(k)

    def residual(target: np.ndarray, lmb: np.ndarray) -> np.ndarray:
        res = target - lmb[:, :, None] * lmb[:, None, :]
        res[:, idx, idx] = 0.0
        return res

    def loss(target: np.ndarray, lmb: np.ndarray) -> np.ndarray:
        return (residual(target, lmb) ** 2).sum(axis=(1, 2))

    lam = lam.copy()
    active = np.arange(lam.shape[0])
    for _ in range(_GN_MAX_ITER):
        cur = lam[active]
        target = r0[active]
        res = residual(target, cur)
        grad = np.einsum("bij,bj->bi", res, cur)
        sq = (cur**2).sum(axis=1)
        normal = sq[:, None, None] * eye + cur[:, :, None] * cur[:, None, :]
        normal[:, idx, idx] -= 2.0 * cur**2
        step = np.einsum("bij,bj->bi", np.linalg.pinv(normal, hermitian=True), grad)
        before = loss(target, cur)
        accepted = np.zeros(active.size, dtype=bool)
        new = cur.copy()
        scale = 1.0
        for _ in range(30):
            trial = cur + scale * step
            better = ~accepted & (loss(target, trial) <= before)
            new[better] = trial[better]
            accepted |= better
            if accepted.all():
                break
            scale /= 2.0
        moved = np.abs(new - cur).max(axis=1)
        lam[active] = new
        active = active[accepted & (moved >= _PAF_TOL)]
        if active.size == 0:
            break
    return lam


def _one_factor_minres(cor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-factor minimum-residual (unweighted least squares) loadings for a stack of matrices.

    Iterated principal-axis factoring: communalities start at the squared multiple
    correlations; the leading eigenvector of the reduced matrix ``R - I + diag(h2)``, scaled by
    the root of its eigenvalue, gives the loadings; then ``h2 = loading^2`` (bounded to
    [0, 0.995] like psych's uniquenesses in [0.005, 1]), until the communalities change by less
    than 1e-12. The fixed point is where the gradient used by ``psych::fa(fm = "minres")``
    vanishes, i.e. the minimizer of the off-diagonal residual sum of squares.

    For speed the leading eigenvector is first tracked by one power-iteration step per update
    (warm-started, all matrices at once, at most 200 updates); matrices still moving then get
    Gauss-Newton steps on the least-squares criterion itself. A final phase with exact
    eigendecompositions (``numpy.linalg.eigh``) runs from that point until the tolerance is
    met, so the result is the exact principal-axis fixed point.

    Returns ``loadings`` (B, k) signed so that they sum to >= 0 (NaN for a matrix with missing
    entries) and ``converged`` (B,) booleans.
    """
    b, k, _ = cor.shape
    loadings = np.full((b, k), np.nan)
    converged = np.zeros(b, dtype=bool)
    ok = np.isfinite(cor).all(axis=(1, 2))
    if not ok.any():
        return loadings, converged
    r = cor[ok]
    m = r.shape[0]
    idx = np.arange(k)
    with np.errstate(divide="ignore", invalid="ignore"):
        smc = 1.0 - 1.0 / np.diagonal(np.linalg.pinv(r, hermitian=True), axis1=1, axis2=2)
    h2 = np.clip(np.nan_to_num(smc, nan=0.5), 0.0, _MAX_COMMUNALITY)

    def reduced(rows: np.ndarray) -> np.ndarray:
        out = r[rows].copy()
        out[:, idx, idx] = h2[rows]
        return out

    # phase 1: power-iteration principal axis (cheap matrix-vector products)
    evals, evecs = np.linalg.eigh(reduced(np.arange(m)))
    vec = evecs[:, :, -1]
    value = np.maximum(evals[:, -1], 0.0)
    active = np.arange(m)
    for _ in range(_PAF_WARMUP):
        prod = np.einsum("bij,bj->bi", reduced(active), vec[active])
        norm = np.linalg.norm(prod, axis=1)
        new_value = np.einsum("bi,bi->b", prod, vec[active])
        with np.errstate(divide="ignore", invalid="ignore"):
            new_vec = prod / norm[:, None]
        bad = ~np.isfinite(new_vec).all(axis=1) | (new_value <= 0)
        new_vec[bad] = vec[active][bad]
        new_value[bad] = value[active][bad]
        new_h2 = np.clip(new_vec**2 * new_value[:, None], 0.0, _MAX_COMMUNALITY)
        change = np.maximum(
            np.abs(new_h2 - h2[active]).max(axis=1), np.abs(new_vec - vec[active]).max(axis=1)
        )
        vec[active] = new_vec
        value[active] = new_value
        h2[active] = new_h2
        active = active[(change >= _PAF_TOL) & ~bad]
        if active.size == 0:
            break

    # phase 1b: Gauss-Newton on the loadings for slowly converging matrices
    if active.size:
        lam0 = vec[active] * np.sqrt(value[active])[:, None]
        lam0 = _uls_gauss_newton(r[active], lam0)
        h2[active] = np.clip(np.nan_to_num(lam0**2, nan=0.5), 0.0, _MAX_COMMUNALITY)

    # phase 2: exact eigendecompositions from there (usually one or two steps)
    lam = np.zeros((m, k))
    done = np.zeros(m, dtype=bool)
    active = np.arange(m)
    for _ in range(_PAF_MAX_ITER):
        evals, evecs = np.linalg.eigh(reduced(active))
        new_lam = evecs[:, :, -1] * np.sqrt(np.maximum(evals[:, -1], 0.0))[:, None]
        new_h2 = np.clip(new_lam**2, 0.0, _MAX_COMMUNALITY)
        change = np.abs(new_h2 - h2[active]).max(axis=1)
        lam[active] = new_lam
        h2[active] = new_h2
        finished = change < _PAF_TOL
        done[active[finished]] = True
        active = active[~finished]
        if active.size == 0:
            break
    flip = lam.sum(axis=1) < 0
    lam[flip] *= -1.0
    loadings[ok] = lam
    converged[ok] = done
    return loadings, converged


def _omega_from_cor(cor: np.ndarray, denominator: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    loadings, converged = _one_factor_minres(cor)
    uniq = 1.0 - loadings**2
    if denominator == "observed":
        total = cor.sum(axis=(1, 2))
        omega = (total - uniq.sum(axis=1)) / total
    else:
        common = loadings.sum(axis=1) ** 2
        omega = common / (common + uniq.sum(axis=1))
    return omega, loadings, converged


def _bootstrap_weights(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """Frequency weights of ``n_boot`` ordinary bootstrap resamples of ``n`` rows: (n_boot, n)."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
