"""Responder analysis: proportions past a cut-point, risk difference, ratios and NNT."""

from __future__ import annotations

import operator
import warnings
from dataclasses import dataclass
from numbers import Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from coaching_trials._errors import DataValidationWarning, one_of
from coaching_trials._results import ResultMixin, effects_frame
from coaching_trials.analysis._common import (
    TwoArmSample,
    arm_contrast,
    check_conf_level,
    check_frame,
    critical_value,
    html_with_tables,
    label,
    normal_interval,
    prepare_two_arm,
    summary_with_tables,
    t_interval,
    t_test,
)

__all__ = ["RespondersResult", "nnt_interval", "responders", "wilson_interval"]

_DIRECTIONS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
_EVENT_IS = ("good", "bad")


def wilson_interval(events: Any, n: Any, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (no continuity correction).

    Examples
    --------
    >>> low, high = wilson_interval(8, 20, 0.95)
    >>> round(float(low), 4), round(float(high), 4)
    (0.2188, 0.6134)
    """
    x, n = np.asarray(events, dtype=float), np.asarray(n, dtype=float)
    z = critical_value(conf_level)
    centre = (x + z**2 / 2) / (n + z**2)
    half = z * np.sqrt(x * (n - x) / n + z**2 / 4) / (n + z**2)
    return centre - half, centre + half


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def nnt_interval(rd_low: float, rd_high: float, *, event_is: str = "good") -> str:
    """Altman (1998) wording of the NNT confidence interval from the risk-difference interval.

    ``rd`` is ``p_treated - p_control``. When the interval excludes zero the NNT interval is the
    reciprocal of its bounds; when it includes zero it is two disjoint pieces joined through
    infinity, e.g. ``"NNTB 4.0 to infinity to NNTH 20.0"``.

    Examples
    --------
    >>> nnt_interval(-0.05, 0.25)
    'NNTB 4.0 to infinity to NNTH 20.0'
    >>> nnt_interval(0.1, 0.25)
    'NNTB 4.0 to 10.0'
    >>> nnt_interval(0.1, 0.25, event_is="bad")
    'NNTH 4.0 to 10.0'
    """
    sign = 1.0 if event_is == "good" else -1.0
    benefit = sorted([sign * rd_low, sign * rd_high])  # positive = benefit
    lo, hi = benefit
    if lo > 0:
        return f"NNTB {_fmt(1 / hi)} to {_fmt(1 / lo)}"
    if hi < 0:
        return f"NNTH {_fmt(1 / -lo)} to {_fmt(1 / -hi)}"
    b = "infinity" if hi == 0 else _fmt(1 / hi)
    h = "infinity" if lo == 0 else _fmt(1 / -lo)
    return f"NNTB {b} to infinity to NNTH {h}"


@dataclass(frozen=True, eq=False, repr=False)
class RespondersResult(ResultMixin):
    """Result of :func:`responders`.

    Attributes
    ----------
    estimate, std_error, statistic, p_value, conf_low, conf_high : float
        Risk difference ``p_treated - p_control`` with the Newcombe hybrid score interval; the
        statistic and p-value are the score (chi-square without continuity correction) test.
    proportions : pandas.DataFrame
        Per arm: ``arm, n, events, proportion, conf_low, conf_high`` (Wilson interval).
    comparisons : pandas.DataFrame
        ``measure, estimate, std_error, scale, statistic, p_value, conf_low, conf_high, method``
        for the risk difference, risk ratio, odds ratio and (with ``adjust_baseline``) the
        baseline-adjusted odds ratio. For ratios ``std_error`` is on the log scale.
    nnt : float
        Number needed to treat ``1 / |RD|`` (``inf`` when RD is 0).
    nnt_label : str
        ``"NNTB"`` (benefit) or ``"NNTH"`` (harm).
    nnt_conf_text : str
        The NNT interval in Altman's wording.
    event : str
        The responder definition, e.g. ``"pfi_burnout >= 1.33"``.
    cluster : str or None
        The cluster column when the analysis was cluster-robust.
    n_clusters : int or None
        Number of clusters analysed (``None`` without ``cluster``).
    df : float
        ``n_clusters - 1`` for the cluster-robust t intervals and tests; NaN otherwise
        (normal-theory score and Wald methods).
    """

    outcome: str
    arm: str
    treated: Any
    control: Any
    event: str
    event_is: str
    estimate: float
    std_error: float
    statistic: float
    p_value: float
    conf_low: float
    conf_high: float
    conf_level: float
    n_treated: int
    n_control: int
    nnt: float
    nnt_label: str
    nnt_conf_text: str
    proportions: pd.DataFrame
    comparisons: pd.DataFrame
    audit: pd.DataFrame
    cluster: str | None = None
    n_clusters: int | None = None
    df: float = float("nan")

    _title: ClassVar[str] = "Responders"

    def summary(self, digits: int = 3) -> str:
        return summary_with_tables(
            self,
            digits,
            [(f"Proportions per arm (Wilson {self.conf_level:.0%} CI)", self.proportions)],
        )

    def _repr_html_(self) -> str:
        return html_with_tables(
            self, [(f"Proportions per arm (Wilson {self.conf_level:.0%} CI)", self.proportions)]
        )

    def to_frame(self) -> pd.DataFrame:
        """One effects-table row per measure (risk difference first)."""
        sep = {"difference": " - ", "log": " / "}
        rows = []
        for r in self.comparisons.itertuples(index=False):
            rows.append(
                {
                    "outcome": self.outcome,
                    "analysis": r.measure,
                    "contrast": arm_contrast(self.treated, self.control, sep[r.scale]),
                    "estimate": r.estimate,
                    "std_error": r.std_error if r.scale == "difference" else np.nan,
                    "df": self.df,
                    "statistic": r.statistic,
                    "p_value": r.p_value,
                    "conf_low": r.conf_low,
                    "conf_high": r.conf_high,
                    "conf_level": self.conf_level,
                    "n_treated": self.n_treated,
                    "n_control": self.n_control,
                    "estimand": (
                        f"randomized: {label(self.treated)} vs {label(self.control)}, "
                        f"proportion with {self.event} ({r.method})"
                    ),
                }
            )
        return effects_frame(rows)


def _logistic(
    y: np.ndarray, x: np.ndarray, clusters: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Maximum-likelihood logistic regression: coefficients, Wald standard errors and a problem.

    The problem is ``None`` for a usable fit, otherwise why the maximum-likelihood estimate
    does not exist (complete or quasi-complete separation) or was not reached. With
    ``clusters`` the standard errors are the CR1 sandwich (``sandwich::vcovCL(type = "HC1")``).
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = sm.GLM(y, x, family=sm.families.Binomial()).fit(tol=1e-13, maxiter=200)
        if clusters is not None:
            bread = np.asarray(fit.cov_params())  # (X' W X)^-1
            scores = x * (y - np.asarray(fit.mu))[:, None]
            codes = pd.factorize(clusters)[0]
            meat = _cluster_meat(scores, codes)
            g, n, k = int(codes.max()) + 1, len(y), x.shape[1]
            vcov = bread @ meat @ bread * g / (g - 1) * (n - 1) / (n - k)
            fit_bse = np.sqrt(np.diag(vcov))
        else:
            fit_bse = np.asarray(fit.bse)
    params, bse = np.asarray(fit.params), fit_bse
    problem = None
    if any(issubclass(w.category, PerfectSeparationWarning) for w in caught):
        problem = "perfect separation: the events are predicted exactly by arm and baseline"
    elif not fit.converged:
        problem = "the logistic regression did not converge"
    elif not (np.all(np.isfinite(params)) and np.all(np.isfinite(bse))):
        problem = "the logistic regression gave non-finite estimates"
    return params, bse, problem


def _cluster_meat(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``sum_g u_g u_g'`` with ``u_g`` the sum of the score rows of cluster ``g``."""
    sums = np.zeros((int(codes.max()) + 1, scores.shape[1]))
    np.add.at(sums, codes, scores)
    return sums.T @ sums


def _cluster_vcov(y: np.ndarray, treat: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """CR1 covariance of the two arm proportions ``(p_treated, p_control)``.

    Linear probability model with the cell-means design ``[treated, control]``: bread
    ``diag(1 / n_a)``, scores ``x_i (y_i - p_arm(i))`` summed within clusters, factor
    ``G / (G - 1) * (n - 1) / (n - 2)`` (``sandwich::vcovCL(type = "HC1")``).
    """
    x = np.column_stack([treat, 1.0 - treat])
    n_arm = x.sum(axis=0)
    p = (x * y[:, None]).sum(axis=0) / n_arm
    scores = x * (y - x @ p)[:, None]
    codes = pd.factorize(clusters)[0]
    g, n = int(codes.max()) + 1, len(y)
    meat = _cluster_meat(scores, codes)
    return meat / np.outer(n_arm, n_arm) * g / (g - 1) * (n - 1) / (n - 2)


def _cluster_setup(
    y: np.ndarray,
    treat: np.ndarray,
    clusters: np.ndarray | None,
    cluster: str | None,
    events: np.ndarray,
    n: np.ndarray,
    conf_level: float,
) -> tuple[int | None, float, np.ndarray | None, tuple[np.ndarray, np.ndarray]]:
    """Number of clusters, t df, CR1 covariance of the proportions and the per-arm intervals
    (Wilson; at the effective sample size ``p (1 - p) / V_aa`` with clusters)."""
    if clusters is None:
        return None, float("nan"), None, wilson_interval(events, n, conf_level)
    n_clusters = int(pd.unique(clusters).size)
    if n_clusters < 2:
        raise ValueError(f"Column '{cluster}' must identify at least 2 clusters; got {n_clusters}.")
    vcov = _cluster_vcov(y, treat, clusters)
    p = events / n
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(np.diag(vcov) > 0, p * (1 - p) / np.diag(vcov), n)
    return n_clusters, float(n_clusters - 1), vcov, wilson_interval(p * n_eff, n_eff, conf_level)


def _t_row(row: dict[str, Any], log_est: float, df: float, conf_level: float) -> dict[str, Any]:
    """A log-scale Wald row redone with t(df) (cluster-robust inference)."""
    low, high = t_interval(log_est, row["std_error"], df, conf_level)
    return {
        **row,
        "p_value": float(2 * stats.t.sf(abs(row["statistic"]), df)),
        "conf_low": float(np.exp(low)),
        "conf_high": float(np.exp(high)),
        "method": f"{row['method']}; cluster-robust (CR1), t with {df:g} df",
    }


def _clustered_comparisons(
    p: np.ndarray, vcov: np.ndarray, df: float, conf_level: float
) -> list[dict[str, Any]]:
    """Risk difference, risk ratio and odds ratio with CR1 variances and t(df) inference."""
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        measures = [
            ("risk_difference", "difference", p[0] - p[1], np.array([1.0, -1.0]), False),
            ("risk_ratio", "log", np.log(p[0] / p[1]), np.array([1 / p[0], -1 / p[1]]), True),
            (
                "odds_ratio",
                "log",
                np.log(p[0] / (1 - p[0])) - np.log(p[1] / (1 - p[1])),
                np.array([1 / (p[0] * (1 - p[0])), -1 / (p[1] * (1 - p[1]))]),
                True,
            ),
        ]
        for measure, scale, est, grad, log in measures:
            se = float(np.sqrt(grad @ vcov @ grad))
            if not (np.isfinite(est) and np.isfinite(se) and se > 0):
                est, se = np.nan, np.nan
            t, p_value = t_test(est, se, df)
            low, high = t_interval(est, se, df, conf_level)
            out.append(
                {
                    "measure": measure,
                    "estimate": float(np.exp(est) if log else est),
                    "std_error": float(se),
                    "scale": scale,
                    "statistic": float(t),
                    "p_value": float(p_value),
                    "conf_low": float(np.exp(low) if log else low),
                    "conf_high": float(np.exp(high) if log else high),
                    "method": f"cluster-robust (CR1) Wald interval, t with {df:g} df",
                }
            )
    return out


def _cells(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The 2x2 table ``events, non-events`` of the treated arm, then of the control arm."""
    return np.array([x[0], n[0] - x[0], x[1], n[1] - x[1]])


def _wald_log(
    measure: str, log_est: float, se: float, method: str, conf_level: float
) -> dict[str, Any]:
    """A ratio measure with its normal (Wald) interval on the log scale."""
    low, high = normal_interval(log_est, se, conf_level)
    z, p_value = t_test(log_est, se, None)
    return {
        "measure": measure,
        "estimate": float(np.exp(log_est)),
        "std_error": float(se),
        "scale": "log",
        "statistic": float(z),
        "p_value": float(p_value),
        "conf_low": float(np.exp(low)),
        "conf_high": float(np.exp(high)),
        "method": method,
    }


def _comparisons(
    x: np.ndarray, n: np.ndarray, w_low: np.ndarray, w_high: np.ndarray, conf_level: float
) -> list[dict[str, Any]]:
    """Risk difference (Newcombe hybrid score), risk ratio (log Wald) and odds ratio (Woolf)."""
    p = x / n
    rd = float(p[0] - p[1])
    rd_low = rd - np.sqrt((p[0] - w_low[0]) ** 2 + (w_high[1] - p[1]) ** 2)
    rd_high = rd + np.sqrt((w_high[0] - p[0]) ** 2 + (p[1] - w_low[1]) ** 2)
    rd_se = float(np.sqrt(np.sum(p * (1 - p) / n)))
    pbar = x.sum() / n.sum()
    cells = _cells(x, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_score = rd / np.sqrt(pbar * (1 - pbar) * (1 / n[0] + 1 / n[1]))
        log_rr = np.log(p[0] / p[1])
        se_rr = np.sqrt(1 / x[0] - 1 / n[0] + 1 / x[1] - 1 / n[1])
        log_or = np.log(cells[0] * cells[3] / (cells[1] * cells[2]))
        se_or = np.sqrt(np.sum(1 / cells))
    if not np.all(cells > 0):
        log_or, se_or = np.nan, np.nan
    if not np.all(x > 0):
        log_rr, se_rr = np.nan, np.nan
    return [
        {
            "measure": "risk_difference",
            "estimate": rd,
            "std_error": rd_se,
            "scale": "difference",
            "statistic": float(z_score),
            "p_value": float(2 * stats.norm.sf(abs(z_score))),
            "conf_low": float(rd_low),
            "conf_high": float(rd_high),
            "method": "Newcombe hybrid score interval",
        },
        _wald_log("risk_ratio", log_rr, se_rr, "log Wald interval", conf_level),
        _wald_log("odds_ratio", log_or, se_or, "Woolf interval", conf_level),
    ]


def _adjusted_odds_ratio(
    y: np.ndarray,
    sample: TwoArmSample,
    outcome: str,
    baseline: str,
    clusters: np.ndarray | None,
    cells_positive: bool,
    conf_level: float,
) -> tuple[dict[str, Any], float]:
    """Odds ratio of arm adjusted for baseline by logistic regression (NaN with a warning
    when not estimable), and its log."""
    design = np.column_stack([np.ones_like(y), sample.treat, sample.values[baseline].to_numpy()])
    method = f"logistic regression on arm + {baseline}, Wald interval"
    problem = None
    if not cells_positive:
        problem = (
            "an arm has no events or only events (quasi-complete separation), so the "
            "adjusted odds ratio is infinite or zero"
        )
        beta = se = np.full(3, np.nan)
    else:
        beta, se, problem = _logistic(y, design, clusters)
    if problem is not None:
        warnings.warn(
            f"responders: adjusted odds ratio for '{outcome}' not estimable: {problem}; "
            "reported as NaN (see `comparisons['method']`).",
            DataValidationWarning,
            stacklevel=3,
        )
        beta, se = np.full(3, np.nan), np.full(3, np.nan)
        method = f"{method}; not estimable: {problem}"
    row = _wald_log("odds_ratio_adjusted", float(beta[1]), float(se[1]), method, conf_level)
    return row, float(beta[1])


def responders(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    treated: Any,
    cutpoint: float,
    direction: str = ">=",
    baseline: str | None = None,
    adjust_baseline: bool = False,
    event_is: str = "good",
    conf_level: float = 0.95,
    cluster: str | None = None,
) -> RespondersResult:
    r"""Compare the proportion of responders (``outcome`` past ``cutpoint``) between arms.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant.
    outcome, arm : str
        Score and arm columns. A participant is an event ("responder") when
        ``outcome <direction> cutpoint``; to define response by change, pass a change column.
    treated : object
        Label of the treated arm.
    cutpoint : float
        Threshold on ``outcome``.
    direction : {">=", ">", "<=", "<"}
        Comparison that defines an event.
    baseline : str, optional
        Baseline column. When given, rows missing it are excluded from every measure so that
        the unadjusted and adjusted analyses use the same rows.
    adjust_baseline : bool
        Also report the odds ratio from a logistic regression of the event on arm and
        ``baseline`` (Wald interval).
    event_is : {"good", "bad"}
        Whether an event is desirable; decides NNTB (benefit) versus NNTH (harm) labelling.
        Use ``"bad"`` for events such as "burnout at follow-up".
    conf_level : float
        Confidence level.
    cluster : str, optional
        Column of the coach / coaching group (or site). Participants of one cluster are then
        not treated as independent: every measure gets a cluster-robust (CR1) variance and a
        t interval and test with ``n_clusters - 1`` df (as :func:`coaching_trials.ancova`
        with ``cluster``); see Notes. Rows missing the cluster are excluded (audited).

    Returns
    -------
    RespondersResult

    Notes
    -----
    - Proportions: Wilson score intervals.
    - Risk difference: Newcombe's hybrid score interval (Newcombe 1998, method 10):
      :math:`RD - \sqrt{(p_t - l_t)^2 + (u_c - p_c)^2}` to
      :math:`RD + \sqrt{(u_t - p_t)^2 + (p_c - l_c)^2}` from the Wilson limits; p-value from
      the score test (R ``prop.test(correct = FALSE)``).
    - Risk ratio: log-scale Wald interval, SE :math:`\sqrt{1/x_t - 1/n_t + 1/x_c - 1/n_c}`.
    - Odds ratio: Woolf (log-scale Wald) interval; undefined (NaN) when a cell is 0, no
      continuity correction is applied. The same holds for the risk ratio with no events.
    - NNT = 1/|RD|, labelled NNTB or NNTH; when the RD interval crosses zero the NNT interval
      is reported as two pieces through infinity (Altman, BMJ 1998;317:1309).

    Validated against R (``prop.test``, the Newcombe formula, ``glm(binomial)`` with
    ``confint.default``) to 1e-6.

    With ``cluster`` the two proportions are the coefficients of the linear probability model
    ``event ~ 0 + treated + control`` and their covariance ``V`` is the CR1 sandwich
    (``sandwich::vcovCL(type = "HC1")``: cluster sums of the scores, factor
    ``G / (G - 1) * (n - 1) / (n - 2)``), which also covers clusters that span both arms. The
    risk difference has variance ``V_tt + V_cc - 2 V_tc``; the log risk ratio and log odds
    ratio get theirs by the delta method, which for this saturated model equals the CR1
    sandwich of ``glm(event ~ arm, binomial(link = "log"))`` and ``binomial`` exactly. Intervals
    and tests use a t distribution with ``G - 1`` df; the adjusted odds ratio is the logistic
    regression with its CR1 sandwich. The per-arm intervals are Wilson intervals at the
    effective sample size ``p (1 - p) / V_aa``. Validated against ``sandwich::vcovCL`` on lm and
    glm fits (``tests/reference/responders_cluster``) to 1e-6.

    Examples
    --------
    >>> import pandas as pd
    >>> import coaching_trials as ct
    >>> df = pd.DataFrame({"arm": ["a"] * 10 + ["b"] * 10,
    ...                    "y": [0, 1, 1, 0, 0, 0, 1, 0, 0, 0] + [1, 1, 0, 1, 1, 0, 1, 1, 0, 1]})
    >>> res = ct.responders(df, outcome="y", arm="arm", treated="a", cutpoint=1,
    ...                     event_is="bad")
    >>> round(res.estimate, 2), res.nnt_label, round(res.nnt, 2)
    (-0.4, 'NNTB', 2.5)

    With participants coached in groups, the cluster-robust version:

    >>> df["group"] = [f"g{i // 2}" for i in range(20)]
    >>> clustered = ct.responders(df, outcome="y", arm="arm", treated="a", cutpoint=1,
    ...                           event_is="bad", cluster="group")
    >>> clustered.n_clusters, clustered.df, round(clustered.estimate, 2)
    (10, 9.0, -0.4)
    """
    conf_level = check_conf_level(conf_level)
    if direction not in _DIRECTIONS:
        raise one_of("direction", direction, tuple(_DIRECTIONS))
    if event_is not in _EVENT_IS:
        raise one_of("event_is", event_is, _EVENT_IS)
    if isinstance(cutpoint, bool) or not isinstance(cutpoint, Real) or np.isnan(cutpoint):
        raise TypeError(f"`cutpoint` must be a number; got {cutpoint!r}.")
    if adjust_baseline and baseline is None:
        raise ValueError("`adjust_baseline=True` needs the `baseline` column.")
    if cluster is not None and not isinstance(cluster, str):
        raise TypeError(f"`cluster` must be a column name (str) or None; got {cluster!r}.")
    variables = [(outcome, "outcome", True)]
    if baseline is not None:
        variables.append((baseline, "baseline", True))
    if cluster is not None:
        check_frame(data, [cluster])
        variables.append((cluster, "cluster", False))
    sample = prepare_two_arm(data, arm=arm, treated=treated, variables=variables, step="responders")
    y = _DIRECTIONS[direction](sample.values[outcome].to_numpy(), cutpoint).astype(float)
    groups = [sample.treat == 1.0, sample.treat == 0.0]
    n = np.array([g.sum() for g in groups], dtype=float)
    x = np.array([y[g].sum() for g in groups])
    p = x / n
    clusters = None if cluster is None else sample.values[cluster].to_numpy()
    n_clusters, df, vcov, (w_low, w_high) = _cluster_setup(
        y, sample.treat, clusters, cluster, x, n, conf_level
    )
    proportions = pd.DataFrame(
        {
            "arm": [sample.treated, sample.control],
            "n": n.astype("int64"),
            "events": x.astype("int64"),
            "proportion": p,
            "conf_low": w_low,
            "conf_high": w_high,
        }
    )

    comparisons = _comparisons(x, n, w_low, w_high, conf_level)
    if vcov is not None:
        comparisons = _clustered_comparisons(p, vcov, df, conf_level)
    if adjust_baseline:
        positive = bool(np.all(_cells(x, n) > 0))
        row, log_or = _adjusted_odds_ratio(
            y, sample, outcome, baseline, clusters, positive, conf_level
        )
        comparisons.append(row if vcov is None else _t_row(row, log_or, df, conf_level))
    head = comparisons[0]
    rd, rd_se = float(head["estimate"]), float(head["std_error"])
    rd_low, rd_high = float(head["conf_low"]), float(head["conf_high"])
    benefit = rd if event_is == "good" else -rd
    return RespondersResult(
        outcome=outcome,
        arm=arm,
        **sample.result_fields(),
        event=f"{outcome} {direction} {cutpoint:g}",
        event_is=event_is,
        estimate=rd,
        std_error=rd_se,
        statistic=float(head["statistic"]),
        p_value=float(head["p_value"]),
        conf_low=rd_low,
        conf_high=rd_high,
        conf_level=conf_level,
        nnt=float(np.inf) if rd == 0 else float(1 / abs(rd)),
        nnt_label="NNTB" if benefit >= 0 else "NNTH",
        nnt_conf_text=nnt_interval(float(rd_low), float(rd_high), event_is=event_is),
        proportions=proportions,
        comparisons=pd.DataFrame(comparisons),
        cluster=cluster,
        n_clusters=n_clusters,
        df=df,
    )
