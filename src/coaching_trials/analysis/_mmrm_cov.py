"""Residual covariance structures for the MMRM engine.

Each structure describes the ``T x T`` within-subject covariance matrix ``Sigma`` over the
ordered visits in two parameterisations:

* ``theta`` -- unconstrained optimiser parameters (log variances, Fisher-z / logistic
  correlations, the log-diagonal Cholesky factor for the unstructured matrix), so that every
  ``theta`` gives a positive-definite ``Sigma``;
* ``eta`` -- the *natural* parameters that SAS PROC MIXED reports (covariance elements for UN,
  ``CS`` and ``Residual`` for compound symmetry, variance and lag-1 correlation for AR(1), the
  lag covariances for Toeplitz, visit variances and a correlation for ARH(1)/CSH).

Inference (Satterthwaite, Kenward-Roger) is computed in ``eta``. The observed information is
parameterisation-invariant at the optimum, but the second-derivative term of the Kenward-Roger
adjustment is not; working in SAS's own parameters is what makes the adjusted standard errors
comparable with SAS (``UN``, ``CS`` and ``TOEP`` are linear in ``eta``, so their second
derivatives vanish exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

__all__ = ["COVARIANCE_ALIASES", "CovarianceStructure", "make_structure"]

COVARIANCE_ALIASES: dict[str, str] = {
    "unstructured": "unstructured",
    "us": "unstructured",
    "un": "unstructured",
    "compound_symmetry": "compound_symmetry",
    "cs": "compound_symmetry",
    "ar1": "ar1",
    "toeplitz": "toeplitz",
    "toep": "toeplitz",
    "ar1h": "ar1h",
    "arh1": "ar1h",
    "csh": "csh",
}


def _lag_matrix(n_visits: int) -> np.ndarray:
    idx = np.arange(n_visits)
    return np.abs(idx[:, None] - idx[None, :])


def _powers(rho: float, lag: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rho**lag`` and its first and second derivatives in ``rho`` (safe at ``rho == 0``)."""
    p0 = rho**lag
    p1 = lag * rho ** np.maximum(lag - 1, 0)
    p2 = lag * (lag - 1) * rho ** np.maximum(lag - 2, 0)
    return p0, p1, p2


