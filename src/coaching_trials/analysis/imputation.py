"""Missing data: multiple imputation, Rubin's rules and a delta-adjusted tipping-point analysis.

Three public functions:

- :func:`pool_rubin` combines per-imputation estimates and variances with Rubin's rules and the
  Barnard-Rubin small-sample degrees of freedom, exactly as R ``mice::pool`` does.
- :func:`multiple_imputation` imputes a missing follow-up score (and a missing baseline) under
  missing at random with Bayesian linear regression (``norm``), fits the baseline-adjusted
  ANCOVA of :func:`coaching_trials.ancova` to every completed data set in one batched least-squares
  solve, and pools.
- :func:`tipping_point` shifts the imputed follow-up values by ``delta`` (missing not at random)
  and finds the shift at which the conclusion of the trial changes.

Never impute by carrying the last observation forward (White et al., BMJ 2011;342:d40).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from coaching_trials._audit import audit_frame
from coaching_trials._errors import DataValidationError, format_values, one_of
from coaching_trials._results import ResultMixin, effects_frame, format_table
from coaching_trials.analysis import _tipping
from coaching_trials.analysis._common import (
    STAT_FIELDS,
    arm_contrast,
    check_conf_level,
    check_frame,
    covariate_levels,
    headline_row,
    label,
    numeric_values,
    prepare_two_arm,
    t_interval,
    t_test,
)
from coaching_trials.analysis._impute_norm import impute_pair, least_squares

__all__ = [
    "MultipleImputationResult",
    "PooledEstimates",
    "TippingPointResult",
    "multiple_imputation",
    "pool_rubin",
    "tipping_point",
]

_METHODS = ("norm", "pmm")
_ANALYSES = ("ancova",)
_DELTA_ARMS = ("treated", "control", "both")
_LAMBDA_FLOOR = 1e-4  # mice:::barnard.rubin floors lambda here before computing df


# --------------------------------------------------------------------------- Rubin's rules
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


def _pool_arrays(
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
    pooled = _pool_arrays(q2, u2, dfc, conf_level)
    if vector:
        pooled = {k: float(v[0]) for k, v in pooled.items()}
    else:
        pooled = {k: _readonly(v) for k, v in pooled.items()}
    return PooledEstimates(
        term=terms, m=int(q.shape[0]), df_complete=dfc, conf_level=conf_level, **pooled
    )


# --------------------------------------------------------------------------- the data
@dataclass(frozen=True)
class _Prepared:
    index: pd.Index  # labels of the analysed rows in `data`
    positions: np.ndarray  # their positions
    treat: np.ndarray  # 1.0 treated, 0.0 control
    y: np.ndarray  # follow-up, NaN when missing
    b: np.ndarray  # baseline, NaN when missing
    z: np.ndarray  # covariate design (n, k), no intercept
    z_names: list[str]
    treated: Any
    control: Any
    audit_entries: list[dict]


def _covariate_design(values: pd.DataFrame, covariates: Sequence[str]) -> tuple[np.ndarray, list]:
    """Covariate columns coded as in :func:`coaching_trials.ancova` (dummies vs first level)."""
    blocks: list[np.ndarray] = [np.empty((len(values), 0))]
    names: list[str] = []
    for cov in covariates:
        col = values[cov]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            blocks.append(col.to_numpy(dtype="float64")[:, None])
            names.append(cov)
            continue
        levels = covariate_levels(col)
        for lv in levels[1:]:
            blocks.append((col == lv).to_numpy(dtype="float64")[:, None])
            names.append(f"{cov}[{lv}]")
    return np.hstack(blocks), names


def _prepare(
    data: Any, *, outcome: str, baseline: str, arm: str, treated: Any, covariates: tuple[str, ...]
) -> _Prepared:
    check_frame(data, [outcome, baseline, arm, *covariates])
    if outcome == baseline:
        raise ValueError(f"`outcome` and `baseline` must be different columns; got {outcome!r}.")
    clash = {arm, outcome, baseline} & set(covariates)
    if clash:
        raise ValueError(
            "`covariates` must not repeat the outcome, arm or baseline column; "
            f"got {sorted(clash)}."
        )
    y_all = numeric_values(data, outcome, "outcome")
    b_all = numeric_values(data, baseline, "baseline")
    variables = []
    for cov in covariates:
        col = data[cov]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        variables.append((cov, "covariate", numeric))
    sample = prepare_two_arm(
        data, arm=arm, treated=treated, variables=variables, step="multiple_imputation"
    )
    # positions of the kept rows (prepare_two_arm keeps rows with the arm and every covariate)
    keep = data[arm].notna().to_numpy() & data[list(covariates)].notna().all(axis=1).to_numpy()
    positions = np.flatnonzero(keep)
    z, z_names = _covariate_design(sample.values, covariates)
    entries = sample.audit.to_dict("records")
    no_arm = data[arm].isna().to_numpy()
    if no_arm.any() and not any(e["reason"] == f"missing arm '{arm}'" for e in entries):
        entries.insert(  # prepare_two_arm drops these rows without an audit line
            0,
            {
                "step": "multiple_imputation",
                "reason": f"missing arm '{arm}'",
                "n_rows": int(no_arm.sum()),
                "detail": f"rows {format_values(list(data.index[no_arm]))}",
            },
        )
    return _Prepared(
        index=data.index[positions],
        positions=positions,
        treat=sample.treat,
        y=y_all.to_numpy(dtype="float64")[positions],
        b=b_all.to_numpy(dtype="float64")[positions],
        z=z,
        z_names=z_names,
        treated=sample.treated,
        control=sample.control,
        audit_entries=entries,
    )


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"`{name}` must be an integer >= {minimum}; got {value!r}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; got {value!r}.")
    return int(value)


# --------------------------------------------------------------------------- imputation
def _group_predictors(z: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Intercept plus the columns of ``z`` that vary within ``rows`` (constant ones carry no
    information inside an arm, e.g. the dummy of a level absent from that arm)."""
    zg = z[rows]
    varying = (zg.max(axis=0) > zg.min(axis=0)) if zg.shape[0] else np.zeros(z.shape[1], bool)
    return np.column_stack([np.ones(int(rows.sum())), zg[:, varying]])


