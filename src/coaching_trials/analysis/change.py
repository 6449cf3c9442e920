"""Change from baseline: difference in mean change between arms, and percent change of means."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from coaching_trials._errors import EstimationError, one_of
from coaching_trials._results import ResultMixin, effects_frame
from coaching_trials._vocab import renamed
from coaching_trials.analysis._common import (
    INTERVAL_FIELDS,
    arm_contrast,
    check_conf_level,
    headline_row,
    html_with_tables,
    label,
    normal_interval,
    prepare_two_arm,
    require_variation,
    summary_with_tables,
    t_headline,
    t_interval,
    t_test,
    two_sample_t,
)

__all__ = ["ChangeScoreResult", "PercentChangeResult", "change_score", "percent_change"]

_METHODS = ("pooled", "welch")
_CI = ("delta", "bootstrap")


@dataclass(frozen=True, eq=False, repr=False)
class ChangeScoreResult(ResultMixin):
    """Result of :func:`change_score`.

    Attributes
    ----------
    estimate, std_error, df, statistic, p_value, conf_low, conf_high : float
        Difference in mean change (``outcome - baseline``), treated minus control.
    method : str
        ``"pooled"`` (Student t) or ``"welch"``.
    within : pandas.DataFrame
        One row per arm: ``arm, n, mean_baseline, mean_outcome, mean_change, sd_change,
        std_error, df, statistic, p_value, conf_low, conf_high`` (one-sample t on the change).
        Within-arm change is not a randomized comparison.
    audit : pandas.DataFrame
        Rows excluded, with the reason.
    """

    outcome: str
    baseline: str
    arm: str
    treated: Any
    control: Any
    method: str
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
    within: pd.DataFrame
    audit: pd.DataFrame

    _title: ClassVar[str] = "Change from baseline: difference in mean change"

    def summary(self, digits: int = 3) -> str:
        return summary_with_tables(
            self, digits, [(f"Mean change within each arm ({self.conf_level:.0%} CI)", self.within)]
        )

    def _repr_html_(self) -> str:
        return html_with_tables(
            self, [(f"Mean change within each arm ({self.conf_level:.0%} CI)", self.within)]
        )

    def to_frame(self) -> pd.DataFrame:
        """The difference in mean change as one row of the effects table."""
        test = "pooled-variance t" if self.method == "pooled" else "Welch t"
        return effects_frame(
            [
                headline_row(
                    self,
                    outcome=self.outcome,
                    analysis="change_score",
                    contrast=arm_contrast(self.treated, self.control),
                    estimand=(
                        f"randomized: {label(self.treated)} vs {label(self.control)}, mean change "
                        f"in {self.outcome} from {self.baseline} ({test})"
                    ),
                )
            ]
        )


def change_score(
    data: pd.DataFrame,
    *,
    outcome: str,
    baseline: str,
    arm: str,
    treated: Any,
    method: str = "pooled",
    conf_level: float = 0.95,
) -> ChangeScoreResult:
    r"""Difference between arms in mean change from baseline.

    The change ``outcome - baseline`` is compared between arms with a two-sample t test:
    ``method="pooled"`` uses the pooled variance and :math:`n_t + n_c - 2` df;
    ``method="welch"`` uses :math:`\sqrt{s_t^2/n_t + s_c^2/n_c}` and the Welch-Satterthwaite df.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant.
    outcome, baseline, arm : str
        Columns of the follow-up score, the baseline score and the arm.
    treated : object
        Label of the treated arm; exactly two arms must be present.
    method : {"pooled", "welch"}
        Variance assumption of the t test.
    conf_level : float
        Confidence level of the intervals.

    Returns
    -------
    ChangeScoreResult
        Headline attributes, ``within`` (mean change per arm with a one-sample t interval),
        ``audit`` and ``to_frame()``.

    Notes
    -----
    Rows missing the arm, outcome or baseline are excluded and counted in ``result.audit``.
    ANCOVA (:func:`coaching_trials.ancova`) is the more efficient primary analysis; the change
    score is reported as a secondary analysis. Validated against R ``t.test`` (``var.equal =
    TRUE`` and ``FALSE``, two-sample and one-sample) to 1e-6 (``tests/reference/analysis/``).

    Examples
    --------
    >>> import pandas as pd
    >>> import coaching_trials as ct
    >>> df = pd.DataFrame({
    ...     "arm": ["immediate"] * 3 + ["delayed"] * 3,
    ...     "base": [2.0, 3.0, 2.5, 2.0, 3.0, 2.5],
    ...     "follow": [1.0, 2.5, 1.5, 2.0, 3.5, 2.5],
    ... })
    >>> res = ct.change_score(df, outcome="follow", baseline="base", arm="arm",
    ...                       treated="immediate")
    >>> round(res.estimate, 3), res.df
    (-1.0, 4.0)
    >>> res.within[["arm", "n", "mean_change"]]
             arm  n  mean_change
    0  immediate  3    -0.833333
    1    delayed  3     0.166667
    """
    conf_level = check_conf_level(conf_level)
    if method not in _METHODS:
        raise one_of("method", method, _METHODS)
    sample = prepare_two_arm(
        data,
        arm=arm,
        treated=treated,
        variables=[(outcome, "outcome", True), (baseline, "baseline", True)],
        step="change_score",
        min_per_arm=2,
    )
    frame = sample.values
    change = (frame[outcome] - frame[baseline]).to_numpy()
    require_variation(frame[outcome], column=outcome, role="outcome", step="change_score")
    require_variation(change, column=f"{outcome} - {baseline}", role="change", step="change_score")
    groups = [sample.treat == 1.0, sample.treat == 0.0]
    n = np.array([g.sum() for g in groups], dtype=float)
    mean = np.array([change[g].mean() for g in groups])
    sd = np.array([change[g].std(ddof=1) for g in groups])
    diff, se, df = two_sample_t(mean, sd, n, method=method)

    w_se = sd / np.sqrt(n)
    w_stat, w_p = t_test(mean, w_se, n - 1)
    w_low, w_high = t_interval(mean, w_se, n - 1, conf_level)
    within = pd.DataFrame(
        {
            "arm": [sample.treated, sample.control],
            "n": n.astype("int64"),
            "mean_baseline": [frame[baseline].to_numpy()[g].mean() for g in groups],
            "mean_outcome": [frame[outcome].to_numpy()[g].mean() for g in groups],
            "mean_change": mean,
            "sd_change": sd,
            "std_error": w_se,
            "df": n - 1,
            "statistic": w_stat,
            "p_value": w_p,
            "conf_low": w_low,
            "conf_high": w_high,
        }
    )
    return ChangeScoreResult(
        outcome=outcome,
        baseline=baseline,
        arm=arm,
        **sample.result_fields(),
        method=method,
        **t_headline(diff, se, df, conf_level),
        conf_level=conf_level,
        within=within,
    )


@dataclass(frozen=True, eq=False, repr=False)
class PercentChangeResult(ResultMixin):
    """Result of :func:`percent_change` (descriptive).

    Attributes
    ----------
    estimate, std_error, conf_low, conf_high : float
        Difference in percent change, treated minus control, in percentage points.
    per_arm : pandas.DataFrame
        One row per arm: ``arm, n, mean_baseline, mean_outcome, percent_change, std_error,
        conf_low, conf_high``.
    ci : str
        ``"delta"`` or ``"bootstrap"``.
    rows : pandas.Index
        Labels of the paired complete rows used.
    audit : pandas.DataFrame
        Rows excluded, with the reason.
    """

    outcome: str
    baseline: str
    arm: str
    treated: Any
    control: Any
    ci: str
    estimate: float
    std_error: float
    conf_low: float
    conf_high: float
    conf_level: float
    n_treated: int
    n_control: int
    n_boot: int | None
    per_arm: pd.DataFrame
    rows: pd.Index
    audit: pd.DataFrame

    _title: ClassVar[str] = "Percent change of arm means (descriptive)"

    def summary(self, digits: int = 3) -> str:
        return summary_with_tables(self, digits, [("Arm means and percent change", self.per_arm)])

    def _repr_html_(self) -> str:
        return html_with_tables(self, [("Arm means and percent change", self.per_arm)])

    def to_frame(self) -> pd.DataFrame:
        """The difference in percent change as one row of the effects table."""
        return effects_frame(
            [
                headline_row(
                    self,
                    fields=INTERVAL_FIELDS,
                    outcome=self.outcome,
                    analysis="percent_change",
                    contrast=arm_contrast(self.treated, self.control),
                    estimand=(
                        f"descriptive: difference in percent change of mean {self.outcome} from "
                        f"mean {self.baseline}, {label(self.treated)} vs {label(self.control)} "
                        f"({self.ci} CI)"
                    ),
                )
            ]
        )


@renamed(ci="ci_method")
def percent_change(
    data: pd.DataFrame,
    *,
    outcome: str,
    baseline: str,
    arm: str,
    treated: Any = None,
    ci_method: str = "delta",
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = None,
    conf_level: float = 0.95,
) -> PercentChangeResult:
    r"""Percent change of each arm's mean from baseline, and its difference between arms.

    For each arm, on the participants with both scores,
    :math:`100\,(\bar y_{follow} - \bar y_{base}) / \bar y_{base}`; the result also reports the
    difference treated minus control (percentage points). This is a descriptive summary (as in
    Dyrbye et al. 2019); the randomized comparison is :func:`coaching_trials.ancova`.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant.
    outcome, baseline, arm : str
        Columns of the follow-up score, the baseline score and the arm.
    treated : object, optional
        Label of the arm listed first and taken as "treated" in the difference. Defaults to the
        first arm label in sorted order (independent of row order); exactly two arms must be
        present.
    ci_method : {"delta", "bootstrap"}
        ``"delta"``: normal interval with the delta-method variance of the ratio of the two
        (correlated) means,
        :math:`\operatorname{Var}(r) \approx [s_f^2 - 2 r s_{fb} + r^2 s_b^2] / (n \bar y_b^2)`
        with :math:`r = \bar y_f / \bar y_b`; the difference uses the sum of the arms'
        variances. ``"bootstrap"``: percentile interval of ``n_boot`` resamples of participants
        drawn within arm (vectorized; the standard error is the SD of the resamples).
    n_boot : int
        Number of bootstrap resamples.
    seed : int, numpy.random.Generator or None
        Seed for the bootstrap; pass one for reproducible intervals.
    conf_level : float
        Confidence level of the intervals.

    Returns
    -------
    PercentChangeResult

    Notes
    -----
    Rows missing the arm, outcome or baseline are excluded (``result.audit``); ``result.rows``
    lists the rows used. The ratio is unstable when the baseline mean is near zero; a baseline
    mean of exactly zero raises ``ValueError``.

    The delta-method interval is validated against the same formula written out in R on two data
    sets, one with dropout (``tests/reference/analysis/golden_percent.csv``, 1e-6); the
    bootstrap interval is checked for reproducibility by seed and closeness to the delta
    interval.

    Examples
    --------
    >>> import pandas as pd
    >>> import coaching_trials as ct
    >>> df = pd.DataFrame({
    ...     "arm": ["immediate"] * 3 + ["delayed"] * 3,
    ...     "base": [2.0, 3.0, 2.5, 2.0, 3.0, 2.5],
    ...     "follow": [1.0, 2.5, 1.5, 2.0, 3.5, 2.5],
    ... })
    >>> res = ct.percent_change(df, outcome="follow", baseline="base", arm="arm",
    ...                         treated="immediate")
    >>> res.per_arm[["arm", "percent_change"]].round(2)
             arm  percent_change
    0  immediate          -33.33
    1    delayed            6.67
    """
    conf_level = check_conf_level(conf_level)
    if ci_method not in _CI:
        raise one_of("ci_method", ci_method, _CI)
    if ci_method == "bootstrap" and (
        isinstance(n_boot, bool) or not isinstance(n_boot, Integral) or n_boot < 100
    ):
        raise ValueError(f"`n_boot` must be an integer >= 100; got {n_boot!r}.")
    if treated is None and arm in getattr(data, "columns", ()):
        arms = sorted(pd.unique(data[arm].dropna()), key=str)
        treated = arms[0] if arms else None
    sample = prepare_two_arm(
        data,
        arm=arm,
        treated=treated,
        variables=[(outcome, "outcome", True), (baseline, "baseline", True)],
        step="percent_change",
        min_per_arm=2,
    )
    groups = [sample.treat == 1.0, sample.treat == 0.0]
    base_all = sample.values[baseline].to_numpy()
    follow_all = sample.values[outcome].to_numpy()
    require_variation(follow_all, column=outcome, role="outcome", step="percent_change")
    stats_rows = []
    boot = []
    rng = np.random.default_rng(seed) if ci_method == "bootstrap" else None
    for lab, g in zip((sample.treated, sample.control), groups, strict=True):
        b, f = base_all[g], follow_all[g]
        n = b.size
        mb, mf = b.mean(), f.mean()
        if mb == 0:
            raise EstimationError(
                f"The mean of '{baseline}' in arm {lab!r} is 0; percent change is undefined."
            )
        ratio = mf / mb
        if ci_method == "delta":
            cov = np.cov(f, b, ddof=1)
            var = (cov[0, 0] - 2 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / (n * mb**2)
            se = 100 * np.sqrt(var)
        else:
            idx = rng.integers(0, n, size=(n_boot, n))
            mbb = b[idx].mean(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                draws = 100 * (f[idx].mean(axis=1) - mbb) / mbb
            boot.append(draws)
            se = float(np.std(draws, ddof=1))
        stats_rows.append(
            {
                "arm": lab,
                "n": n,
                "mean_baseline": mb,
                "mean_outcome": mf,
                "percent_change": 100 * (ratio - 1),
                "std_error": float(se),
            }
        )
    per_arm = pd.DataFrame(stats_rows)
    pc = per_arm["percent_change"].to_numpy()
    se = per_arm["std_error"].to_numpy()
    estimate = float(pc[0] - pc[1])
    alpha = 1 - conf_level
    if ci_method == "delta":
        low, high = normal_interval(pc, se, conf_level)
        d_se = float(np.sqrt(np.sum(se**2)))
        d_low, d_high = normal_interval(estimate, d_se, conf_level)
    else:
        qs = [alpha / 2, 1 - alpha / 2]
        arm_q = np.array([np.quantile(b, qs) for b in boot])
        low, high = arm_q[:, 0], arm_q[:, 1]
        diff_draws = boot[0] - boot[1]
        d_se = float(np.std(diff_draws, ddof=1))
        d_low, d_high = np.quantile(diff_draws, qs)
    per_arm["conf_low"] = low
    per_arm["conf_high"] = high
    return PercentChangeResult(
        outcome=outcome,
        baseline=baseline,
        arm=arm,
        **sample.result_fields(),
        ci=ci_method,
        estimate=estimate,
        std_error=d_se,
        conf_low=float(d_low),
        conf_high=float(d_high),
        conf_level=conf_level,
        n_boot=n_boot if ci_method == "bootstrap" else None,
        per_arm=per_arm,
        rows=sample.values.index,
    )
