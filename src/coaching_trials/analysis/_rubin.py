"""Rubin's rules: pooling ``m`` completed-data analyses (Barnard-Rubin degrees of freedom).

:func:`pool_rubin` is public (``ct.pool_rubin``, re-exported by
:mod:`coaching_trials.analysis.imputation`); :func:`pool_arrays` is the batched arithmetic
behind it and behind the tipping-point curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from coaching_trials._errors import format_values
from coaching_trials._results import ResultMixin, format_table
from coaching_trials.analysis._common import (
    STAT_FIELDS,
    check_conf_level,
    t_interval,
    t_test,
)

_LAMBDA_FLOOR = 1e-4  # mice:::barnard.rubin floors lambda here before computing df


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype="float64")
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False, repr=False)
class PooledEstimates(ResultMixin):
    """Result of :func:`pool_rubin`: one pooled estimate per parameter.

    Attributes are floats when the estimates were a vector (one parameter), otherwise read-only
    arrays with one entry per parameter.

    Attributes
    ----------
    term : tuple of str
        Parameter names.
    estimate : float or numpy.ndarray
        Pooled estimate :math:`\\bar Q`, the mean of the per-imputation estimates.
    std_error : float or numpy.ndarray
        :math:`\\sqrt{T}`.
    df : float or numpy.ndarray
        Barnard-Rubin degrees of freedom when ``df_complete`` was given, else Rubin's (1987).
    statistic, p_value, conf_low, conf_high : float or numpy.ndarray
        ``estimate / std_error``, its two-sided p-value on ``df`` and the t interval.
    within, between, total : float or numpy.ndarray
        :math:`\\bar U` (mean within-imputation variance), :math:`B` (between-imputation
        variance) and :math:`T = \\bar U + (1 + 1/m) B`.
    riv : float or numpy.ndarray
        Relative increase in variance due to nonresponse, :math:`(1 + 1/m) B / \\bar U`.
    lambda_ : float or numpy.ndarray
        Proportion of the total variance due to missingness, :math:`(1 + 1/m) B / T`
        (column ``lambda`` in :meth:`to_frame`).
    fmi : float or numpy.ndarray
        Fraction of missing information, :math:`(r + 2/(\\nu + 3)) / (r + 1)`.
    m : int
        Number of imputations.
    df_complete : float
        Complete-data degrees of freedom (``inf`` when not given).
    conf_level : float
    """

    term: tuple[str, ...]
    estimate: Any
    std_error: Any
    df: Any
    statistic: Any
    p_value: Any
    conf_low: Any
    conf_high: Any
    within: Any
    between: Any
    total: Any
    riv: Any
    lambda_: Any
    fmi: Any
    m: int
    df_complete: float
    conf_level: float

    _title: ClassVar[str] = "Rubin's rules: pooled estimates"

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: ``term, estimate, std_error, df, statistic, p_value,
        conf_low, conf_high, riv, lambda, fmi, m, within, between, total``."""
        cols = {name: getattr(self, name) for name in STAT_FIELDS}
        cols.update({"riv": self.riv, "lambda": self.lambda_, "fmi": self.fmi})
        frame = pd.DataFrame({"term": pd.Series(list(self.term), dtype=object)})
        for name, value in cols.items():
            frame[name] = np.atleast_1d(np.asarray(value, dtype="float64"))
        frame["m"] = self.m
        for name in ("within", "between", "total"):
            frame[name] = np.atleast_1d(np.asarray(getattr(self, name), dtype="float64"))
        return frame

    def summary(self, digits: int = 3) -> str:
        return f"{self._title} (m = {self.m})\n{format_table(self.to_frame(), digits)}"