@dataclass(frozen=True)
class CovarianceStructure:
    """A covariance structure over ``n_visits`` ordered visits."""

    kind: str
    n_visits: int

    # ------------------------------------------------------------------ sizes and names
    @property
    def n_params(self) -> int:
        t = self.n_visits
        return {
            "unstructured": t * (t + 1) // 2,
            "compound_symmetry": 2 if t > 1 else 1,
            "ar1": 2 if t > 1 else 1,
            "toeplitz": t,
            "ar1h": t + 1 if t > 1 else 1,
            "csh": t + 1 if t > 1 else 1,
        }[self.kind]

    @property
    def linear(self) -> bool:
        """Whether ``Sigma`` is linear in ``eta`` (second derivatives vanish)."""
        return self.kind in ("unstructured", "compound_symmetry", "toeplitz") or self.n_visits == 1

    def _lower(self) -> tuple[np.ndarray, np.ndarray]:
        rows, cols = np.tril_indices(self.n_visits)
        order = np.lexsort((cols, rows))  # row-wise: (1,1), (2,1), (2,2), (3,1), ...
        return rows[order], cols[order]

    def param_names(self, labels: list[str]) -> list[dict[str, object]]:
        """One record per ``eta`` element: SAS name, meaning and the visits it belongs to."""
        t = self.n_visits
        if self.kind == "unstructured":
            rows, cols = self._lower()
            return [
                {
                    "parameter": f"UN({r + 1},{c + 1})",
                    "meaning": "variance" if r == c else "covariance",
                    "row_visit": labels[r],
                    "col_visit": labels[c],
                }
                for r, c in zip(rows, cols, strict=True)
            ]
        if t == 1:
            return [
                {
                    "parameter": "Residual",
                    "meaning": "variance",
                    "row_visit": None,
                    "col_visit": None,
                }
            ]
        if self.kind == "compound_symmetry":
            return [
                {
                    "parameter": "CS",
                    "meaning": "common covariance",
                    "row_visit": None,
                    "col_visit": None,
                },
                {
                    "parameter": "Residual",
                    "meaning": "within-visit variance added to the diagonal",
                    "row_visit": None,
                    "col_visit": None,
                },
            ]
        if self.kind == "ar1":
            return [
                {
                    "parameter": "Residual",
                    "meaning": "common variance",
                    "row_visit": None,
                    "col_visit": None,
                },
                {
                    "parameter": "AR(1)",
                    "meaning": "lag-1 correlation",
                    "row_visit": None,
                    "col_visit": None,
                },
            ]
        if self.kind == "toeplitz":
            out = [
                {
                    "parameter": "Residual",
                    "meaning": "common variance",
                    "row_visit": None,
                    "col_visit": None,
                }
            ]
            out += [
                {
                    "parameter": f"TOEP({k + 1})",
                    "meaning": f"covariance at lag {k}",
                    "row_visit": None,
                    "col_visit": None,
                }
                for k in range(1, t)
            ]
            return out
        out = [
            {
                "parameter": f"Var({k + 1})",
                "meaning": "variance",
                "row_visit": labels[k],
                "col_visit": labels[k],
            }
            for k in range(t)
        ]
        name = "ARH(1)" if self.kind == "ar1h" else "CSH"
        meaning = "lag-1 correlation" if self.kind == "ar1h" else "common correlation"
        out.append({"parameter": name, "meaning": meaning, "row_visit": None, "col_visit": None})
        return out

    # ------------------------------------------------------------------ natural parameters
    def sigma_eta(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``Sigma(eta)`` and ``dSigma/deta`` with shape ``(q, T, T)``."""
        t, q = self.n_visits, self.n_params
        eta = np.asarray(eta, dtype=float)
        d = np.zeros((q, t, t))
        if self.kind == "unstructured":
            rows, cols = self._lower()
            sigma = np.zeros((t, t))
            sigma[rows, cols] = eta
            sigma[cols, rows] = eta
            k = np.arange(q)
            d[k, rows, cols] = 1.0
            d[k, cols, rows] = 1.0
            return sigma, d
        if t == 1:
            return eta.reshape(1, 1).copy(), np.ones((1, 1, 1))
        eye = np.eye(t)
        lag = _lag_matrix(t)
        if self.kind == "compound_symmetry":
            cs, res = eta
            d[0] = 1.0
            d[1] = eye
            return cs + res * eye, d
        if self.kind == "ar1":
            s2, rho = eta
            p0, p1, _ = _powers(rho, lag)
            d[0] = p0
            d[1] = s2 * p1
            return s2 * p0, d
        if self.kind == "toeplitz":
            vals = np.asarray(eta)  # eta[0] variance, eta[k] lag-k covariance
            sigma = vals[lag]
            for k in range(t):
                d[k] = lag == k
            return sigma, d
        v = eta[:t]
        rho = eta[t]
        sd = np.sqrt(v)
        outer = sd[:, None] * sd[None, :]
        if self.kind == "ar1h":
            corr, dcorr, _ = _powers(rho, lag)
        else:  # csh
            corr = np.where(lag == 0, 1.0, rho)
            dcorr = (lag > 0).astype(float)
        sigma = outer * corr
        for k in range(t):
            e = np.zeros(t)
            e[k] = 1.0
            d[k] = sigma * (e[:, None] + e[None, :]) / (2.0 * v[k])
        d[t] = outer * dcorr
        return sigma, d

    def d2sigma_eta(self, eta: np.ndarray) -> np.ndarray:
        """Second derivatives ``d2 Sigma / deta_i deta_j`` with shape ``(q, q, T, T)``."""
        t, q = self.n_visits, self.n_params
        out = np.zeros((q, q, t, t))
        if self.linear:
            return out
        eta = np.asarray(eta, dtype=float)
        if self.kind == "ar1":
            s2, rho = eta
            _, p1, p2 = _powers(rho, _lag_matrix(t))
            out[0, 1] = out[1, 0] = p1
            out[1, 1] = s2 * p2
            return out
        # heterogeneous structures: central differences of the analytic first derivatives
        for k in range(q):
            h = 1e-5 * max(abs(eta[k]), 1e-3 if k == q - 1 else 1e-2)
            up = eta.copy()
            dn = eta.copy()
            up[k] += h
            dn[k] -= h
            out[k] = (self.sigma_eta(up)[1] - self.sigma_eta(dn)[1]) / (2.0 * h)
        return 0.5 * (out + out.transpose(1, 0, 2, 3))

    def eta_scale(self, eta: np.ndarray) -> np.ndarray:
        """A typical magnitude for each ``eta`` element (for finite-difference steps)."""
        sigma, _ = self.sigma_eta(eta)
        var_scale = float(np.mean(np.diag(sigma)))
        scale = np.full(self.n_params, var_scale)
        if self.kind in ("ar1", "ar1h", "csh") and self.n_visits > 1:
            scale[-1] = 1.0
        return scale

    def profile_jacobian(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Jacobian and second derivatives of ``eta`` in SAS's profiled parameters ``psi``.

        SAS PROC MIXED profiles the residual variance out of the likelihood for structures
        that have one ("Residual Variance Method: Profile"): for compound symmetry and
        Toeplitz it works with ``psi = (Residual, other / Residual)``, so ``eta_k = Residual *
        psi_k``; every other structure here is used unscaled (``psi = eta``). Returns
        ``J = d eta / d psi`` (``q x q``) and ``d2 eta_k / d psi_i d psi_j`` (``(q, q, q)``,
        indexed ``[k, i, j]``), both at ``eta``.
        """
        q = self.n_params
        eta = np.asarray(eta, dtype=float)
        jac = np.eye(q)
        d2 = np.zeros((q, q, q))
        if self.kind not in ("compound_symmetry", "toeplitz") or self.n_visits == 1:
            return jac, d2
        res = 1 if self.kind == "compound_symmetry" else 0  # index of "Residual" in eta
        for k in range(q):
            if k != res:
                jac[k, k] = eta[res]
                jac[k, res] = eta[k] / eta[res]
                d2[k, k, res] = d2[k, res, k] = 1.0
        return jac, d2

    # ------------------------------------------------------------------ optimiser parameters
    def _rho_bounds(self) -> float:
        return -1.0 / (self.n_visits - 1) if self.n_visits > 1 else -1.0

    def eta_from_theta(self, theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        t = self.n_visits
        if self.kind == "unstructured":
            lmat = self._chol_from_theta(theta)
            sigma = lmat @ lmat.T
            rows, cols = self._lower()
            return sigma[rows, cols]
        if t == 1:
            return np.exp(theta[:1])
        if self.kind == "compound_symmetry":
            s2 = np.exp(theta[0])
            lo = self._rho_bounds()
            rho = lo + (1.0 - lo) * expit(theta[1])
            return np.array([s2 * rho, s2 * (1.0 - rho)])
        if self.kind == "ar1":
            return np.array([np.exp(theta[0]), np.tanh(theta[1])])
        if self.kind == "toeplitz":
            s2 = np.exp(theta[0])
            acf = _pacf_to_acf(np.tanh(theta[1:]))
            return np.concatenate([[s2], s2 * acf])
        v = np.exp(theta[:t])
        if self.kind == "ar1h":
            rho = np.tanh(theta[t])
        else:
            lo = self._rho_bounds()
            rho = lo + (1.0 - lo) * expit(theta[t])
        return np.concatenate([v, [rho]])

    def theta_from_sigma(self, sigma: np.ndarray) -> np.ndarray:
        """Starting values: project a (positive-definite) moment estimate onto the structure."""
        t = self.n_visits
        sigma = np.asarray(sigma, dtype=float)
        var = np.clip(np.diag(sigma), 1e-8, None)
        sd = np.sqrt(var)
        corr = sigma / np.outer(sd, sd)
        if self.kind == "unstructured":
            lmat = np.linalg.cholesky(sigma)
            rows, cols = self._lower()
            theta = lmat[rows, cols].copy()
            diag = rows == cols
            theta[diag] = np.log(theta[diag])
            return theta
        if t == 1:
            return np.log(var[:1])
        lag = _lag_matrix(t)
        lo = self._rho_bounds()
        mean_corr = float(np.mean(corr[lag > 0]))
        lag1 = float(np.mean(corr[lag == 1]))
        if self.kind == "compound_symmetry":
            r = np.clip(mean_corr, lo + 0.05, 0.95)
            return np.array([np.log(var.mean()), logit((r - lo) / (1.0 - lo))])
        if self.kind == "ar1":
            return np.array([np.log(var.mean()), np.arctanh(np.clip(lag1, -0.9, 0.9))])
        if self.kind == "toeplitz":
            return np.concatenate([[np.log(var.mean())], np.zeros(t - 1)])
        if self.kind == "ar1h":
            return np.concatenate([np.log(var), [np.arctanh(np.clip(lag1, -0.9, 0.9))]])
        r = np.clip(mean_corr, lo + 0.05, 0.95)
        return np.concatenate([np.log(var), [logit((r - lo) / (1.0 - lo))]])

    def _chol_from_theta(self, theta: np.ndarray) -> np.ndarray:
        t = self.n_visits
        rows, cols = self._lower()
        vals = np.where(rows == cols, np.exp(theta), theta)
        lmat = np.zeros((t, t))
        lmat[rows, cols] = vals
        return lmat

    def sigma_theta(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``Sigma(theta)`` and ``dSigma/dtheta`` with shape ``(q, T, T)``."""
        theta = np.asarray(theta, dtype=float)
        if self.kind == "unstructured":
            t, q = self.n_visits, self.n_params
            lmat = self._chol_from_theta(theta)
            rows, cols = self._lower()
            dl = np.zeros((q, t, t))
            k = np.arange(q)
            dl[k, rows, cols] = np.where(rows == cols, lmat[rows, cols], 1.0)
            prod = dl @ lmat.T
            return lmat @ lmat.T, prod + prod.transpose(0, 2, 1)
        eta = self.eta_from_theta(theta)
        sigma, d_eta = self.sigma_eta(eta)
        jac = self._eta_jacobian(theta)  # (q_eta, q_theta)
        return sigma, np.einsum("eab,et->tab", d_eta, jac)

    def _eta_jacobian(self, theta: np.ndarray) -> np.ndarray:
        q = self.n_params
        jac = np.empty((q, q))
        for k in range(q):
            h = 1e-6 * max(1.0, abs(theta[k]))
            up = theta.copy()
            dn = theta.copy()
            up[k] += h
            dn[k] -= h
            jac[:, k] = (self.eta_from_theta(up) - self.eta_from_theta(dn)) / (2.0 * h)
        return jac


def _pacf_to_acf(pacf: np.ndarray) -> np.ndarray:
    """Autocorrelations (lags 1..K) from partial autocorrelations by the Durbin-Levinson recursion.

    Any partial autocorrelations in (-1, 1) give a positive-definite Toeplitz correlation matrix.
    """
    k_max = len(pacf)
    acf = np.zeros(k_max + 1)
    acf[0] = 1.0
    phi = np.zeros(0)
    for k in range(1, k_max + 1):
        pk = pacf[k - 1]
        if k == 1:
            acf[1] = pk
            phi = np.array([pk])
            continue
        prev = acf[1:k]  # r_1 .. r_{k-1}
        acf[k] = phi @ acf[k - 1 : 0 : -1] + pk * (1.0 - phi @ prev)
        phi = np.concatenate([phi - pk * phi[::-1], [pk]])
    return acf[1:]


def make_structure(kind: str, n_visits: int) -> CovarianceStructure:
    return CovarianceStructure(COVARIANCE_ALIASES[kind], n_visits)