def _check_fit(
    x: np.ndarray, observed: np.ndarray, role: str, column: str, group: str, names: str
) -> None:
    n_obs, p = int(observed.sum()), x.shape[1] + 1  # + the other variable of the pair
    if n_obs < p + 1:
        raise DataValidationError(
            f"multiple_imputation: the imputation model for {role} '{column}' {group} has "
            f"{p} parameters ({names}) but only {n_obs} observed value(s); it needs at least "
            f"{p + 1}. Use fewer covariates or `by_arm=False`.",
            pd.DataFrame(
                {
                    "check": ["too_few_observed"],
                    "column": [column],
                    "rows": [[]],
                    "values": [[n_obs]],
                    "expected": [f">= {p + 1} observed values"],
                    "n": [n_obs],
                }
            ),
        )
    if np.linalg.matrix_rank(x[observed]) < x.shape[1]:
        raise ValueError(
            f"multiple_imputation: the imputation model for {role} '{column}' {group} is not of "
            f"full rank on the rows where it is observed (predictors: {names}); a covariate is "
            "constant or collinear there. Drop it or use `by_arm=False`."
        )


def _impute(
    prep: _Prepared,
    *,
    outcome: str,
    baseline: str,
    m: int,
    by_arm: bool,
    iterations: int,
    rng: np.random.Generator,
    method: str = "norm",
) -> tuple[np.ndarray, np.ndarray]:
    """Completed follow-up and baseline, each ``(m, n)``."""
    n = prep.treat.size
    y_out = np.empty((m, n))
    b_out = np.empty((m, n))
    if by_arm:
        groups = [
            (prep.treat == 1.0, f"in arm '{label(prep.treated)}'"),
            (prep.treat == 0.0, f"in arm '{label(prep.control)}'"),
        ]
    else:
        groups = [(np.ones(n, dtype=bool), "(arm as predictor)")]
    for rows, where in groups:
        if by_arm:
            x = _group_predictors(prep.z, rows)
            names = ", ".join(["intercept", "covariates"] if x.shape[1] > 1 else ["intercept"])
        else:
            x = np.column_stack([np.ones(n), prep.treat, prep.z])
            names = "intercept, arm" + (", covariates" if prep.z.shape[1] else "")
        y, b = prep.y[rows], prep.b[rows]
        ry, rb = ~np.isnan(y), ~np.isnan(b)
        if not ry.all():
            _check_fit(x, ry, "outcome", outcome, where, names + ", baseline")
        if not rb.all():
            _check_fit(x, rb, "baseline", baseline, where, names + ", outcome")
        y_out[:, rows], b_out[:, rows] = impute_pair(
            y, b, x, m=m, iterations=iterations, rng=rng, method=method
        )
    return y_out, b_out


# --------------------------------------------------------------------------- analysis
def _ancova_design(prep: _Prepared, b: np.ndarray) -> np.ndarray:
    """Design ``[1, arm, baseline, covariates]``: ``(n, p)`` for a shared baseline ``b`` of shape
    ``(n,)``, ``(m, n, p)`` when ``b`` is ``(m, n)`` (imputed baselines)."""
    n = prep.treat.size
    if b.ndim == 1:
        x = np.column_stack([np.ones(n), prep.treat, b, prep.z])
    else:
        m = b.shape[0]
        fixed = np.broadcast_to(np.column_stack([np.ones(n), prep.treat]), (m, n, 2))
        zs = np.broadcast_to(prep.z, (m, *prep.z.shape))
        x = np.concatenate([fixed, b[:, :, None], zs], axis=2)
    p = x.shape[-1]
    if n <= p:
        raise ValueError(f"ANCOVA needs more rows than model terms; got {n} rows for {p} terms.")
    if np.linalg.matrix_rank(x if x.ndim == 2 else x[0]) < p:
        raise ValueError(
            f"The ANCOVA design is not of full rank (terms: arm, {_prep_terms(prep)}); a "
            "covariate is constant or collinear with the arm or baseline."
        )
    return x


