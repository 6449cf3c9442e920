"""Numerical core of the MMRM: generalised least squares with a visit-indexed covariance.

Subjects are grouped by their *pattern* of observed visits; every pattern shares one
sub-matrix ``Sigma[S, S]``, so the (restricted) likelihood, its gradient and the
Satterthwaite / Kenward-Roger ingredients are computed with one batched numpy operation per
pattern, never with a loop over subjects.

Notation (Kenward & Roger 1997): ``V`` is the block-diagonal covariance of all observations,
``C = (X' V^-1 X)^-1``, ``P_j = -X' V^-1 dV_j V^-1 X``, ``Q_jk = X' V^-1 dV_j V^-1 dV_k V^-1 X``,
``R_jk = X' V^-1 d2V_jk V^-1 X``, ``W`` = asymptotic covariance of the covariance parameters
(inverse observed information of the REML or ML log-likelihood).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from ._mmrm_cov import CovarianceStructure

LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class Pattern:
    """The subjects observed at exactly the visits ``visits``, possibly in compressed form.

    ``yk``/``xk`` hold ``n`` rows (visit-major: ``yk`` is ``(k, n)``, ``xk`` is ``(k, n * p)``).
    Every quantity the engine computes is a sum over subjects of a bilinear form in
    ``(X_s, y_s)`` plus terms proportional to the number of subjects ``m``, so any ``n`` rows
    whose outer products sum to those of the ``m`` subjects give identical results. When
    ``m`` exceeds ``k (p + 1)`` the subjects are replaced by at most ``k (p + 1)`` rows that
    factor the cross-product matrix of their stacked ``[X_s, y_s]`` (the pattern's sufficient
    statistics in square-root form), so an evaluation costs
    ``O(#patterns x (k p)^2 k)`` whatever the number of subjects.
    """

    visits: np.ndarray  # (k,) visit indices observed
    m: int  # number of subjects with this pattern
    yk: np.ndarray  # (k, n) visit-major outcome rows
    xk: np.ndarray  # (k, n * p) visit-major design rows

    @property
    def k(self) -> int:
        return len(self.visits)

    @property
    def n(self) -> int:
        """Number of (possibly compressed) rows held."""
        return self.yk.shape[1]

    def x_rows(self) -> np.ndarray:
        """The held design rows as a ``(k * n, p)`` matrix (visit-major)."""
        return self.xk.reshape(self.k * self.n, -1)


@dataclass(frozen=True)
class Data:
    patterns: tuple[Pattern, ...]
    n_obs: int
    n_subjects: int
    n_visits: int
    p: int
    size_groups: tuple[
        tuple[int, np.ndarray, np.ndarray], ...
    ]  # (k, pattern ids, visit index stack)

    def stacked(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X*, y*)`` with ``X*'X* = X'X`` and ``X*'y* = X'y`` (all patterns' rows stacked)."""
        xs = np.vstack([pat.x_rows() for pat in self.patterns])
        ys = np.concatenate([pat.yk.reshape(-1) for pat in self.patterns])
        return xs, ys


def _compress(z: np.ndarray, k: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Subjects' stacked ``[X_s, y_s]`` rows ``(m, k, p + 1)`` -> rows with the same outer products.

    Patterns with at most ``k (p + 1)`` subjects are kept as they are. Larger ones are replaced
    by ``sqrt(D) V'`` from the eigendecomposition ``Z'Z = V D V'`` of their cross-product matrix,
    dropping eigenvalues at rounding level (below ``k (p + 1) eps max(D)``; an all-zero design
    column then stays zero to rounding, so rank checks on the rows still see it): the same sums
    of squares and products the per-subject loop would accumulate, by one matrix product.
    """
    m = z.shape[0]
    width = k * (p + 1)
    if m > width:
        flat = z.reshape(m, width)
        vals, vecs = np.linalg.eigh(flat.T @ flat)
        keep = vals > width * np.finfo(float).eps * max(float(vals[-1]), 0.0)
        z = (np.sqrt(vals[keep])[:, None] * vecs[:, keep].T).reshape(-1, k, p + 1)
    return z[:, :, :p], z[:, :, p]


def build_patterns(
    y: np.ndarray,
    x: np.ndarray,
    subject_code: np.ndarray,
    visit_code: np.ndarray,
    n_visits: int,
    *,
    compress: bool = True,
) -> Data:
    """Group observations by subject pattern of visits (vectorised; loops only over patterns).

    With ``compress`` (default) a pattern with many subjects is reduced to its sufficient
    statistics in square-root form (see :class:`Pattern`).
    """
    visit_code = visit_code.astype(np.int64)
    order = np.argsort(subject_code.astype(np.int64) * n_visits + visit_code, kind="stable")
    subj_sorted = subject_code[order]
    starts = np.flatnonzero(np.r_[True, subj_sorted[1:] != subj_sorted[:-1]])
    bits = np.left_shift(np.int64(1), visit_code[order])
    masks = np.add.reduceat(bits, starts)
    sizes = np.diff(np.r_[starts, len(order)])
    row_mask = np.repeat(masks, sizes)
    by_mask = np.argsort(row_mask, kind="stable")
    sorted_masks = row_mask[by_mask]
    cuts = np.flatnonzero(np.r_[True, sorted_masks[1:] != sorted_masks[:-1], True])
    p = x.shape[1]
    xy = np.column_stack([x, y])
    patterns = []
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        mask = int(sorted_masks[lo])
        visits = np.flatnonzero((mask >> np.arange(n_visits)) & 1)
        k = len(visits)
        z = xy[order[by_mask[lo:hi]]].reshape(-1, k, p + 1)
        m = z.shape[0]
        xs, ys = _compress(z, k, p) if compress else (z[:, :, :p], z[:, :, p])
        patterns.append(
            Pattern(
                visits=visits,
                m=m,
                yk=np.ascontiguousarray(ys.T),
                xk=np.ascontiguousarray(xs.transpose(1, 0, 2)).reshape(k, -1),
            )
        )
    ks = np.array([pat.k for pat in patterns])
    groups = []
    for k in np.unique(ks):
        ids = np.flatnonzero(ks == k)
        groups.append((int(k), ids, np.stack([patterns[i].visits for i in ids])))
    return Data(tuple(patterns), len(y), len(starts), n_visits, int(p), tuple(groups))


@dataclass
class Evaluation:
    """Everything computed at one value of ``Sigma``."""

    neg2ll: float
    beta: np.ndarray
    xtvx: np.ndarray
    cov_beta: np.ndarray
    grad_sigma: np.ndarray  # T x T matrix G with d(-2ll) = sum(G * dSigma)
    ok: bool


def pattern_inverses(data: Data, sigma: np.ndarray) -> tuple[list[np.ndarray], np.ndarray] | None:
    """Inverse of ``Sigma[S, S]`` and ``log|Sigma[S, S]|`` for every pattern (batched by size)."""
    inverses: list[np.ndarray] = [np.empty(0)] * len(data.patterns)
    logdets = np.empty(len(data.patterns))
    for _k, ids, idx in data.size_groups:
        sub = sigma[idx[:, :, None], idx[:, None, :]]
        try:
            chol = np.linalg.cholesky(sub)
        except np.linalg.LinAlgError:
            return None
        diag = np.diagonal(chol, axis1=1, axis2=2)
        if not np.all(diag > 0) or not np.all(np.isfinite(chol)):
            return None
        linv = np.linalg.inv(chol)
        inv = np.matmul(linv.transpose(0, 2, 1), linv)
        logdets[ids] = 2.0 * np.sum(np.log(diag), axis=1)
        for j, i in enumerate(ids):
            inverses[i] = inv[j]
    return inverses, logdets


def evaluate(data: Data, sigma: np.ndarray, *, reml: bool, need_grad: bool = True) -> Evaluation:
    """-2 log-likelihood (REML or ML, SAS constants) and its gradient with respect to ``Sigma``."""
    p = data.p
    bad = Evaluation(
        np.inf, np.full(p, np.nan), np.zeros((p, p)), np.zeros((p, p)), np.zeros_like(sigma), False
    )
    inv = pattern_inverses(data, sigma)
    if inv is None:
        return bad
    inverses, logdets = inv
    xtvx = np.zeros((p, p))
    xtvy = np.zeros(p)
    yvy = 0.0
    logdet = 0.0
    cache = []
    for pat, a, ld in zip(data.patterns, inverses, logdets, strict=True):
        m, k, n = pat.m, pat.k, pat.n
        logdet += m * ld
        axk = a @ pat.xk  # (k, n*p)
        ayk = a @ pat.yk  # (k, n)
        ax_rows = axk.reshape(k * n, p)
        xtvx += pat.xk.reshape(k * n, p).T @ ax_rows
        xtvy += ax_rows.T @ pat.yk.reshape(-1)
        yvy += float(np.sum(ayk * pat.yk))
        cache.append(axk)
    try:
        chol = np.linalg.cholesky(xtvx)
    except np.linalg.LinAlgError:
        return bad
    cinv = np.linalg.inv(chol)
    cov_beta = cinv.T @ cinv
    beta = cov_beta @ xtvy
    quad = yvy - float(beta @ xtvy)
    n = data.n_obs
    if reml:
        neg2ll = (n - p) * LOG_2PI + logdet + 2.0 * float(np.sum(np.log(np.diag(chol)))) + quad
    else:
        neg2ll = n * LOG_2PI + logdet + quad
    grad = np.zeros_like(sigma)
    if need_grad:
        for pat, a, axk in zip(data.patterns, inverses, cache, strict=True):
            m, k, n = pat.m, pat.k, pat.n
            r = pat.yk - (pat.xk.reshape(k * n, p) @ beta).reshape(k, n)
            ar = a @ r
            block = m * a - ar @ ar.T
            if reml:
                axc = (axk.reshape(k * n, p) @ cov_beta).reshape(k, n * p)
                block -= axc @ axk.T
            grad[np.ix_(pat.visits, pat.visits)] += block
    return Evaluation(neg2ll, beta, xtvx, cov_beta, grad, True)


def grad_eta(
    data: Data, structure: CovarianceStructure, eta: np.ndarray, *, reml: bool
) -> np.ndarray:
    sigma, d_sigma = structure.sigma_eta(eta)
    ev = evaluate(data, sigma, reml=reml)
    return np.einsum("ab,qab->q", ev.grad_sigma, d_sigma)


def hessian_eta_numeric(
    data: Data, structure: CovarianceStructure, eta: np.ndarray, *, reml: bool
) -> np.ndarray:
    """Observed Hessian by central differences of the analytic gradient (tests only)."""
    q = structure.n_params
    scale = structure.eta_scale(eta)
    hess = np.empty((q, q))
    for k in range(q):
        h = 1e-4 * scale[k]
        up = eta.copy()
        dn = eta.copy()
        up[k] += h
        dn[k] -= h
        hess[:, k] = (
            grad_eta(data, structure, up, reml=reml) - grad_eta(data, structure, dn, reml=reml)
        ) / (2.0 * h)
    return 0.5 * (hess + hess.T)


@dataclass(frozen=True)
class Derivatives:
    """-2 log-likelihood, its gradient and observed Hessian in ``eta``, and the ``P_j`` matrices."""

    evaluation: Evaluation
    gradient: np.ndarray  # (q,)
    hessian: np.ndarray  # (q, q)
    pmat: np.ndarray  # (q, p, p), P_j = -X' V^-1 dV_j V^-1 X
    expected: np.ndarray  # (q, q) expected information of -2 log-likelihood


def derivatives_eta(
    data: Data, structure: CovarianceStructure, eta: np.ndarray, *, reml: bool
) -> Derivatives:
    """Analytic gradient and observed Hessian of -2 log-likelihood with respect to ``eta``.

    With ``e = V^-1 (y - X beta)``, ``K = V^-1 X C X' V^-1`` and ``U_j = X' V^-1 dV_j e``:

    * REML: ``H_jk = -tr(V^-1 dV_j V^-1 dV_k) + 2 tr(K dV_j V^-1 dV_k) - tr(C P_j C P_k)
      + 2 (e' dV_j V^-1 dV_k e - U_j' C U_k) + tr((V^-1 - K) d2V_jk) - e' d2V_jk e``;
    * ML: the same without the two ``K``/``P`` terms and with ``tr(V^-1 d2V_jk)``.

    The expected information (the expectation of ``H``) is ``tr(P dV_j P dV_k)`` with
    ``P = V^-1 - K`` for REML, i.e. ``tr(V^-1 dV_j V^-1 dV_k) - 2 tr(K dV_j V^-1 dV_k)
    + tr(C P_j C P_k)``, and ``tr(V^-1 dV_j V^-1 dV_k)`` for ML.

    Every trace reduces to per-pattern ``k x k`` products because ``dV`` is block diagonal.
    """
    sigma, d_sigma = structure.sigma_eta(eta)
    ev = evaluate(data, sigma, reml=reml, need_grad=False)
    q, p = structure.n_params, data.p
    if not ev.ok:
        nan = np.full(q, np.nan)
        qq = np.full((q, q), np.nan)
        return Derivatives(ev, nan, qq, np.full((q, p, p), np.nan), qq)
    nonlinear = not structure.linear
    d2_sigma = structure.d2sigma_eta(eta) if nonlinear else None
    inverses, _ = pattern_inverses(data, sigma)  # type: ignore[misc]
    cov_beta, beta = ev.cov_beta, ev.beta
    t_a = np.zeros((q, q))
    t_n = np.zeros((q, q))
    t_e = np.zeros((q, q))
    u = np.zeros((q, p))
    pmat = np.zeros((q, p, p))
    d2_term = np.zeros((q, q))
    grad_sigma = np.zeros_like(sigma)
    for pat, a in zip(data.patterns, inverses, strict=True):
        m, k, n, v = pat.m, pat.k, pat.n, pat.visits
        ds = d_sigma[:, v][:, :, v]  # (q, k, k)
        axk = a @ pat.xk  # (k, n*p)
        ax_rows = axk.reshape(k * n, p)
        r = pat.yk - (pat.xk.reshape(k * n, p) @ beta).reshape(k, n)
        e = a @ r  # (k, n)
        emat = e @ e.T
        ds_a = ds @ a
        t_a += m * np.einsum("iab,jba->ij", ds_a, ds_a)
        t_e += np.einsum("iab,jba->ij", ds_a, ds @ emat)
        f = np.einsum("ksp,ls->klp", axk.reshape(k, n, p), e)  # sum_s (A X_s)[k, :] e_s[l]
        u += np.einsum("ikl,klp->ip", ds, f)
        g = (ds @ axk).reshape(q, k * n, p)
        pmat -= np.matmul(ax_rows.T[None, :, :], g)
        block = m * a - emat
        if reml:
            nmat = (ax_rows @ cov_beta).reshape(k, n * p) @ axk.T
            t_n += np.einsum("iab,jba->ij", ds_a, ds @ nmat)
            block = block - nmat
        grad_sigma[np.ix_(v, v)] += block
        if nonlinear:
            d2 = d2_sigma[:, :, v][:, :, :, v]
            d2_term += np.einsum("ijab,ba->ij", d2, block)
    gradient = np.einsum("ab,qab->q", grad_sigma, d_sigma)
    ucu = u @ cov_beta @ u.T
    hess = -t_a + 2.0 * (t_e - ucu) + d2_term
    expected = t_a.copy()
    if reml:
        cp = np.matmul(cov_beta[None, :, :], pmat)
        cpcp = np.einsum("iab,jba->ij", cp, cp)
        hess += 2.0 * t_n - cpcp
        expected += cpcp - 2.0 * t_n
    hess = 0.5 * (hess + hess.T)
    return Derivatives(ev, gradient, hess, pmat, 0.5 * (expected + expected.T))


@dataclass(frozen=True)
class OptimResult:
    eta: np.ndarray
    derivatives: Derivatives
    converged: bool
    iterations: int
    gradient_norm: float
    message: str


def optimise(
    data: Data,
    structure: CovarianceStructure,
    theta0: np.ndarray,
    *,
    reml: bool,
    maxiter: int,
    gtol: float,
) -> OptimResult:
    """Minimise -2 log-likelihood.

    Stage 1: L-BFGS-B over the unconstrained ``theta`` with the analytic gradient. Stage 2:
    Newton steps in the natural parameters ``eta`` with the analytic observed Hessian (step
    halving keeps ``Sigma`` positive definite and the objective from increasing). Convergence is
    judged on the gradient scaled by each parameter's magnitude (variance-like parameters by
    the mean variance, correlations by 1), i.e. on the relative scale of the parameters.
    """

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        sigma, d_sigma = structure.sigma_theta(theta)
        ev = evaluate(data, sigma, reml=reml)
        if not ev.ok or not np.isfinite(ev.neg2ll):
            return 1e300, np.zeros_like(theta)
        return ev.neg2ll, np.einsum("ab,qab->q", ev.grad_sigma, d_sigma)

    res = optimize.minimize(
        fun,
        theta0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": maxiter, "ftol": 1e-13, "gtol": 1e-7, "maxcor": 20},
    )
    iterations = int(res.nit)
    eta = structure.eta_from_theta(np.asarray(res.x, dtype=float))
    der = derivatives_eta(data, structure, eta, reml=reml)

    def scaled(d: Derivatives, at: np.ndarray) -> float:
        return float(np.max(np.abs(d.gradient * structure.eta_scale(at)))) if len(at) else 0.0

    for _ in range(50):
        if not np.all(np.isfinite(der.gradient)) or scaled(der, eta) < gtol * 1e-3:
            break
        try:
            step = -np.linalg.solve(der.hessian, der.gradient)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        value = der.evaluation.neg2ll
        t = 1.0
        accepted = False
        for _ in range(40):
            cand = eta + t * step
            cder = derivatives_eta(data, structure, cand, reml=reml)
            if cder.evaluation.ok and (
                cder.evaluation.neg2ll <= value - 1e-4 * t * abs(der.gradient @ step)
                or (
                    cder.evaluation.neg2ll <= value + 1e-10 * max(1.0, abs(value))
                    and scaled(cder, cand) < scaled(der, eta)
                )
            ):
                eta, der, accepted = cand, cder, True
                break
            t *= 0.5
        iterations += 1
        if not accepted:
            break
    gnorm = scaled(der, eta)
    converged = bool(der.evaluation.ok and np.isfinite(gnorm) and gnorm < gtol)
    if converged:
        message = f"converged: max scaled |gradient| {gnorm:.2g} < {gtol:g}"
    else:
        message = (
            f"not converged: max scaled |gradient| {gnorm:.3g} >= {gtol:g} "
            f"(L-BFGS-B: {res.message})"
        )
    return OptimResult(eta, der, converged, iterations, gnorm, message)


def covariance_parameter_vcov(
    structure: CovarianceStructure,
    eta: np.ndarray,
    derivatives: Derivatives,
    *,
    information: str = "observed",
) -> np.ndarray:
    """``W``: asymptotic covariance of ``eta``, ``2 H^-1`` with SAS's observed information.

    ``information="expected"`` gives ``2 E^-1`` with the expected information ``E`` instead
    (pbkrtest's choice); it does not depend on the parameterisation, so no profiling is needed.

    The observed Hessian is taken in SAS's profiled parameters ``psi`` (see
    :meth:`CovarianceStructure.profile_jacobian`), ``H_psi = J' H J + sum_k g_k d2eta_k``, and
    mapped back, ``W = J (2 H_psi^-1) J'``. At an exact optimum (``g = 0``) this equals
    ``2 H^-1``; away from it (e.g. at another program's less tightly converged estimates
    evaluated with ``control['fixed_covariance']``) the gradient term is what makes
    Satterthwaite / Kenward-Roger df agree with SAS for the profiled structures.
    """
    if information == "expected":
        return 2.0 * np.linalg.inv(derivatives.expected)
    jac, d2 = structure.profile_jacobian(eta)
    hess_psi = jac.T @ derivatives.hessian @ jac + np.einsum("k,kij->ij", derivatives.gradient, d2)
    return jac @ (2.0 * np.linalg.inv(0.5 * (hess_psi + hess_psi.T))) @ jac.T


def kr_qr(
    data: Data, structure: CovarianceStructure, eta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Kenward-Roger ``Q_jk`` and ``R_jk`` (each ``(q, q, p, p)``) at ``eta``."""
    sigma, d_sigma = structure.sigma_eta(eta)
    d2_sigma = None if structure.linear else structure.d2sigma_eta(eta)
    q, p = structure.n_params, data.p
    qmat = np.zeros((q, q, p, p))
    rmat = np.zeros((q, q, p, p))
    inverses, _ = pattern_inverses(data, sigma)  # type: ignore[misc]
    for pat, a in zip(data.patterns, inverses, strict=True):
        k, n, v = pat.k, pat.n, pat.visits
        ds = d_sigma[:, v][:, :, v]
        axk = a @ pat.xk
        g = (ds @ axk).reshape(q, k * n, p)  # dS_j A X
        ag = np.matmul(a[None, :, :], (ds @ axk)).reshape(q, k * n, p)  # A dS_j A X
        qmat += np.tensordot(g, ag, axes=([1], [1])).transpose(0, 2, 1, 3)
        if d2_sigma is not None:
            d2 = d2_sigma[:, :, v][:, :, :, v]
            h = (d2 @ axk).reshape(q, q, k * n, p)
            rmat += np.tensordot(axk.reshape(k * n, p), h, axes=([0], [2])).transpose(1, 2, 0, 3)
    return qmat, rmat


def kr_adjusted_cov(
    cov_beta: np.ndarray,
    w: np.ndarray,
    pmat: np.ndarray,
    qmat: np.ndarray,
    rmat: np.ndarray,
    *,
    linear: bool,
) -> np.ndarray:
    """Kenward-Roger adjusted covariance of the fixed effects.

    ``Phi_A = Phi + 2 Phi [sum_jk W_jk (Q_jk - P_j Phi P_k - R_jk / 4)] Phi``.
    """
    ppp = np.einsum("jpr,rs,ksq->jkpq", pmat, cov_beta, pmat)
    inner = qmat - ppp
    if not linear:
        inner = inner - 0.25 * rmat
    total = np.einsum("jk,jkpq->pq", w, inner)
    adj = cov_beta + 2.0 * cov_beta @ total @ cov_beta
    return 0.5 * (adj + adj.T)


def kr_df(
    cov_beta: np.ndarray, w: np.ndarray, pmat: np.ndarray, contrast: np.ndarray
) -> tuple[float, float]:
    """Kenward-Roger denominator df ``m`` and scale ``lambda`` for contrast rows ``L`` (l x p)."""
    lmat = np.atleast_2d(contrast)
    nl = lmat.shape[0]
    theta = lmat.T @ np.linalg.solve(lmat @ cov_beta @ lmat.T, lmat)
    mv = theta @ cov_beta
    mpv = np.einsum("ab,jbc,cd->jad", mv, pmat, cov_beta)  # (q, p, p)
    tr = np.einsum("jaa->j", mpv)
    a1 = float(tr @ w @ tr)
    a2 = float(np.einsum("jk,jab,kba->", w, mpv, mpv))
    b = (a1 + 6.0 * a2) / (2.0 * nl)
    g = ((nl + 1.0) * a1 - (nl + 4.0) * a2) / ((nl + 2.0) * a2)
    denom = 3.0 * nl + 2.0 * (1.0 - g)
    c1, c2, c3 = g / denom, (nl - g) / denom, (nl + 2.0 - g) / denom
    e_star = 1.0 / (1.0 - a2 / nl)
    v_star = 2.0 / nl * (1.0 + c1 * b) / ((1.0 - c2 * b) ** 2 * (1.0 - c3 * b))
    rho = v_star / (2.0 * e_star**2)
    m = 4.0 + (nl + 2.0) / (nl * rho - 1.0)
    lam = m / (e_star * (m - 2.0))
    return float(m), float(lam)


def satterthwaite_df(
    cov_beta: np.ndarray, w: np.ndarray, pmat: np.ndarray, contrasts: np.ndarray
) -> np.ndarray:
    """Satterthwaite df for each contrast row: ``2 v^2 / (g' W g)`` with ``g_j = -l' C P_j C l``."""
    lmat = np.atleast_2d(contrasts)
    cl = cov_beta @ lmat.T  # (p, c)
    var = np.einsum("pc,pc->c", lmat.T, cl)
    g = -np.einsum("pc,jpq,qc->cj", cl, pmat, cl)
    denom = np.einsum("cj,jk,ck->c", g, w, g)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 2.0 * var**2 / denom


@dataclass(frozen=True)
class FTest:
    """One Wald F test of ``L beta = 0`` (see :func:`f_test`)."""

    num_df: int
    den_df: float
    f_value: float
    p_value: float


def reduce_contrast(lmat: np.ndarray, cov_beta: np.ndarray, *, rtol: float = 1e-10) -> np.ndarray:
    """Rows ``U_r' L`` spanning the same hypothesis as ``L`` with ``U_r' L C L' U_r`` diagonal.

    ``L C L' = U D U'`` (spectral decomposition); the eigenvectors with eigenvalue above
    ``rtol * max(D)`` give ``r = rank(L C L')`` orthogonal rows whose variances are the
    eigenvalues (SAS: "``b_m`` is the m-th row of ``UL``"). Redundant rows of ``L`` drop out.
    """
    lcl = lmat @ cov_beta @ lmat.T
    vals, vecs = np.linalg.eigh(0.5 * (lcl + lcl.T))
    top = float(vals.max()) if vals.size else 0.0
    keep = vals > rtol * top if top > 0 else np.zeros(len(vals), dtype=bool)
    return vecs[:, keep].T @ lmat


def satterthwaite_f_df(
    cov_beta: np.ndarray, w: np.ndarray, pmat: np.ndarray, reduced: np.ndarray
) -> float:
    """Denominator df of a multi-row F test (Fai & Cornelius 1996, as in SAS PROC MIXED).

    ``reduced`` are the rows ``b_m`` of :func:`reduce_contrast` (orthogonal in ``C``). Each row
    gets its Satterthwaite df ``nu_m = 2 D_m^2 / (g_m' W g_m)``; with
    ``E = sum_{nu_m > 2} nu_m / (nu_m - 2)`` the df are ``2 E / (E - q)`` when ``E > q``, else
    0 (SAS's convention: no usable df). For one row this is ``nu_1``.
    """
    q = reduced.shape[0]
    nu = satterthwaite_df(cov_beta, w, pmat, reduced)
    if q == 1:
        return float(nu[0])
    use = np.isfinite(nu) & (nu > 2.0)
    e_sum = float(np.sum(nu[use] / (nu[use] - 2.0)))
    return 2.0 * e_sum / (e_sum - q) if e_sum > q else 0.0


def f_test(
    beta: np.ndarray,
    cov_beta: np.ndarray,
    cov_adjusted: np.ndarray,
    w: np.ndarray,
    pmat: np.ndarray,
    lmat: np.ndarray,
    *,
    df_method: str,
    residual_df: float,
) -> FTest:
    """Wald F test of ``L beta = 0`` with the denominator df of ``df_method``.

    * ``satterthwaite`` / ``residual``: ``F = (L b)' (L C L')^-1 (L b) / q`` with the model-based
      ``C``; den df :func:`satterthwaite_f_df` or ``n - p``.
    * Kenward-Roger: ``F = lambda (L b)' (L C_A L')^-1 (L b) / q`` with the adjusted ``C_A`` and
      den df ``m`` (:func:`kr_df`).

    ``L`` is first reduced to ``q = rank(L C L')`` independent rows (:func:`reduce_contrast`).
    """
    reduced = reduce_contrast(lmat, cov_beta)
    q = reduced.shape[0]
    est = reduced @ beta
    if df_method.startswith("kenward_roger"):
        m, lam = kr_df(cov_beta, w, pmat, reduced)
        vmat = reduced @ cov_adjusted @ reduced.T
        f_value = lam * float(est @ np.linalg.solve(vmat, est)) / q
        den = m
    else:
        vmat = reduced @ cov_beta @ reduced.T
        f_value = float(est @ np.linalg.solve(vmat, est)) / q
        if df_method == "satterthwaite":
            den = satterthwaite_f_df(cov_beta, w, pmat, reduced)
        else:
            den = float(residual_df)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = float(stats.f.sf(f_value, q, den)) if den > 0 else float("nan")
    return FTest(q, float(den), float(f_value), p_value)
