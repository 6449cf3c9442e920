"""ANCOVA of a follow-up score on arm and baseline, with adjusted (least-squares) means."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from coaching_trials._errors import EstimationError, one_of
from coaching_trials._results import ResultMixin, effects_frame
from coaching_trials.analysis._common import (
    arm_contrast,
    check_conf_level,
    check_frame,
    coefficient_table,
    covariate_levels,
    headline_row,
    html_with_tables,
    label,
    prepare_two_arm,
    require_variation,
    summary_with_tables,
    t_interval,
)

__all__ = ["AncovaResult", "ancova"]

_ROBUST = (None, "HC3")


@dataclass(frozen=True, eq=False, repr=False)
class AncovaResult(ResultMixin):
    """Result of :func:`ancova`.

    Attributes
    ----------
    estimate, std_error, df, statistic, p_value, conf_low, conf_high : float
        The adjusted difference ``treated - control`` in the follow-up outcome.
    conf_level : float
        Confidence level of every interval in the result.
    n_treated, n_control : int
        Rows analysed per arm.
    n_clusters : int or None
        Number of clusters when ``cluster`` was given.
    vcov_type : str
        ``"classical"``, ``"HC3"`` or ``"CR1"``.
    adjusted_means : pandas.DataFrame
        One row per arm: ``arm, estimate, std_error, df, conf_low, conf_high, n``.
    coefficients : pandas.DataFrame
        One row per model term: ``term, estimate, std_error, df, statistic, p_value, conf_low,
        conf_high``.
    audit : pandas.DataFrame
        Rows excluded, with the reason (``step, reason, n_rows, detail``).
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
    n_treated: int
    n_control: int
    n_clusters: int | None
    vcov_type: str
    adjusted_means: pd.DataFrame
    coefficients: pd.DataFrame
    audit: pd.DataFrame

    _title: ClassVar[str] = "ANCOVA: follow-up on arm and baseline"

    @property
    def contrast(self) -> str:
        return arm_contrast(self.treated, self.control)

    def summary(self, digits: int = 3) -> str:
        return summary_with_tables(
            self, digits, [(f"Adjusted means ({self.conf_level:.0%} CI)", self.adjusted_means)]
        )

    def _repr_html_(self) -> str:
        return html_with_tables(
            self, [(f"Adjusted means ({self.conf_level:.0%} CI)", self.adjusted_means)]
        )

    def to_frame(self) -> pd.DataFrame:
        """The headline contrast as one row of the effects table."""
        adjusted = ", ".join([self.baseline, *self.covariates])
        return effects_frame(
            [
                headline_row(
                    self,
                    outcome=self.outcome,
                    analysis="ancova",
                    contrast=self.contrast,
                    estimand=(
                        f"randomized: {label(self.treated)} vs {label(self.control)}, "
                        f"{self.outcome} adjusted for {adjusted}"
                    ),
                )
            ]
        )


def _design(
    values: pd.DataFrame, treat: np.ndarray, baseline: str, covariates: Sequence[str]
) -> tuple[np.ndarray, list[str], list[tuple[str, np.ndarray]]]:
    """Design matrix, term names and the reference-grid weights of each non-arm column.

    Numeric covariates enter as they are and are averaged in the reference grid; other columns
    (text, categorical, boolean) are dummy-coded against their first level and weighted
    ``1 / n_levels`` per level in the reference grid, as emmeans does by default.
    """
    blocks = [np.ones_like(treat)[:, None], treat[:, None]]
    names = ["(Intercept)", "arm"]
    grid = [values[baseline].to_numpy().mean()]
    blocks.append(values[[baseline]].to_numpy())
    names.append(baseline)
    for cov in covariates:
        col = values[cov]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            x = col.to_numpy(dtype="float64")
            blocks.append(x[:, None])
            names.append(cov)
            grid.append(x.mean())
            continue
        levels = covariate_levels(col)
        for lv in levels[1:]:
            blocks.append((col == lv).to_numpy(dtype="float64")[:, None])
            names.append(f"{cov}[{lv}]")
            grid.append(1.0 / len(levels))
    return np.hstack(blocks), names, grid