def _prep_terms(prep: _Prepared) -> str:
    return ", ".join(["baseline", *prep.z_names])


def _ancova_stack(
    prep: _Prepared, y: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """ANCOVA ``y ~ arm + baseline + covariates`` on every completed data set at once.

    ``y`` is ``(..., m, n)``; ``b`` is ``(n,)`` (shared, nothing imputed) or ``(m, n)``.
    Returns coefficients and their classical variances, ``(..., m, p)``, and ``n - p``.
    """
    fit = least_squares(_ancova_design(prep, b), y)
    sigma2 = fit.rss / fit.df_resid
    variances = sigma2[..., None] * fit.unscaled_diag
    return fit.beta, variances, fit.df_resid


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False, repr=False)
class MultipleImputationResult(ResultMixin):
    """Result of :func:`multiple_imputation`.

    Attributes
    ----------
    estimate, std_error, df, statistic, p_value, conf_low, conf_high : float
        The pooled baseline-adjusted difference ``treated - control`` (Rubin's rules,
        Barnard-Rubin df).
    conf_level : float
    within, between, total : float
        Within-, between-imputation and total variance of the arm contrast.
    riv, lambda_, fmi : float
        Relative increase in variance, proportion of variance due to missingness and fraction
        of missing information of the arm contrast.
    m : int
        Number of imputations.
    n_treated, n_control : int
        Participants analysed per arm (observed and imputed).
    method, by_arm, iterations, seed
        How the imputations were made.
    pooled : PooledEstimates
        Every ANCOVA coefficient pooled (``pooled.to_frame()``).
    imputations : pandas.DataFrame
        Per-imputation ANCOVA: ``imputation`` (1..m), ``estimate``, ``std_error``, ``df``.
    completion : pandas.DataFrame
        By arm: ``arm, n, outcome_observed, outcome_imputed, baseline_imputed, completion``
        (share with the follow-up observed).
    audit : pandas.DataFrame
        Rows excluded (missing arm or covariate) and values imputed, per arm.
    """

    outcome: str
    baseline: str
    arm: str
    treated: Any
    control: Any
    covariates: tuple[str, ...]
    estimate: float
    std_error: float
    df: float
    statistic: float
    p_value: float
    conf_low: float
    conf_high: float
    conf_level: float
    within: float
    between: float
    total: float
    riv: float
    lambda_: float
    fmi: float
    m: int
    n_treated: int
    n_control: int
    method: str
    by_arm: bool
    iterations: int
    seed: Any
    pooled: PooledEstimates
    imputations: pd.DataFrame
    completion: pd.DataFrame
    audit: pd.DataFrame
    _data: pd.DataFrame = field(repr=False)
    _y: np.ndarray = field(repr=False)
    _b: np.ndarray = field(repr=False)

    _title: ClassVar[str] = "ANCOVA after multiple imputation (Rubin's rules)"

    @property
    def contrast(self) -> str:
        return arm_contrast(self.treated, self.control)

    def to_frame(self) -> pd.DataFrame:
        """The pooled contrast as one row of the effects table (``analysis="ancova_mi"``)."""
        adjusted = ", ".join([self.baseline, *self.covariates])
        return effects_frame(
            [
                headline_row(
                    self,
                    outcome=self.outcome,
                    analysis="ancova_mi",
                    contrast=self.contrast,
                    estimand=(
                        f"randomized (MAR, multiple imputation): {label(self.treated)} vs "
                        f"{label(self.control)}, {self.outcome} adjusted for {adjusted}"
                    ),
                )
            ]
        )

    def complete(self, imputation: int | None = None) -> pd.DataFrame:
        """A completed data set (the analysed rows of ``data``, imputed values filled in).

        Parameters
        ----------
        imputation : int, optional
            Which one, ``1..m``. ``None`` stacks all ``m`` with a leading ``imputation``
            column (the long format of ``mice::complete(imp, "long")``).
        """
        if imputation is None:
            parts = [self.complete(j).assign(imputation=j) for j in range(1, self.m + 1)]
            out = pd.concat(parts)
            return out[["imputation", *[c for c in out.columns if c != "imputation"]]]
        if isinstance(imputation, bool) or not isinstance(imputation, Integral):
            raise TypeError(f"`imputation` must be an integer in 1..{self.m}; got {imputation!r}.")
        if not 1 <= imputation <= self.m:
            raise ValueError(f"`imputation` must be in 1..{self.m}; got {imputation!r}.")
        out = self._data.copy()
        out[self.outcome] = self._y[imputation - 1]
        out[self.baseline] = self._b[imputation - 1]
        return out


