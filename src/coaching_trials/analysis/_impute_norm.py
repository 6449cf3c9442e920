"""Engine of :mod:`coaching_trials.analysis.imputation`: batched least squares, Bayesian linear
regression draws (``norm``) and chained equations for a baseline/outcome pair.

Everything works on stacks of problems so that the ``m`` imputations (and, for the tipping-point
analysis, every delta) are solved together with numpy instead of a Python loop over data sets.
Shapes: a design ``x`` is ``(n, p)`` (shared by every data set) or ``(m, n, p)``; a response
``y`` is ``(..., n)`` or ``(..., m, n)`` and broadcasts against the design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LeastSquares", "draw_norm", "draw_pmm", "impute_pair", "least_squares"]


@dataclass(frozen=True)
class LeastSquares:
    """Ordinary least squares for a stack of responses.

    Attributes
    ----------
    beta : numpy.ndarray
        Coefficients, shape ``(..., p)``.
    resid : numpy.ndarray
        Residuals, shape ``(..., n)``.
    rss : numpy.ndarray
        Residual sums of squares, shape ``(...)``.
    r_inv : numpy.ndarray
        Inverse of the triangular QR factor ``R`` of the design, ``(p, p)`` or ``(m, p, p)``;
        ``r_inv @ r_inv.T`` is ``(X'X)^{-1}``.
    df_resid : int
        ``n - p``.
    """

    beta: np.ndarray
    resid: np.ndarray
    rss: np.ndarray
    r_inv: np.ndarray
    df_resid: int

    @property
    def unscaled_diag(self) -> np.ndarray:
        """Diagonal of ``(X'X)^{-1}``, shape ``(p,)`` or ``(m, p)``."""
        return np.einsum("...ij,...ij->...i", self.r_inv, self.r_inv)


def least_squares(x: np.ndarray, y: np.ndarray) -> LeastSquares:
    """Solve ``y ~ x`` by QR for every response in the stack ``y``.

    The design is factorized once (or once per data set when it is a stack), so ``m`` fits with
    a shared design cost one QR plus a matrix product.
    """
    n, p = x.shape[-2:]
    q, r = np.linalg.qr(x)
    r_inv = np.linalg.inv(r)
    qty = np.einsum("...np,...n->...p", q, y)
    beta = np.einsum("...ij,...j->...i", r_inv, qty)
    resid = y - np.einsum("...np,...p->...n", x, beta)
    rss = np.einsum("...n,...n->...", resid, resid)
    return LeastSquares(beta=beta, resid=resid, rss=rss, r_inv=r_inv, df_resid=n - p)


def _posterior_draw(
    x_obs: np.ndarray, y_obs: np.ndarray, rng: np.random.Generator
) -> tuple[LeastSquares, np.ndarray, np.ndarray]:
    """The least-squares fit and one posterior draw ``(beta_*, sigma_*)`` per data set.

    ``sigma_*^2 = RSS / g`` with ``g ~ chi2(n_obs - p)`` and ``beta_* = beta_hat + sigma_* R^-1 z``
    (see :func:`draw_norm`); shared by :func:`draw_norm` and :func:`draw_pmm`.
    """
    m = y_obs.shape[0]
    fit = least_squares(x_obs, y_obs)
    p = fit.beta.shape[-1]
    sigma = np.sqrt(fit.rss / rng.chisquare(fit.df_resid, size=m))
    z = rng.standard_normal((m, p))
    beta_star = fit.beta + sigma[:, None] * np.einsum("...ij,...j->...i", fit.r_inv, z)
    return fit, beta_star, sigma


def draw_norm(
    x_obs: np.ndarray, y_obs: np.ndarray, x_mis: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    r"""Proper imputations from the Bayesian linear regression of ``y_obs`` on ``x_obs``.

    For each of the ``m`` data sets (leading axis of ``y_obs``), with the least-squares fit
    :math:`\hat\beta`, residual sum of squares ``RSS`` and ``nu = n_obs - p``:

    .. math:: \sigma_*^2 = \mathrm{RSS} / g,\quad g \sim \chi^2_{\nu};\qquad
              \beta_* = \hat\beta + \sigma_* R^{-1} z,\quad z \sim N(0, I_p);\qquad
              y_{mis} = X_{mis}\beta_* + \sigma_* \varepsilon,

    where :math:`R^{-1}R^{-\top} = (X_{obs}^\top X_{obs})^{-1}`: a draw of the parameters from
    their posterior under the non-informative prior :math:`p(\beta, \sigma^2) \propto
    \sigma^{-2}`, then of the missing values from the model (Rubin 1987, p. 167; the algorithm
    of ``mice.impute.norm``).

    Parameters
    ----------
    x_obs : numpy.ndarray
        ``(n_obs, p)`` or ``(m, n_obs, p)``.
    y_obs : numpy.ndarray
        ``(m, n_obs)``.
    x_mis : numpy.ndarray
        ``(n_mis, p)`` or ``(m, n_mis, p)``.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        Imputed values, ``(m, n_mis)``.
    """
    m = y_obs.shape[0]
    _, beta_star, sigma = _posterior_draw(x_obs, y_obs, rng)
    eps = rng.standard_normal((m, x_mis.shape[-2]))
    return np.einsum("...np,...p->...n", x_mis, beta_star) + sigma[:, None] * eps


def impute_pair(
    y: np.ndarray,
    b: np.ndarray,
    z: np.ndarray,
    *,
    m: int,
    iterations: int,
    rng: np.random.Generator,
    method: str = "norm",
) -> tuple[np.ndarray, np.ndarray]:
    """Impute a follow-up ``y`` and a baseline ``b`` (NaN = missing) given fixed predictors ``z``.

    ``method`` is ``"norm"`` (:func:`draw_norm`) or ``"pmm"`` (:func:`draw_pmm`, 5 donors).

    With ``b`` complete (or ``y`` complete) one Bayesian regression draw per data set is exact.
    When both have missing values, chained equations (fully conditional specification, as in
    ``mice``): start from random draws of the observed values, then ``iterations`` times impute
    ``b`` from ``(z, y)`` and ``y`` from ``(z, b)``, each time fitting on the rows where the
    variable itself is observed and using the current imputations of the other.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Completed ``y`` and ``b``, each ``(m, n)``.
    """
    draw = draw_pmm if method == "pmm" else draw_norm
    ry, rb = ~np.isnan(y), ~np.isnan(b)
    y_all = np.repeat(y[None, :], m, axis=0)
    b_all = np.repeat(b[None, :], m, axis=0)
    if rb.all() or ry.all():
        if not rb.all():  # y complete: one draw of b given (z, y)
            x = np.column_stack([z, y])
            b_all[:, ~rb] = draw(x[rb], b_all[:, rb], x[~rb], rng)
        if not ry.all():  # b complete: one draw of y given (z, b)
            x = np.column_stack([z, b])
            y_all[:, ~ry] = draw(x[ry], y_all[:, ry], x[~ry], rng)
        return y_all, b_all
    y_all[:, ~ry] = rng.choice(y[ry], size=(m, int((~ry).sum())))
    b_all[:, ~rb] = rng.choice(b[rb], size=(m, int((~rb).sum())))
    zs = np.broadcast_to(z, (m, *z.shape))
    for _ in range(iterations):
        x = np.concatenate([zs, y_all[:, :, None]], axis=2)
        b_all[:, ~rb] = draw(x[:, rb], b_all[:, rb], x[:, ~rb], rng)
        x = np.concatenate([zs, b_all[:, :, None]], axis=2)
        y_all[:, ~ry] = draw(x[:, ry], y_all[:, ry], x[:, ~ry], rng)
    return y_all, b_all


def draw_pmm(
    x_obs: np.ndarray,
    y_obs: np.ndarray,
    x_mis: np.ndarray,
    rng: np.random.Generator,
    *,
    donors: int = 5,
) -> np.ndarray:
    r"""Predictive mean matching: observed values of donors whose predictions are closest.

    For each of the ``m`` data sets the parameters are drawn as in :func:`draw_norm`
    (:math:`\beta_*`); the predicted means of the observed rows use the least-squares
    :math:`\hat\beta` and those of the missing rows :math:`\beta_*` ("type 1 matching", the
    default of ``mice.impute.pmm``). Each missing row then takes the observed value of one of
    the ``donors`` observed rows with the nearest predicted mean, chosen at random (van Buuren
    2018, Flexible Imputation of Missing Data, section 3.4). Imputed values are therefore always
    values that were observed.

    Parameters
    ----------
    x_obs, y_obs, x_mis, rng
        As in :func:`draw_norm`.
    donors : int
        Size of the donor pool (``mice``'s default 5).

    Returns
    -------
    numpy.ndarray
        Imputed values, ``(m, n_mis)``.
    """
    m = y_obs.shape[0]
    fit, beta_star, _ = _posterior_draw(x_obs, y_obs, rng)
    yhat_obs = np.broadcast_to(np.einsum("...np,...p->...n", x_obs, fit.beta), y_obs.shape)
    yhat_mis = np.einsum("...np,...p->...n", x_mis, beta_star)
    yhat_mis = np.broadcast_to(yhat_mis, (m, x_mis.shape[-2]))
    dist = np.abs(yhat_mis[:, :, None] - yhat_obs[:, None, :])  # (m, n_mis, n_obs)
    k = min(int(donors), y_obs.shape[1])
    nearest = np.argpartition(dist, k - 1, axis=2)[:, :, :k]
    pick = rng.integers(0, k, size=yhat_mis.shape)
    idx = np.take_along_axis(nearest, pick[:, :, None], axis=2)[:, :, 0]
    return np.take_along_axis(y_obs, idx, axis=1)