def _vcov(
    x: np.ndarray,
    resid: np.ndarray,
    xtx_inv: np.ndarray,
    *,
    kind: str,
    clusters: np.ndarray | None,
) -> np.ndarray:
    n, p = x.shape
    if kind == "classical":
        return xtx_inv * float(resid @ resid) / (n - p)
    if kind == "HC3":
        leverage = np.einsum("ij,jk,ik->i", x, xtx_inv, x)
        with np.errstate(divide="ignore", invalid="ignore"):
            omega = resid**2 / (1.0 - leverage) ** 2
        meat = (x * omega[:, None]).T @ x
        return xtx_inv @ meat @ xtx_inv
    # CR1: sandwich::vcovCL(type = "HC1", cadjust = TRUE); Stata's vce(cluster)
    codes, _ = pd.factorize(clusters)
    n_clusters = int(codes.max()) + 1
    scores = np.zeros((n_clusters, p))
    np.add.at(scores, codes, x * resid[:, None])
    meat = scores.T @ scores
    factor = n_clusters / (n_clusters - 1) * (n - 1) / (n - p)
    return factor * (xtx_inv @ meat @ xtx_inv)


def ancova(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    baseline: str,
    treated: Any,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    robust: str | None = None,
    conf_level: float = 0.95,
) -> AncovaResult:
    r"""Analysis of covariance of a follow-up score on arm and baseline score.

    Fits by ordinary least squares

    .. math:: y_i = \beta_0 + \beta_1 \,\text{treated}_i + \beta_2 \,\text{baseline}_i
              + \gamma^\top z_i + \varepsilon_i

    and reports :math:`\beta_1`, the baseline-adjusted difference ``treated - control``, with a
    t-based confidence interval, plus the adjusted (least-squares) mean of each arm.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant, with the follow-up score, the baseline score and the arm.
    outcome, arm, baseline : str
        Columns holding the follow-up score, the arm label and the baseline score.
    treated : object
        Label of the treated arm in ``arm``; the other arm is the control. Exactly two arms must
        be present.
    covariates : sequence of str
        Further adjustment columns. Numeric columns enter linearly; text, categorical and
        boolean columns are dummy-coded against their first level (category order, otherwise
        sorted).
    cluster : str, optional
        Column identifying clusters (coach, coaching group). Standard errors are then
        cluster-robust CR1 and the degrees of freedom are ``n_clusters - 1``.
    robust : {None, "HC3"}
        ``"HC3"`` for heteroskedasticity-consistent standard errors (residual df); ignored
        choices raise. Cannot be combined with ``cluster``.
    conf_level : float
        Confidence level of the intervals.

    Returns
    -------
    AncovaResult
        Headline attributes, ``adjusted_means``, ``coefficients``, ``audit`` and ``to_frame()``.

    Raises
    ------
    ValueError
        Absent columns, not exactly two arms, ``treated`` not an arm, a bad option, a design
        that is not of full rank, an outcome fitted exactly (no residual variance), or too few
        rows.
    DataValidationError
        Non-numeric values in the outcome, baseline or a numeric covariate; a constant
        outcome; an arm with fewer
        than 2 complete rows (one participant fits its own residual exactly, leaving nothing
        to estimate that arm's contribution to the error variance; HC3 then divides by zero).

    Notes
    -----
    Rows missing the arm, outcome, baseline, a covariate or the cluster are excluded; each is
    counted in ``result.audit`` under the first missing variable (in that order).

    Adjusted means follow the emmeans convention: the baseline and numeric covariates are set
    to their means in the analysis sample, and each categorical covariate is averaged over its
    levels with equal weights. Their standard errors use the same covariance matrix (and df) as
    the contrast.

    Cluster-robust variance (CR1) is
    :math:`\frac{G}{G-1}\frac{n-1}{n-p}(X^\top X)^{-1}\sum_g X_g^\top e_g e_g^\top X_g
    (X^\top X)^{-1}`, equal to ``sandwich::vcovCL(fit, cluster = ~cl, type = "HC1")`` in R and
    Stata's ``vce(cluster)``; inference uses a t distribution with ``G - 1`` df. HC3 is
    ``sandwich::vcovHC(fit, type = "HC3")`` with the residual df.

    Validated against R ``lm`` + ``emmeans`` (classical), ``sandwich::vcovHC`` (HC3) and
    ``sandwich::vcovCL`` (CR1) on two datasets, one with dropout, to 1e-6
    (``tests/reference/analysis/``).

    References
    ----------
    Vickers AJ, Altman DG. Analysing controlled trials with baseline and follow up
    measurements. BMJ 2001;323:1123-4.

    Examples
    --------
    >>> import pandas as pd
    >>> import coaching_trials as ct
    >>> df = pd.DataFrame({
    ...     "arm": ["immediate"] * 4 + ["delayed"] * 4,
    ...     "base": [2.0, 1.5, 2.5, 1.0, 2.0, 1.0, 2.5, 1.5],
    ...     "follow": [1.0, 1.0, 1.5, 0.5, 2.0, 1.5, 2.5, 1.0],
    ... })
    >>> res = ct.ancova(df, outcome="follow", arm="arm", baseline="base", treated="immediate")
    >>> round(res.estimate, 3), res.df
    (-0.75, 5.0)
    >>> res.to_frame()[["analysis", "contrast", "n_treated", "n_control"]]
      analysis              contrast  n_treated  n_control
    0   ancova  immediate - delayed        4.0        4.0
    """
    conf_level = check_conf_level(conf_level)
    if isinstance(covariates, str):
        covariates = (covariates,)
    covariates = tuple(covariates)
    if robust not in _ROBUST:
        raise one_of("robust", robust, _ROBUST)
    if robust is not None and cluster is not None:
        raise ValueError(
            "`robust` and `cluster` cannot both be given: with `cluster` the standard errors are "
            "already cluster-robust (CR1)."
        )
    check_frame(data, [outcome, arm, baseline, *covariates, cluster])
    clash = {arm, outcome, baseline} & set(covariates)
    if clash:
        raise ValueError(
            "`covariates` must not repeat the outcome, arm or baseline column; "
            f"got {sorted(clash)}."
        )
    variables = [(outcome, "outcome", True), (baseline, "baseline", True)]
    for cov in covariates:
        col = data[cov]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        variables.append((cov, "covariate", numeric))
    if cluster is not None:
        variables.append((cluster, "cluster", False))
    sample = prepare_two_arm(
        data, arm=arm, treated=treated, variables=variables, step="ancova", min_per_arm=2
    )
    values, treat = sample.values, sample.treat

    x, names, grid = _design(values, treat, baseline, covariates)
    n, p = x.shape
    if n <= p:
        raise EstimationError(
            f"ANCOVA needs more complete rows than model terms; got {n} rows for {p} terms."
        )
    if np.linalg.matrix_rank(x) < p:
        raise EstimationError(
            f"The ANCOVA design is not of full rank (terms {names}); a covariate is constant or "
            "collinear with the arm or baseline in the complete rows."
        )
    y = values[outcome].to_numpy(dtype="float64")
    require_variation(y, column=outcome, role="outcome", step="ancova")
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    resid = y - x @ beta
    if float(resid @ resid) <= 1e-24 * float(np.sum((y - y.mean()) ** 2)):
        raise EstimationError(
            f"ancova: outcome '{outcome}' is fitted exactly by {names[1:]} (no residual "
            "variance), so standard errors and p-values are undefined; check that the outcome "
            "and baseline columns are not the same score."
        )
    clusters = None if cluster is None else values[cluster].to_numpy()
    kind = "CR1" if cluster is not None else (robust or "classical")
    vcov = _vcov(x, resid, xtx_inv, kind=kind, clusters=clusters)
    n_clusters = None if clusters is None else int(pd.unique(clusters).size)
    if n_clusters is not None and n_clusters < 2:
        raise ValueError(f"Column '{cluster}' must identify at least 2 clusters; got {n_clusters}.")
    df = float(n - p) if n_clusters is None else float(n_clusters - 1)

    se = np.sqrt(np.diag(vcov))
    names[1] = f"{arm}[{label(sample.treated)}]"
    coefficients = coefficient_table(names, beta, se, df, conf_level)

    grid_rows = np.array([[1.0, a, *grid] for a in (1.0, 0.0)])
    means = grid_rows @ beta
    means_se = np.sqrt(np.einsum("ij,jk,ik->i", grid_rows, vcov, grid_rows))
    m_low, m_high = t_interval(means, means_se, df, conf_level)
    adjusted_means = pd.DataFrame(
        {
            "arm": [sample.treated, sample.control],
            "estimate": means,
            "std_error": means_se,
            "df": df,
            "conf_low": m_low,
            "conf_high": m_high,
            "n": [sample.n_treated, sample.n_control],
        }
    )
    return AncovaResult(
        outcome=outcome,
        baseline=baseline,
        arm=arm,
        **sample.result_fields(),
        covariates=covariates,
        estimate=float(beta[1]),
        std_error=float(se[1]),
        df=df,
        statistic=float(coefficients.at[1, "statistic"]),
        p_value=float(coefficients.at[1, "p_value"]),
        conf_low=float(coefficients.at[1, "conf_low"]),
        conf_high=float(coefficients.at[1, "conf_high"]),
        conf_level=conf_level,
        n_clusters=n_clusters,
        vcov_type=kind,
        adjusted_means=adjusted_means,
        coefficients=coefficients,
    )