@dataclass(frozen=True, eq=False, repr=False)
class TippingPointResult(ResultMixin):
    """Result of :func:`tipping_point`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per delta: ``delta, estimate, std_error, df, statistic, p_value, conf_low,
        conf_high, fmi, significant`` (``p_value < 1 - conf_level``, i.e. the interval
        excludes 0).
    mar : MultipleImputationResult
        The analysis under missing at random (delta = 0), from the same imputations.
    tipping_delta : float
        The delta closest to 0 at which the conclusion differs from the MAR conclusion, found
        by root-finding on the p-value between the grid points that bracket the first change
        (NaN if the conclusion never changes on the grid).
    delta_arm : str
        ``"treated"``, ``"control"`` or ``"both"``: whose imputed values were shifted.
    conf_level : float
    tipping_delta_mcse : float
        Monte Carlo standard error of ``tipping_delta`` (jackknife over the imputations; NaN
        when there is no tipping delta or a leave-one-out replicate has none). It shrinks like
        ``1 / sqrt(m)``. The table's ``p_value_mcse`` column is the same for each p-value.
    mcse_target : float
        ``mcse_fraction`` times the median spacing of the delta grid: the MC SE below which the
        tipping delta is considered settled at the grid's resolution.
    mcse_reached : bool or None
        Whether ``tipping_delta_mcse <= mcse_target`` (None when either is undefined).
    m : int
        Imputations behind the table (the last of ``m_path``).
    m_path : pandas.DataFrame
        ``m, tipping_delta, tipping_delta_mcse`` for every number of imputations tried.
    """

    outcome: str
    treated: Any
    control: Any
    delta_arm: str
    conf_level: float
    table: pd.DataFrame
    mar: MultipleImputationResult
    tipping_delta: float
    audit: pd.DataFrame
    tipping_delta_mcse: float = float("nan")
    mcse_target: float = float("nan")
    mcse_reached: bool | None = None
    m: int = 0
    m_path: pd.DataFrame = field(default_factory=pd.DataFrame)

    _title: ClassVar[str] = "Delta-adjusted tipping-point analysis (multiple imputation)"

    @property
    def mar_significant(self) -> bool:
        return bool(self.mar.p_value < 1.0 - self.conf_level)

    def _shifted(self) -> str:
        if self.delta_arm == "both":
            return "both arms"
        arm = self.treated if self.delta_arm == "treated" else self.control
        return f"arm '{label(arm)}'"

    def to_frame(self) -> pd.DataFrame:
        """One effects-table row per delta (``analysis="ancova_mi_delta"``)."""
        table = self.table
        rows = []
        for rec in table.to_dict("records"):
            rows.append(
                {
                    "outcome": self.outcome,
                    "analysis": "ancova_mi_delta",
                    "contrast": arm_contrast(self.treated, self.control),
                    **{k: rec[k] for k in STAT_FIELDS},
                    "conf_level": self.conf_level,
                    "n_treated": self.mar.n_treated,
                    "n_control": self.mar.n_control,
                    "estimand": (
                        f"sensitivity (MNAR, delta-adjusted): delta = {rec['delta']:+g} added "
                        f"to imputed {self.outcome} in {self._shifted()}"
                    ),
                }
            )
        return effects_frame(rows)

    def summary(self, digits: int = 3) -> str:
        tip = (
            "not reached on the grid"
            if np.isnan(self.tipping_delta)
            else f"{self.tipping_delta:.{digits}f} (Monte Carlo SE "
            f"{self.tipping_delta_mcse:.{digits}f}, m = {self.m}; "
            + {
                True: f"below the target {self.mcse_target:.{digits}g}",
                False: f"target {self.mcse_target:.{digits}g} not reached: increase m or m_max",
                None: "no target",
            }[self.mcse_reached]
            + ")"
        )
        head = (
            f"{self._title}\nMAR: estimate {self.mar.estimate:.{digits}f}, p = "
            f"{self.mar.p_value:.{digits}g}; delta added to imputed values in {self._shifted()};"
            f" tipping delta: {tip}"
        )
        return f"{head}\n{format_table(self.table, digits)}"