def _as_matrix(values: Any, name: str) -> tuple[np.ndarray, list[str] | None]:
    names = None
    if isinstance(values, pd.DataFrame):
        names = [str(c) for c in values.columns]
        values = values.to_numpy()
    elif isinstance(values, pd.Series):
        names = [str(values.name)] if values.name is not None else None
        values = values.to_numpy()
    try:
        arr = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be numeric (an array of shape (m,) or (m, p)).") from None
    if arr.ndim not in (1, 2):
        raise ValueError(f"`{name}` must have shape (m,) or (m, p); got shape {arr.shape}.")
    return arr, names


def _barnard_rubin(m: int, between: Any, total: Any, df_complete: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = (1.0 + 1.0 / m) * np.asarray(between) / np.asarray(total)
    lam = np.where(lam < _LAMBDA_FLOOR, _LAMBDA_FLOOR, lam)
    df_old = (m - 1) / lam**2
    if np.isinf(df_complete):
        return df_old
    df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
    return df_old * df_obs / (df_old + df_obs)


def pool_arrays(
    estimates: np.ndarray, variances: np.ndarray, df_complete: float, conf_level: float
) -> dict[str, Any]:
    """Rubin's rules along axis 0 (imputations); any further axes are parameters."""
    m = estimates.shape[0]
    qbar = estimates.mean(axis=0)
    ubar = variances.mean(axis=0)
    b = estimates.var(axis=0, ddof=1)
    t = ubar + (1.0 + 1.0 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        riv = (1.0 + 1.0 / m) * b / ubar
        lam = (1.0 + 1.0 / m) * b / t
        df = _barnard_rubin(m, b, t, df_complete)
        fmi = (riv + 2.0 / (df + 3.0)) / (riv + 1.0)
        se = np.sqrt(t)
    stat, p_value = t_test(qbar, se, df)
    low, high = t_interval(qbar, se, df, conf_level)
    return {
        "estimate": qbar,
        "std_error": se,
        "df": df,
        "statistic": stat,
        "p_value": p_value,
        "conf_low": low,
        "conf_high": high,
        "within": ubar,
        "between": b,
        "total": t,
        "riv": riv,
        "lambda_": lam,
        "fmi": fmi,
    }


def pool_rubin(
    estimates: Any,
    variances: Any,
    *,
    df_complete: float | None = None,
    terms: Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> PooledEstimates:
    r"""Combine the estimates of ``m`` imputed data sets with Rubin's rules.

    With per-imputation estimates :math:`Q_j` and their squared standard errors :math:`U_j`
    (:math:`j = 1, \dots, m`):

    .. math::
        \bar Q = \frac1m\sum_j Q_j,\quad \bar U = \frac1m\sum_j U_j,\quad
        B = \frac{1}{m-1}\sum_j (Q_j - \bar Q)^2,\quad T = \bar U + (1 + 1/m) B,

    :math:`r = (1 + 1/m) B / \bar U` (relative increase in variance),
    :math:`\lambda = (1 + 1/m) B / T`, Rubin's degrees of freedom
    :math:`\nu_{old} = (m - 1)/\lambda^2` and, given the complete-data degrees of freedom
    :math:`\nu_{com}`, the Barnard-Rubin (1999) adjusted degrees of freedom

    .. math:: \nu = \frac{\nu_{old}\,\nu_{obs}}{\nu_{old} + \nu_{obs}},\qquad
              \nu_{obs} = \frac{\nu_{com} + 1}{\nu_{com} + 3}\,\nu_{com}\,(1 - \lambda),

    and the fraction of missing information :math:`(r + 2/(\nu + 3)) / (r + 1)`. Inference
    uses :math:`t_\nu` with standard error :math:`\sqrt{T}`.

    Parameters
    ----------
    estimates : array-like, shape (m,) or (m, p)
        One row per imputation (a DataFrame's columns name the parameters).
    variances : array-like, same shape
        The squared standard errors of ``estimates``.
    df_complete : float, optional
        Complete-data degrees of freedom (``n - p`` for a linear model). ``None`` (or
        ``inf``) gives Rubin's (1987) large-sample degrees of freedom.
    terms : sequence of str, optional
        Parameter names (default: the DataFrame columns, else ``"Q1"``, ``"Q2"``, ...).
    conf_level : float
        Confidence level of the intervals.

    Returns
    -------
    PooledEstimates
        Floats for a vector of estimates, arrays for a matrix; ``to_frame()`` gives one row per
        parameter.

    Raises
    ------
    ValueError
        Shapes differ, fewer than 2 imputations, non-finite values, negative variances, or
        ``df_complete`` not positive.

    Notes
    -----
    As in ``mice`` (``pool``, ``pool.scalar``; van Buuren 2018, section 2.3), :math:`\lambda`
    is floored at ``1e-4`` inside the degrees-of-freedom formula only, so with no
    between-imputation variance :math:`\nu` is
    :math:`\nu_{obs}` (just below :math:`\nu_{com}`) rather than infinite. Validated against
    ``mice::pool.scalar`` and ``mice::pool`` (mice 3.15) to 1e-10
    (``tests/reference/imputation/``).

    References
    ----------
    Rubin DB. Multiple Imputation for Nonresponse in Surveys. Wiley; 1987.
    Barnard J, Rubin DB. Small-sample degrees of freedom with multiple imputation. Biometrika
    1999;86:948-55.

    Examples
    --------
    >>> from coaching_trials.analysis.imputation import pool_rubin
    >>> res = pool_rubin([1.0, 1.2, 0.9, 1.1, 1.3], [0.04, 0.05, 0.04, 0.05, 0.04],
    ...                  df_complete=96)
    >>> round(res.estimate, 3), round(res.std_error, 4), round(res.df, 2)
    (1.1, 0.272, 16.96)
    >>> round(res.fmi, 3)
    0.465
    """
    conf_level = check_conf_level(conf_level)
    q, q_names = _as_matrix(estimates, "estimates")
    u, _ = _as_matrix(variances, "variances")
    if q.shape != u.shape:
        raise ValueError(
            f"`estimates` and `variances` must have the same shape; got {q.shape} and {u.shape}."
        )
    if q.shape[0] < 2:
        raise ValueError(f"Rubin's rules need at least 2 imputations (rows); got {q.shape[0]}.")
    for arr, name in ((q, "estimates"), (u, "variances")):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(
                f"`{name}` must be finite; found {int(bad.sum())} non-finite value(s) in "
                f"imputation(s) {format_values(sorted(set(np.nonzero(bad)[0] + 1)))}."
            )
    if (u < 0).any():
        raise ValueError(
            f"`variances` must be non-negative; got {format_values(u[u < 0].tolist())}."
        )
    if df_complete is None:
        dfc = float("inf")
    elif isinstance(df_complete, bool) or not isinstance(df_complete, Real):
        raise TypeError(f"`df_complete` must be a positive number or None; got {df_complete!r}.")
    else:
        dfc = float(df_complete)
        if not dfc > 0:
            raise ValueError(f"`df_complete` must be positive; got {df_complete!r}.")
    vector = q.ndim == 1
    q2, u2 = (q[:, None], u[:, None]) if vector else (q, u)
    p = q2.shape[1]
    if terms is None:
        terms = q_names if q_names is not None and len(q_names) == p else None
    if terms is None:
        terms = [f"Q{i + 1}" for i in range(p)]
    terms = tuple(str(t) for t in terms)
    if len(terms) != p:
        raise ValueError(f"`terms` must name all {p} parameter(s); got {len(terms)}.")
    pooled = pool_arrays(q2, u2, dfc, conf_level)
    if vector:
        pooled = {k: float(v[0]) for k, v in pooled.items()}
    else:
        pooled = {k: _readonly(v) for k, v in pooled.items()}
    return PooledEstimates(
        term=terms, m=int(q.shape[0]), df_complete=dfc, conf_level=conf_level, **pooled
    )
