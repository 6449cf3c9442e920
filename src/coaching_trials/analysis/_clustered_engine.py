"""The REML engine of :func:`coaching_trials.analysis.clustered.clustered_ancova`.

The covariance matrix is block diagonal, ``V_g = s2_e I + s2_u J`` for a group of size ``m``
(``s2_u = 0`` for a wait-list singleton), so every quantity (``V^-1``, ``log|V|``, traces and
the derivatives needed for the degrees of freedom) is computed in closed form per block from
block sums; no ``n x n`` matrix is formed. :func:`reml` fits the variance parameters,
:func:`df_and_vcov` gives Satterthwaite or Kenward-Roger degrees of freedom and
:func:`diagnose` the convergence and boundary checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from coaching_trials.analysis import _fit_checks

__all__ = ["BlockModel", "State", "df_and_vcov", "diagnose", "reml"]


@dataclass(frozen=True)
class State:
    """Everything the REML deviance and its derivatives need at one parameter value."""

    theta: np.ndarray
    alpha: np.ndarray  # 1 / a_g per block (a_g: residual variance of the block)
    lam: np.ndarray  # 1 / (a_g + m_g b_g): eigenvalue of V_g^-1 on the constant vector
    c: np.ndarray  # b_g / (a_g (a_g + m_g b_g)): V_g^-1 = alpha I - c J
    cov_beta: np.ndarray  # (X' V^-1 X)^-1
    beta: np.ndarray
    py: np.ndarray  # P y = V^-1 (y - X beta)
    q: np.ndarray  # V^-1 X
    deviance: float  # -2 REML log-likelihood


class BlockModel:
    """``y = X beta + e``, ``V = sum_k theta_k G_k`` block diagonal over clusters.

    Parameters (``kinds``): ``"u"`` the random-intercept variance (``G = J`` on the blocks with
    a random effect), ``"e"`` a common residual variance (``G = I``), ``"e1"``/``"e0"`` the
    residual variance of the treated/control arm (``G = I`` on that arm's rows). Blocks never
    span both arms.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        block: np.ndarray,
        has_u: np.ndarray,
        block_treated: np.ndarray,
        kinds: tuple[str, ...],
    ) -> None:
        self.x, self.y = x, y
        self.n, self.p = x.shape
        self.block = block
        n_blocks = has_u.size
        self.z = sparse.csr_array(
            (np.ones(self.n), (np.arange(self.n), block)), shape=(self.n, n_blocks)
        )
        self.m = np.bincount(block, minlength=n_blocks).astype("float64")
        self.has_u = has_u.astype("float64")
        self.kinds = kinds
        treated = block_treated.astype("float64")
        masks = {"u": self.has_u, "e": np.ones(n_blocks), "e1": treated, "e0": 1.0 - treated}
        self.block_mask = {k: masks[k] for k in kinds}
        self.row_mask = {k: masks[k][block] for k in kinds}

    # block sums and their broadcast back to rows
    def _bsum(self, mat: np.ndarray) -> np.ndarray:
        return np.asarray(self.z.T @ mat)

    def _apply_w(self, st: State, mat: np.ndarray) -> np.ndarray:
        sums = self._bsum(mat)
        return st.alpha[self.block][:, None] * mat - (st.c[:, None] * sums)[self.block]

    def _apply_g(self, kind: str, mat: np.ndarray) -> np.ndarray:
        if kind == "u":
            return (self.has_u[:, None] * self._bsum(mat))[self.block]
        return self.row_mask[kind][:, None] * mat

    def evaluate(self, theta: np.ndarray) -> State:
        a = sum(
            theta[k] * self.block_mask[kind] for k, kind in enumerate(self.kinds) if kind != "u"
        )
        b = np.zeros_like(a)
        if "u" in self.kinds:
            b = theta[self.kinds.index("u")] * self.has_u
        total = a + self.m * b
        alpha, lam, c = 1.0 / a, 1.0 / total, b / (a * total)
        logdet_v = float(np.sum((self.m - 1.0) * np.log(a) + np.log(total)))
        st = State(theta, alpha, lam, c, np.empty(0), np.empty(0), np.empty(0), np.empty(0), 0.0)
        wx = self._apply_w(st, self.x)
        xtwx = self.x.T @ wx
        sign, logdet_x = np.linalg.slogdet(xtwx)
        cov_beta = np.linalg.inv(xtwx)
        beta = cov_beta @ (wx.T @ self.y)
        resid = self.y - self.x @ beta
        py = self._apply_w(st, resid[:, None])[:, 0]
        deviance = (self.n - self.p) * np.log(2.0 * np.pi) + logdet_v + logdet_x + float(resid @ py)
        if sign <= 0:
            deviance = np.inf
        return State(theta, alpha, lam, c, cov_beta, beta, py, wx, float(deviance))

    def _trace_wg(self, st: State, kind: str) -> float:
        if kind == "u":
            return float(np.sum(self.has_u * self.m * st.lam))
        return float(np.sum(self.block_mask[kind] * ((self.m - 1.0) * st.alpha + st.lam)))

    def _trace_wgwg(self, st: State, k1: str, k2: str) -> float:
        m, lam, alpha = self.m, st.lam, st.alpha
        if k1 == "u" and k2 == "u":
            return float(np.sum(self.has_u * lam**2 * m**2))
        if "u" in (k1, k2):
            other = k2 if k1 == "u" else k1
            return float(np.sum(self.has_u * self.block_mask[other] * lam**2 * m))
        both = self.block_mask[k1] * self.block_mask[k2]
        return float(np.sum(both * ((m - 1.0) * alpha**2 + lam**2)))

    def derivatives(
        self, st: State
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Gradient, expected and observed Hessian of the deviance; KR pieces.

        Returns ``grad`` (K), ``expected`` (K x K, ``tr(P G_k P G_l)``), ``observed``
        (K x K), ``xgx`` (K x p x p, ``X' V^-1 G_k V^-1 X``) and ``xgwgx`` (K x K x p x p,
        ``X' V^-1 G_k V^-1 G_l V^-1 X``).
        """
        kinds = self.kinds
        n_par = len(kinds)
        cb = st.cov_beta
        gq = [self._apply_g(k, st.q) for k in kinds]
        wgq = [self._apply_w(st, g) for g in gq]
        xgx = np.stack([st.q.T @ g for g in gq])
        gpy = np.column_stack([self._apply_g(k, st.py[:, None])[:, 0] for k in kinds])
        wgpy = self._apply_w(st, gpy)
        qgpy = st.q.T @ gpy  # p x K
        grad = np.array(
            [
                self._trace_wg(st, k) - np.sum(cb * xgx[i]) - float(st.py @ gpy[:, i])
                for i, k in enumerate(kinds)
            ]
        )
        xgwgx = np.empty((n_par, n_par, self.p, self.p))
        expected = np.empty((n_par, n_par))
        quad = gpy.T @ wgpy - qgpy.T @ cb @ qgpy
        for i in range(n_par):
            for j in range(n_par):
                xgwgx[i, j] = gq[i].T @ wgq[j]
                expected[i, j] = (
                    self._trace_wgwg(st, kinds[i], kinds[j])
                    - 2.0 * np.sum(cb * xgwgx[i, j].T)
                    + np.sum((cb @ xgx[i]) * (cb @ xgx[j]).T)
                )
        observed = -expected + 2.0 * quad
        return grad, expected, 0.5 * (observed + observed.T), xgx, xgwgx


def _positive_definite(mat: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(mat)
    except np.linalg.LinAlgError:
        return False
    return True


def reml(model: BlockModel, theta0: np.ndarray) -> tuple[State, bool]:
    """Minimise the REML deviance by Newton steps (Fisher scoring where the Hessian is not
    positive definite) with step halving; the group variance is kept >= 0."""
    kinds = model.kinds
    iu = kinds.index("u")
    theta = theta0.astype("float64")
    st = model.evaluate(theta)
    scale = float(np.max(theta0))
    converged = False
    for _ in range(200):
        grad, expected, observed, _, _ = model.derivatives(st)
        free = np.ones(len(kinds), dtype=bool)
        if theta[iu] <= 0.0 and grad[iu] >= 0.0:
            free[iu] = False
        hess = observed[np.ix_(free, free)]
        if not _positive_definite(hess):
            hess = expected[np.ix_(free, free)]
        step = np.zeros_like(theta)
        step[free] = -np.linalg.solve(hess, grad[free])
        decrement = float(-grad[free] @ step[free])
        if decrement < 1e-20 * max(1.0, abs(st.deviance)):
            converged = True
            break
        t = 1.0
        accepted = False
        while t > 1e-12:
            cand = theta + t * step
            cand[iu] = max(cand[iu], 0.0)
            if np.all(np.delete(cand, iu) > 0):
                new = model.evaluate(cand)
                if new.deviance <= st.deviance + 1e-13 * abs(st.deviance):
                    accepted = True
                    break
            t /= 2.0
        if not accepted:
            converged = decrement < 1e-8
            break
        moved = float(np.max(np.abs(cand - theta))) / scale
        theta, st = cand, new
        if moved < 1e-13:
            converged = True
            break
    return st, converged


def df_and_vcov(
    model: BlockModel,
    st: State,
    lmat: np.ndarray,
    *,
    method: str,
    free: np.ndarray,
    information: str = "observed",
) -> tuple[np.ndarray, np.ndarray]:
    """Standard errors and df of the rows of ``lmat`` (Satterthwaite or Kenward-Roger).

    Satterthwaite (as lmerTest): ``df = 2 v^2 / (g' A g)``, ``v = L C L'``, ``g = dv/dtheta``,
    ``A = 2 H^-1`` with ``H`` the observed Hessian of the REML deviance. Kenward-Roger (one row
    at a time): the same formula and the adjusted covariance
    ``C + 2 C [sum_kl A_kl (Q_kl - P_k C P_l)] C``, with ``A`` from the observed information
    (``information="observed"``, SAS) or ``A = 2 E^-1`` from the expected information
    (``"expected"``, pbkrtest).
    Variance parameters on the boundary (``free`` False) are treated as known.
    """
    _, expected, observed, xgx, xgwgx = model.derivatives(st)
    cb = st.cov_beta
    idx = np.flatnonzero(free)
    info = expected if (method == "kenward_roger" and information == "expected") else observed
    sub = info[np.ix_(idx, idx)]
    acov = 2.0 * np.linalg.inv(sub) if _positive_definite(sub) else np.full(sub.shape, np.nan)
    var = np.einsum("ij,jk,ik->i", lmat, cb, lmat)
    lc = lmat @ cb
    grad = np.stack([np.einsum("ij,jk,ik->i", lc, xgx[k], lc) for k in idx], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = np.einsum("ij,jk,ik->i", grad, acov, grad)
        df = np.where(denom > 0, 2.0 * var**2 / denom, np.nan)
    if method == "kenward_roger":
        u = np.zeros_like(cb)
        for a, i in enumerate(idx):
            for b, j in enumerate(idx):
                u += acov[a, b] * (xgwgx[i, j] - xgx[i] @ cb @ xgx[j])
        adjusted = cb + 2.0 * cb @ u @ cb
        var = np.einsum("ij,jk,ik->i", lmat, adjusted, lmat)
    return np.sqrt(var), df


def diagnose(
    model: BlockModel,
    st: State,
    free: np.ndarray,
    optimiser_converged: bool,
    s2_ols: float,
    residual_labels: Sequence[str],
) -> _fit_checks.FitDiagnosis:
    """Convergence and boundary checks of the REML fit (see :mod:`._fit_checks`)."""
    _, _, observed, _, _ = model.derivatives(st)
    theta = st.theta
    idx = np.flatnonzero(free)
    finite = bool(np.all(np.isfinite(st.beta)) and np.all(np.isfinite(st.cov_beta)))
    return _fit_checks.diagnose(
        gradient_message=(
            None
            if optimiser_converged
            else "Newton steps on the REML deviance stopped before it stopped decreasing"
        ),
        hessian=observed[np.ix_(idx, idx)],
        hessian_scale=np.maximum(np.abs(theta[idx]), 1e-300),
        variance_ratios=[
            (name, float(v) / s2_ols) for name, v in zip(residual_labels, theta[1:], strict=True)
        ],
        estimates_finite=finite,
        advice=(
            "Use heteroscedastic=False (one residual variance), fewer covariates, or "
            "ancova(..., cluster=...) for cluster-robust standard errors"
        ),
    )


# ----------------------------------------------------------------------------- input checks