# --------------------------------------------------------------------------- public API
def _run(
    data: Any,
    *,
    outcome: str,
    baseline: str,
    arm: str,
    treated: Any,
    covariates: Sequence[str],
    m: int,
    method: str,
    analysis: str,
    by_arm: bool,
    iterations: int,
    seed: Any,
    conf_level: float,
) -> tuple[MultipleImputationResult, _Prepared, np.ndarray, np.ndarray | None]:
    conf_level = check_conf_level(conf_level)
    m = _check_int("m", m, 2)
    iterations = _check_int("iterations", iterations, 1)
    if method not in _METHODS:
        raise one_of("method", method, _METHODS)
    if analysis not in _ANALYSES:
        raise one_of("analysis", analysis, _ANALYSES)
    if not isinstance(by_arm, (bool, np.bool_)):
        raise TypeError(f"`by_arm` must be True or False; got {by_arm!r}.")
    if isinstance(covariates, str):
        covariates = (covariates,)
    covariates = tuple(covariates)
    prep = _prepare(
        data, outcome=outcome, baseline=baseline, arm=arm, treated=treated, covariates=covariates
    )
    rng = np.random.default_rng(seed)
    y_imp, b_imp = _impute(
        prep,
        outcome=outcome,
        baseline=baseline,
        m=m,
        by_arm=bool(by_arm),
        iterations=iterations,
        rng=rng,
        method=method,
    )
    b_design = prep.b if not np.isnan(prep.b).any() else b_imp
    beta, var, df_com = _ancova_stack(prep, y_imp, b_design)
    terms = ["(Intercept)", f"{arm}[{label(prep.treated)}]", baseline, *prep.z_names]
    pooled = pool_rubin(beta, var, df_complete=df_com, terms=terms, conf_level=conf_level)
    head = {k: float(np.asarray(getattr(pooled, k))[1]) for k in _HEADLINE}

    treat = prep.treat == 1.0
    miss_y, miss_b = np.isnan(prep.y), np.isnan(prep.b)
    arms = [(prep.treated, treat), (prep.control, ~treat)]
    completion = pd.DataFrame(
        {
            "arm": pd.Series([a for a, _ in arms], dtype=object),
            "n": [int(r.sum()) for _, r in arms],
            "outcome_observed": [int((r & ~miss_y).sum()) for _, r in arms],
            "outcome_imputed": [int((r & miss_y).sum()) for _, r in arms],
            "baseline_imputed": [int((r & miss_b).sum()) for _, r in arms],
        }
    )
    completion["completion"] = completion["outcome_observed"] / completion["n"]
    entries = list(prep.audit_entries)
    for role, column, miss in (("outcome", outcome, miss_y), ("baseline", baseline, miss_b)):
        for arm_label, rows in arms:
            k = int((rows & miss).sum())
            if k:
                entries.append(
                    {
                        "step": "multiple_imputation",
                        "reason": f"imputed {role} '{column}' in arm '{label(arm_label)}' (MAR)",
                        "n_rows": k,
                        "detail": (
                            f"{m} imputations, method '{method}'"
                            f"{', by arm' if by_arm else ', arm as predictor'}; rows "
                            f"{format_values(list(prep.index[rows & miss]))}"
                        ),
                    }
                )
    imputations = pd.DataFrame(
        {
            "imputation": np.arange(1, m + 1),
            "estimate": beta[:, 1],
            "std_error": np.sqrt(var[:, 1]),
            "df": float(df_com),
        }
    )
    b_store = np.broadcast_to(prep.b, y_imp.shape) if b_design.ndim == 1 else b_imp
    result = MultipleImputationResult(
        outcome=outcome,
        baseline=baseline,
        arm=arm,
        treated=prep.treated,
        control=prep.control,
        covariates=covariates,
        conf_level=conf_level,
        m=m,
        n_treated=int(treat.sum()),
        n_control=int((~treat).sum()),
        method=method,
        by_arm=bool(by_arm),
        iterations=iterations,
        seed=seed,
        pooled=pooled,
        imputations=imputations,
        completion=completion,
        audit=audit_frame(entries),
        _data=data.iloc[prep.positions],
        _y=_readonly(y_imp),
        _b=_readonly(b_store),
        **head,
    )
    return result, prep, y_imp, (None if b_design.ndim == 1 else b_imp)


_HEADLINE = (
    *STAT_FIELDS,
    "within",
    "between",
    "total",
    "riv",
    "lambda_",
    "fmi",
)


