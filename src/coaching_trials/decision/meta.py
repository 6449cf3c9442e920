"""Random-effects meta-analysis: the trial among the published evidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import optimize, stats

from coaching_trials._errors import ProblemLog, format_values, one_of
from coaching_trials._results import ResultMixin, effects_frame, format_table
from coaching_trials.analysis._common import (
    check_conf_level,
    check_frame,
    headline_row,
    normal_interval,
    t_interval,
    t_test,
)

__all__ = ["MetaAnalysisResult", "meta_analysis", "tau2_dl", "tau2_reml"]

_METHODS = ("REML", "DL")
_TESTS = ("z", "hksj")
EXTRA_COLUMNS = ("tau2", "i2", "q", "q_p", "k", "pi_low", "pi_high")


def tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    """DerSimonian-Laird moment estimator of tau^2, truncated at 0."""
    w = 1.0 / v
    mu = np.sum(w * y) / np.sum(w)
    q = float(np.sum(w * (y - mu) ** 2))
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    return max(0.0, (q - (len(y) - 1)) / c)


def _reml_score(t: float, y: np.ndarray, v: np.ndarray) -> float:
    """Twice the derivative of the restricted log-likelihood with respect to tau^2."""
    w = 1.0 / (v + t)
    sw = np.sum(w)
    mu = np.sum(w * y) / sw
    return float(np.sum(w**2 * (y - mu) ** 2) - (sw - np.sum(w**2) / sw))


def tau2_reml(y: np.ndarray, v: np.ndarray) -> float:
    """Restricted maximum-likelihood estimate of tau^2 (root of the REML score, or 0).

    The score is positive at 0 when the data are more heterogeneous than the sampling variances
    allow; the root is then bracketed by doubling and found by Brent's method to machine
    precision. A non-positive score at 0 gives the boundary estimate 0.
    """
    if _reml_score(0.0, y, v) <= 0:
        return 0.0
    high = max(float(np.var(y)), float(np.max(v)), 1e-8)
    while _reml_score(high, y, v) > 0:
        high *= 2.0
    return float(optimize.brentq(_reml_score, 0.0, high, args=(y, v), xtol=1e-15, rtol=1e-15))


def _fit(y: np.ndarray, v: np.ndarray, method: str, test: str, conf_level: float) -> dict:
    """Every summary of one random-effects fit (all plain floats)."""
    k = len(y)
    tau2 = tau2_reml(y, v) if method == "REML" else tau2_dl(y, v)
    w_fe = 1.0 / v
    mu_fe = np.sum(w_fe * y) / np.sum(w_fe)
    q = float(np.sum(w_fe * (y - mu_fe) ** 2))
    q_p = float(stats.chi2.sf(q, k - 1)) if k > 1 else np.nan
    # typical within-study variance (Higgins & Thompson 2002), as metafor's I^2 and H^2
    s2 = (k - 1) * np.sum(w_fe) / (np.sum(w_fe) ** 2 - np.sum(w_fe**2)) if k > 1 else np.nan
    w = 1.0 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    se = float(np.sqrt(1.0 / np.sum(w)))
    df = None
    if test == "hksj":
        df = float(k - 1)
        se = float(np.sqrt(np.sum(w * (y - mu) ** 2) / ((k - 1) * np.sum(w))))
    if se > 0:
        statistic, p = t_test(mu, se, df)
    else:  # HKSJ with studies that agree exactly
        statistic, p = np.copysign(np.inf, mu), 0.0
    low, high = t_interval(mu, se, df, conf_level)
    pi_low, pi_high = t_interval(mu, np.sqrt(se**2 + tau2), df, conf_level)
    return {
        "estimate": mu,
        "std_error": se,
        "df": np.nan if df is None else df,
        "statistic": float(statistic),
        "p_value": float(p),
        "conf_low": float(low),
        "conf_high": float(high),
        "tau2": float(tau2),
        "i2": float(100 * tau2 / (tau2 + s2)) if k > 1 else np.nan,
        "h2": float((tau2 + s2) / s2) if k > 1 else np.nan,
        "q": q,
        "q_p": q_p,
        "k": k,
        "pi_low": float(pi_low),
        "pi_high": float(pi_high),
        "weights": 100 * w / np.sum(w),
    }


@dataclass(frozen=True, eq=False, repr=False)
class MetaAnalysisResult(ResultMixin):
    """Result of :func:`meta_analysis`.

    Attributes
    ----------
    estimate, std_error, df, statistic, p_value, conf_low, conf_high : float
        The pooled (random-effects) mean effect; ``df`` is ``k - 1`` under HKSJ, NaN under z.
    tau2 : float
        Between-study variance.
    i2, h2 : float
        I^2 (percent) and H^2 from tau^2 and the typical within-study variance.
    q, q_df, q_p : float
        Cochran's Q test of heterogeneity.
    pi_low, pi_high : float
        Prediction interval for the effect in a new study.
    k : int
        Number of studies.
    studies : pandas.DataFrame
        ``study, estimate, std_error, conf_low, conf_high, weight`` (weight in percent), in
        input order; study intervals are normal (Wald) at ``conf_level``.
    leave_one_out : pandas.DataFrame
        One row per omitted study: ``omitted, estimate, std_error, p_value, conf_low,
        conf_high, tau2, i2, q, pi_low, pi_high`` (empty when ``k < 3``).
    """

    outcome: str
    method: str
    test: str
    estimate: float
    std_error: float
    df: float
    statistic: float
    p_value: float
    conf_low: float
    conf_high: float
    conf_level: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    pi_low: float
    pi_high: float
    k: int
    n_treated: float
    n_control: float
    studies: pd.DataFrame
    leave_one_out: pd.DataFrame

    _title: ClassVar[str] = "Random-effects meta-analysis"

    @property
    def estimand(self) -> str:
        test = "Hartung-Knapp-Sidik-Jonkman t" if self.test == "hksj" else "z"
        return (
            f"pooled: random-effects mean effect across {self.k} studies "
            f"({self.method} tau2, {test} interval)"
        )

    def to_frame(self) -> pd.DataFrame:
        """One effects-table row for the pooled effect, plus ``tau2, i2, q, q_p, k, pi_low,
        pi_high``."""
        row = headline_row(
            self,
            outcome=self.outcome,
            analysis=f"meta_analysis_{self.method.lower()}_{self.test}",
            contrast="pooled",
            estimand=self.estimand,
        )
        frame = effects_frame([row])
        for col in EXTRA_COLUMNS:
            frame[col] = float(getattr(self, col))
        return frame

    def summary(self, digits: int = 3) -> str:
        head = super().summary(digits)
        return (
            f"{head}\n\nStudies (weight in %)\n{format_table(self.studies, digits)}"
            f"\n\nHeterogeneity: tau2 = {self.tau2:.{digits}f}, I2 = {self.i2:.1f}%, "
            f"Q = {self.q:.{digits}f} on {self.q_df} df (p = {self.q_p:.{digits}g})"
        )

    def _repr_html_(self) -> str:
        studies = self.studies.to_html(index=False, float_format=lambda x: f"{x:.3f}")
        return f"{super()._repr_html_()}<div><em>Studies</em>{studies}</div>"


def _validate(
    data: pd.DataFrame, estimate: str, std_error: str, study: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    log = ProblemLog("the meta-analysis data")
    y = pd.to_numeric(data[estimate], errors="coerce")
    se = pd.to_numeric(data[std_error], errors="coerce")
    bad_y = ~np.isfinite(y.to_numpy(float))
    if bad_y.any():
        log.add(
            "not_finite",
            f"column {estimate!r}: {int(bad_y.sum())} row(s) without a finite estimate "
            f"(rows {format_values(data.index[bad_y])}, values "
            f"{format_values(data[estimate][bad_y])})",
            column=estimate,
            rows=data.index[bad_y],
            values=data[estimate][bad_y],
            expected="a finite number",
        )
    se_arr = se.to_numpy(float)
    bad_se = ~(np.isfinite(se_arr) & (se_arr > 0))
    if bad_se.any():
        log.add(
            "not_positive",
            f"column {std_error!r}: {int(bad_se.sum())} row(s) without a positive finite "
            f"standard error (rows {format_values(data.index[bad_se])}, values "
            f"{format_values(data[std_error][bad_se])})",
            column=std_error,
            rows=data.index[bad_se],
            values=data[std_error][bad_se],
            expected="a number > 0",
        )
    labels = data[study]
    missing = labels.isna().to_numpy()
    if missing.any():
        log.add(
            "missing_label",
            f"column {study!r}: {int(missing.sum())} row(s) without a study label "
            f"(rows {format_values(data.index[missing])})",
            column=study,
            rows=data.index[missing],
            expected="a study label",
        )
    dup = labels.duplicated(keep=False).to_numpy() & ~missing
    if dup.any():
        log.add(
            "duplicate_label",
            f"column {study!r}: study labels repeat ({format_values(pd.unique(labels[dup]))}); "
            "each study must be one row",
            column=study,
            rows=data.index[dup],
            values=labels[dup],
            expected="unique labels",
        )
    log.raise_if_any()
    return y.to_numpy(float), se_arr, [str(s) for s in labels]


def meta_analysis(
    data: pd.DataFrame,
    *,
    estimate: str = "estimate",
    std_error: str = "std_error",
    study: str = "study",
    method: str = "REML",
    test: str = "z",
    conf_level: float = 0.95,
    outcome: str | None = None,
) -> MetaAnalysisResult:
    r"""Random-effects meta-analysis of one effect per study.

    Each study *i* contributes an estimate :math:`y_i` with standard error :math:`s_i`;
    :math:`y_i \sim N(\mu, s_i^2 + \tau^2)`. The between-study variance :math:`\tau^2` is
    estimated by REML or DerSimonian-Laird (DL); the pooled mean is
    :math:`\hat\mu = \sum w_i y_i / \sum w_i` with :math:`w_i = 1/(s_i^2 + \hat\tau^2)`.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per study.
    estimate, std_error, study : str
        Columns holding each study's effect, its standard error and its label. All effects
        must be on one scale (e.g. mean differences on the same instrument metric, log odds
        ratios, or standardized mean differences).
    method : {"REML", "DL"}
        Estimator of :math:`\tau^2`.
    test : {"z", "hksj"}
        ``"z"``: normal interval and test with :math:`SE = (\sum w_i)^{-1/2}`. ``"hksj"``:
        Hartung-Knapp-Sidik-Jonkman, :math:`SE^2 = \sum w_i (y_i - \hat\mu)^2 / ((k-1)\sum
        w_i)` with a t distribution on *k - 1* df (no truncation of the scale factor), the
        adjustment recommended for few studies (IntHout et al., BMC Med Res Methodol 2014).
    conf_level : float
        Level of the confidence and prediction intervals.
    outcome : str, optional
        Label of the pooled row (default: the ``outcome`` column's single value when there is
        one, else ``"pooled effect"``).

    Returns
    -------
    MetaAnalysisResult
        ``to_frame()`` is one effects-table row plus ``tau2, i2, q, q_p, k, pi_low, pi_high``;
        ``leave_one_out`` refits without each study in turn.

    Notes
    -----
    * REML solves the restricted-likelihood score equation by Brent's method (boundary
      estimate 0 when the score is negative at 0); DL is the moment estimator truncated at 0.
    * :math:`I^2 = 100\,\hat\tau^2 / (\hat\tau^2 + \tilde s^2)` with the typical within-study
      variance :math:`\tilde s^2 = (k-1)\sum w / ((\sum w)^2 - \sum w^2)`, :math:`w = 1/s_i^2`
      (Higgins & Thompson 2002); for DL it equals :math:`(Q - (k-1))/Q`.
    * Prediction interval :math:`\hat\mu \pm c\sqrt{SE^2 + \hat\tau^2}` with *c* the normal
      quantile under ``"z"`` and the t quantile on *k - 1* df under ``"hksj"`` (as metafor's
      ``predict``; Higgins, Thompson & Spiegelhalter 2009 propose *k - 2* df).

    Validated against R metafor 3.8.1 ``rma(method = "REML" | "DL", test = "z" | "knha")``,
    ``predict`` and ``leave1out`` on the BCG vaccine trials (log risk ratios, k = 13), the
    Normand (1999) length-of-stay trials (mean differences, k = 9) and a homogeneous set with
    :math:`\hat\tau^2 = 0`, to 1e-6 (``tests/reference/decision/``).

    Examples
    --------
    >>> import pandas as pd
    >>> import coaching_trials as ct
    >>> trials = pd.DataFrame({"study": ["A", "B", "C", "D"],
    ...                        "estimate": [-0.9, -0.4, -0.7, 0.1],
    ...                        "std_error": [0.25, 0.30, 0.20, 0.35]})
    >>> res = ct.meta_analysis(trials, method="REML", test="hksj")
    >>> round(res.estimate, 3), res.k
    (-0.537, 4)
    >>> list(res.to_frame().columns[-7:])
    ['tau2', 'i2', 'q', 'q_p', 'k', 'pi_low', 'pi_high']
    """
    check_frame(data, [estimate, std_error, study], name="data")
    if method not in _METHODS:
        raise one_of("method", method, _METHODS)
    if test not in _TESTS:
        raise one_of("test", test, _TESTS)
    conf_level = check_conf_level(conf_level)
    if len(data) < 2:
        raise ValueError(f"A meta-analysis needs at least 2 studies; `data` has {len(data)}.")
    y, se, labels = _validate(data, estimate, std_error, study)
    v = se**2
    fit = _fit(y, v, method, test, conf_level)
    study_low, study_high = normal_interval(y, se, conf_level)
    studies = pd.DataFrame(
        {
            "study": labels,
            "estimate": y,
            "std_error": se,
            "conf_low": study_low,
            "conf_high": study_high,
            "weight": fit.pop("weights"),
        }
    )
    loo_rows = []
    if len(y) >= 3:
        for i, name in enumerate(labels):
            keep = np.arange(len(y)) != i
            part = _fit(y[keep], v[keep], method, test, conf_level)
            loo_rows.append({"omitted": name, **{c: part[c] for c in _LOO_COLUMNS[1:]}})
    loo = pd.DataFrame(loo_rows, columns=list(_LOO_COLUMNS))

    if outcome is None:
        values = data["outcome"].dropna().unique() if "outcome" in data.columns else []
        outcome = str(values[0]) if len(values) == 1 else "pooled effect"
    counts = {}
    for col in ("n_treated", "n_control"):
        n = pd.to_numeric(data[col], errors="coerce") if col in data.columns else None
        counts[col] = float(n.sum()) if n is not None and n.notna().all() else np.nan
    h2 = fit.pop("h2")
    return MetaAnalysisResult(
        outcome=str(outcome),
        method=method,
        test=test,
        conf_level=conf_level,
        q_df=len(y) - 1,
        h2=h2,
        studies=studies,
        leave_one_out=loo,
        **counts,
        **fit,
    )


_LOO_COLUMNS = (
    "omitted",
    "estimate",
    "std_error",
    "p_value",
    "conf_low",
    "conf_high",
    "tau2",
    "i2",
    "q",
    "pi_low",
    "pi_high",
)