def multiple_imputation(
    data: pd.DataFrame,
    *,
    outcome: str,
    baseline: str,
    arm: str,
    treated: Any,
    covariates: Sequence[str] = (),
    m: int = 20,
    method: str = "norm",
    analysis: str = "ancova",
    by_arm: bool = True,
    iterations: int = 10,
    seed: Any = None,
    conf_level: float = 0.95,
) -> MultipleImputationResult:
    r"""Baseline-adjusted ANCOVA with missing follow-up (and baseline) multiply imputed.

    Missing values of ``outcome`` and ``baseline`` are imputed ``m`` times under missing at
    random (MAR) with Bayesian linear regression; the ANCOVA of :func:`coaching_trials.ancova`
    (``outcome ~ arm + baseline + covariates``) is fitted to every completed data set and the
    arm contrasts are pooled with Rubin's rules, using the Barnard-Rubin degrees of freedom
    with complete-data df ``n - p``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per randomized participant (wide: baseline and follow-up in columns). Rows
        missing the follow-up or baseline are kept and imputed; rows missing the arm or a
        covariate are excluded and counted in ``audit``.
    outcome, baseline, arm : str
        Columns of the follow-up score, the baseline score and the arm.
    treated : object
        Label of the treated arm; the other arm is the control.
    covariates : sequence of str
        Fully observed adjustment columns, used in both the imputation and the analysis model
        (numeric columns linearly, others dummy-coded as in :func:`coaching_trials.ancova`).
    m : int
        Number of imputations (at least 2; 20 or more when the fraction of missing
        information is large, and for stable p-values).
    method : {"norm", "pmm"}
        ``"norm"``: Bayesian linear regression, a proper imputation (``mice.impute.norm``):
        per data set, draw :math:`\sigma^2` and :math:`\beta` from their posterior given the
        observed rows, then each missing value from the normal model. ``"pmm"``: predictive
        mean matching with 5 donors (``mice.impute.pmm``): imputes observed values of the
        participants with the closest predicted means, so imputations stay on the
        instrument's scale (see :func:`coaching_trials.impute_waves` for several waves).
    analysis : {"ancova"}
        The model fitted to each completed data set.
    by_arm : bool
        ``True`` (default) fits the imputation model separately in each randomized arm, so
        the imputations respect any arm-by-baseline or arm-by-covariate interaction;
        ``False`` uses one model with the arm as a predictor (the default predictor set of
        ``mice``).
    iterations : int
        Sweeps of the chained equations when both the follow-up and the baseline have missing
        values (otherwise one exact draw suffices).
    seed : int, numpy.random.Generator or None
        Seed of the random draws; an integer makes the result reproducible.
    conf_level : float
        Confidence level of the intervals.

    Returns
    -------
    MultipleImputationResult
        Pooled contrast, fraction of missing information, per-imputation estimates,
        completion by arm, audit, ``complete()`` for the imputed data and ``to_frame()``.

    Raises
    ------
    ValueError, TypeError
        Absent columns, not exactly two arms, bad options, a rank-deficient model.
    DataValidationError
        Non-numeric outcome/baseline values, or too few observed values to fit an imputation
        model.

    Notes
    -----
    The ``m`` ANCOVAs are solved together: with the baseline complete the design matrix is
    shared, so one QR factorization serves every imputation; otherwise a stacked QR. Each
    per-imputation estimate equals :func:`coaching_trials.ancova` on the completed data
    (tested). When the follow-up and the baseline both have missing values the imputations
    use chained equations (fully conditional specification) started from random draws of
    the observed values, as ``mice`` does.

    Under MAR the complete-case ANCOVA is already unbiased when only the follow-up is missing
    and the imputation model has the same predictors; multiple imputation then mainly serves
    as the basis of the delta-adjusted sensitivity analysis (:func:`tipping_point`), and it
    keeps (rather than drops) participants whose baseline is missing. With no missing values
    the estimate and standard error equal :func:`coaching_trials.ancova`'s, and the df are
    the Barnard-Rubin value just below ``n - p`` (see :func:`pool_rubin`).

    Imputed values come from a normal model and are not rounded or clipped to the range of
    the instrument (doing so biases the mean); a score slightly outside its range in a
    completed data set is expected.

    Validation (``tests/reference/imputation/``): pooling equals ``mice::pool`` to 1e-10 on
    imputations made by ``mice``; the draws have the posterior-predictive moments of the
    normal linear model; with ``m = 200`` the pooled results agree with ``mice`` (method
    ``norm``) within Monte Carlo error.

    References
    ----------
    Rubin DB. Multiple Imputation for Nonresponse in Surveys. Wiley; 1987.
    van Buuren S. Flexible Imputation of Missing Data, 2nd ed. CRC Press; 2018.
    White IR, Horton NJ, Carpenter J, Pocock SJ. Strategy for intention to treat analysis in
    randomised trials with missing outcome data. BMJ 2011;342:d40.

    Examples
    --------
    The burnout score of the shipped (synthetic) delayed-intervention trial, one row per
    physician with the baseline and month-3 scores in columns:

    >>> import coaching_trials as ct
    >>> from coaching_trials.analysis.imputation import multiple_imputation
    >>> ex = ct.load_example("delayed_intervention")
    >>> scored = ct.score(ex.responses, "pfi")
    >>> wide = scored.pivot_table(index=["participant_id", "arm"], columns="wave",
    ...                           values="pfi_burnout", observed=True).reset_index()
    >>> res = multiple_imputation(wide, outcome="month3", baseline="baseline", arm="arm",
    ...                           treated="immediate", m=20, seed=1)
    >>> res.completion[["arm", "n"]]
             arm   n
    0  immediate  67
    1    delayed  71
    >>> bool(res.conf_low < res.estimate < res.conf_high), bool(0 < res.fmi < 1)
    (True, True)
    >>> res.to_frame()[["analysis", "contrast", "n_treated", "n_control"]]
        analysis              contrast  n_treated  n_control
    0  ancova_mi  immediate - delayed       67.0       71.0
    >>> res.imputations.shape
    (20, 4)
    """
    result, *_ = _run(
        data,
        outcome=outcome,
        baseline=baseline,
        arm=arm,
        treated=treated,
        covariates=covariates,
        m=m,
        method=method,
        analysis=analysis,
        by_arm=by_arm,
        iterations=iterations,
        seed=seed,
        conf_level=conf_level,
    )
    return result


def tipping_point(
    data: pd.DataFrame,
    *,
    outcome: str,
    baseline: str,
    arm: str,
    treated: Any,
    deltas: Sequence[float],
    delta_arm: str = "treated",
    covariates: Sequence[str] = (),
    m: int = 20,
    method: str = "norm",
    by_arm: bool = True,
    iterations: int = 10,
    seed: Any = None,
    conf_level: float = 0.95,
    m_max: int | None = None,
    mcse_fraction: float = 0.25,
) -> TippingPointResult:
    r"""Delta-adjusted (missing not at random) sensitivity analysis and its tipping point.

    The missing follow-up values are imputed once under MAR (as in
    :func:`multiple_imputation`); then, for each ``delta``, ``delta`` is added to every
    imputed follow-up value in the chosen arm(s), the ANCOVA is refitted on each completed
    data set and the results are pooled with Rubin's rules. ``delta`` is the assumed mean
    difference between participants with and without a follow-up, on the outcome's scale
    (e.g. ``+0.5``: dropouts of the treated arm would have scored 0.5 points higher than
    similar completers).

    Parameters
    ----------
    data, outcome, baseline, arm, treated, covariates, m, method, by_arm, iterations, seed, \
conf_level
        As in :func:`multiple_imputation`.
    deltas : sequence of float
        The shifts to evaluate (the table keeps their order).
    delta_arm : {"treated", "control", "both"}
        Whose imputed follow-up values are shifted.
    m_max : int, optional
        Choose the number of imputations adaptively: starting from ``m``, double it (up to
        ``m_max``) until the Monte Carlo SE of the tipping delta is at most ``mcse_fraction``
        times the grid step. Default: no adaptation (``m`` imputations). Whether the target
        was reached is reported in ``mcse_reached`` and ``summary()``.
    mcse_fraction : float, default 0.25
        Target MC SE of the tipping delta as a fraction of the median spacing of ``deltas``.

    Returns
    -------
    TippingPointResult
        ``table`` (one row per delta, with the MC SE of each p-value), ``mar`` (the MAR
        analysis), ``tipping_delta`` with its Monte Carlo SE, ``m_path`` and ``to_frame()``
        in the effects schema.

    Notes
    -----
    Only imputed follow-up values are shifted; imputed baselines (if any) are left as
    imputed under MAR. The same imputations serve every delta, so the table is smooth in
    delta and ``tipping_delta`` is found by Brent's method on
    :math:`p(\delta) - (1 - \text{conf\_level})` between the grid points that bracket the
    change nearest to 0 (a change of conclusion = the p-value crossing
    ``1 - conf_level``, equivalently the interval starting or ceasing to exclude 0). This
    follows the delta-adjustment approach of Ratitch, O'Kelly and Tosiello (Pharm Stat
    2013;12:337-47) and the recommendation of White et al. (BMJ 2011;342:d40).

    With ``m`` imputations the tipping delta is a Monte Carlo estimate: another seed moves it
    (at ``m = 20`` by almost a grid step in a typical trial). Its Monte Carlo SE is the
    jackknife over imputations (leave one imputation out, re-pool, re-solve; White, Royston &
    Wood, Stat Med 2011;30:377-99), checked in the tests to shrink like ``1 / sqrt(m)`` and to
    match the spread of the tipping delta across seeds. Report it beside the tipping delta, or
    pass ``m_max`` to let the function add imputations until it is small.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from coaching_trials.analysis.imputation import tipping_point
    >>> rng = np.random.default_rng(1)
    >>> n = 80
    >>> arm = np.where(np.arange(n) % 2 == 0, "immediate", "delayed")
    >>> base = rng.normal(2.0, 0.7, n)
    >>> follow = 0.5 + 0.6 * base - 0.4 * (arm == "immediate") + rng.normal(0, 0.5, n)
    >>> follow[rng.random(n) < 0.2] = np.nan
    >>> df = pd.DataFrame({"arm": arm, "base": base, "follow": follow})
    >>> tp = tipping_point(df, outcome="follow", baseline="base", arm="arm",
    ...                    treated="immediate", deltas=[0.0, 0.5, 1.0, 1.5, 2.0], seed=7)
    >>> tp.table[["delta", "significant"]]
       delta  significant
    0    0.0         True
    1    0.5         True
    2    1.0         True
    3    1.5        False
    4    2.0        False
    >>> bool(1.0 < tp.tipping_delta < 1.5)
    True
    >>> bool(tp.tipping_delta_mcse > 0), tp.m
    (True, 20)
    >>> auto = tipping_point(df, outcome="follow", baseline="base", arm="arm",
    ...                      treated="immediate", deltas=[0.0, 0.5, 1.0, 1.5, 2.0], seed=7,
    ...                      m_max=640)
    >>> auto.mcse_reached, bool(auto.tipping_delta_mcse <= 0.125)
    (True, True)
    """
    if delta_arm not in _DELTA_ARMS:
        raise one_of("delta_arm", delta_arm, _DELTA_ARMS)
    try:
        grid = np.asarray(deltas, dtype="float64")
    except (TypeError, ValueError):
        raise TypeError(f"`deltas` must be a sequence of numbers; got {deltas!r}.") from None
    if grid.ndim != 1 or grid.size == 0 or not np.isfinite(grid).all():
        raise ValueError(
            f"`deltas` must be a non-empty sequence of finite numbers; got {deltas!r}."
        )
    m = _check_int("m", m, 2)
    m_max = m if m_max is None else _check_int("m_max", m_max, m)
    if isinstance(mcse_fraction, bool) or not isinstance(mcse_fraction, Real):
        raise TypeError(f"`mcse_fraction` must be a positive number; got {mcse_fraction!r}.")
    if not 0.0 < float(mcse_fraction) < np.inf:
        raise ValueError(f"`mcse_fraction` must be a positive number; got {mcse_fraction!r}.")
    target = float(mcse_fraction) * _tipping.grid_step(grid)
    path = []
    m_now = m
    while True:
        mar, prep, y_imp, b_imp = _run(
            data,
            outcome=outcome,
            baseline=baseline,
            arm=arm,
            treated=treated,
            covariates=covariates,
            m=m_now,
            method=method,
            analysis="ancova",
            by_arm=by_arm,
            iterations=iterations,
            seed=seed,
            conf_level=conf_level,
        )
        pooled_at = _delta_curve(prep, y_imp, b_imp, delta_arm, mar.conf_level)
        alpha = 1.0 - mar.conf_level
        everything = np.ones(m_now, dtype=bool)
        tipping = _tipping.tipping_delta(pooled_at, everything, grid, alpha)
        mcse = (
            _tipping.tipping_mcse(pooled_at, m_now, grid, alpha)
            if np.isfinite(tipping)
            else float("nan")
        )
        path.append({"m": m_now, "tipping_delta": tipping, "tipping_delta_mcse": mcse})
        done = not (np.isfinite(mcse) and np.isfinite(target)) or mcse <= target
        if done or m_now >= m_max:
            break
        m_now = min(2 * m_now, m_max)
    conf_level = mar.conf_level
    res = pooled_at(grid, everything)
    table = pd.DataFrame(
        {
            "delta": grid,
            **{k: res[k] for k in ("estimate", "std_error", "df", "statistic", "p_value")},
            "conf_low": res["conf_low"],
            "conf_high": res["conf_high"],
            "fmi": res["fmi"],
            "significant": res["p_value"] < alpha,
            "p_value_mcse": _tipping.p_value_mcse(pooled_at, m_now, grid),
        }
    )
    reached = bool(mcse <= target) if np.isfinite(mcse) and np.isfinite(target) else None
    return TippingPointResult(
        outcome=outcome,
        treated=mar.treated,
        control=mar.control,
        delta_arm=delta_arm,
        conf_level=conf_level,
        table=table,
        mar=mar,
        tipping_delta=tipping,
        audit=mar.audit,
        tipping_delta_mcse=mcse,
        mcse_target=target,
        mcse_reached=reached,
        m=m_now,
        m_path=pd.DataFrame(path, columns=["m", "tipping_delta", "tipping_delta_mcse"]),
    )


def _delta_curve(
    prep: _Prepared,
    y_imp: np.ndarray,
    b_imp: np.ndarray | None,
    delta_arm: str,
    conf_level: float,
) -> _tipping.PooledAt:
    """``pooled_at(deltas, keep)``: the pooled arm effect at each delta from the imputations
    selected by the boolean mask ``keep``.

    The ANCOVA is linear in y: with ``y(delta) = y + delta * s``, the arm coefficient is
    ``beta(delta) = beta + delta * g`` and ``RSS(delta) = RSS + 2 delta e'e_s + delta^2 e_s'e_s``,
    where ``g`` and ``e_s`` come from regressing ``s`` on the same design. One pair of batched
    fits then serves any number of deltas (and any subset of imputations) exactly.
    """
    in_arm = {
        "treated": prep.treat == 1.0,
        "control": prep.treat == 0.0,
        "both": np.ones(prep.treat.size, dtype=bool),
    }[delta_arm]
    shift = (np.isnan(prep.y) & in_arm).astype("float64")  # which values move with delta
    x = _ancova_design(prep, prep.b if b_imp is None else b_imp)
    fit0 = least_squares(x, y_imp)
    fit_s = least_squares(x, np.broadcast_to(shift, y_imp.shape))
    cross = np.einsum("mn,mn->m", fit0.resid, fit_s.resid)
    unscaled = np.broadcast_to(fit0.unscaled_diag[..., 1], cross.shape)
    df_com = float(fit0.df_resid)
    beta0, beta_s = fit0.beta[:, 1], fit_s.beta[:, 1]

    def pooled_at(deltas: np.ndarray, keep: np.ndarray) -> dict[str, np.ndarray]:
        d = np.asarray(deltas, dtype=float)[:, None]
        beta = beta0[keep] + d * beta_s[keep]  # (D, m)
        rss = fit0.rss[keep] + 2.0 * d * cross[keep] + d**2 * fit_s.rss[keep]
        var = rss / df_com * unscaled[keep]
        return _pool_arrays(beta.T, var.T, df_com, conf_level)

    return pooled_at
