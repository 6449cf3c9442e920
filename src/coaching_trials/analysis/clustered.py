"""Mixed-model ANCOVA for group or coach-clustered coaching trials (partially nested designs).

In a group-coaching trial the coached participants meet in small groups (or share a coach)
while the wait-list arm is not grouped before the endpoint: the design is *partially nested*.
:func:`clustered_ancova` fits the follow-up score on arm and baseline by REML with a random
intercept for the coaching group in the coached arm only (or in both arms), and reports the
arm effect with Satterthwaite or Kenward-Roger degrees of freedom, the variance components,
the intra-cluster correlation and the design effect.

The covariance matrix is block diagonal, ``V_g = s2_e I + s2_u J`` for a group of size ``m``
(``s2_u = 0`` for a wait-list singleton), so every quantity (``V^-1``, ``log|V|``, traces and
the derivatives needed for the degrees of freedom) is computed in closed form per block from
block sums; no ``n x n`` matrix is formed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from coaching_trials._errors import (
    ConvergenceWarning,
    DataValidationError,
    EstimationError,
    ProblemLog,
    format_values,
    one_of,
)
from coaching_trials._results import ResultMixin, effects_frame
from coaching_trials.analysis import _fit_checks
from coaching_trials.analysis._clustered_engine import (
    BlockModel,
    State,
    df_and_vcov,
    diagnose,
    reml,
)
from coaching_trials.analysis._common import (
    TwoArmSample,
    arm_contrast,
    arm_levels,
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
)

__all__ = ["ClusteredAncovaResult", "clustered_ancova"]

DF_METHODS = ("satterthwaite", "kenward_roger")
KR_INFORMATION = ("observed", "expected")
_STEP = "clustered_ancova"
_NO_CLUSTER = "(no cluster: own singleton)"


# ----------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False, repr=False)
class ClusteredAncovaResult(ResultMixin):
    """Result of :func:`clustered_ancova`.

    Attributes
    ----------
    estimate, std_error, df, statistic, p_value, conf_low, conf_high : float
        The baseline-adjusted difference ``treated - control`` in the follow-up outcome from the
        mixed model. With ``df_method="kenward_roger"`` the standard error is the
        Kenward-Roger adjusted one.
    conf_level : float
        Confidence level of every interval in the result.
    n_treated, n_control : int
        Participants analysed per arm.
    n_clusters : int
        Analysed clusters that carry a random effect (coached-arm groups when partially nested;
        groups of both arms otherwise).
    mean_cluster_size : float
        Mean size of those clusters.
    icc : float
        Intra-cluster correlation in the treated arm, ``s2_u / (s2_u + s2_e,treated)``.
    design_effect : float
        ``1 + (m_w - 1) * icc`` with ``m_w = sum(m_g^2) / sum(m_g)`` over the treated-arm
        clusters (Eldridge et al. 2006: ``m_w = (1 + cv^2) * mean size``); the variance
        inflation of the treated-arm mean relative to unclustered participants.
    variance_components : pandas.DataFrame
        ``component, arm, variance, std_dev``: the random group intercept and the residual
        variance(s).
    cluster_sizes : pandas.DataFrame
        ``arm, cluster, n``: one row per analysed cluster with a random effect.
    coefficients : pandas.DataFrame
        One row per fixed effect: ``term, estimate, std_error, df, statistic, p_value,
        conf_low, conf_high``.
    log_likelihood : float
        REML log-likelihood (same constants as ``logLik`` of ``nlme::lme`` and ``lme4::lmer``).
    boundary : bool
        Whether the group variance was estimated at its lower bound 0 (then the model reduces to
        a (weighted) least-squares ANCOVA and the df treat it as fixed).
    converged : bool
        Whether the fit passed every convergence and boundary check: the REML optimiser met
        its tolerance, the observed information of the free variance parameters is positive
        definite and no residual variance is (numerically) zero. When False the df,
        statistics, p-values and confidence limits are NaN (estimates and standard errors are
        kept), ``note`` says why, ``audit`` records it and a ``ConvergenceWarning`` is issued.
        A group variance of 0 (``boundary``) alone does not withhold inference.
    audit : pandas.DataFrame
        Rows excluded, with the reason, and how the clusters were formed
        (``step, reason, n_rows, detail``).
    note : str
        Why inference was withheld (empty when ``converged``).
    kr_information : {"observed", "expected"}
        Information matrix behind the Kenward-Roger df and standard errors.
    """

    outcome: str
    baseline: str
    arm: str
    cluster: str
    treated: Any
    control: Any
    covariates: tuple[str, ...]
    partially_nested: bool
    heteroscedastic: bool
    df_method: str
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
    n_clusters: int
    mean_cluster_size: float
    icc: float
    design_effect: float
    variance_components: pd.DataFrame
    cluster_sizes: pd.DataFrame
    coefficients: pd.DataFrame
    log_likelihood: float
    boundary: bool
    converged: bool
    audit: pd.DataFrame
    note: str = ""
    kr_information: str = "observed"

    _title: ClassVar[str] = "Mixed-model ANCOVA with a random coach/group effect"

    @property
    def contrast(self) -> str:
        return arm_contrast(self.treated, self.control)

    def _tables(self) -> list[tuple[str, pd.DataFrame]]:
        info = pd.DataFrame(
            {
                "n_clusters": [self.n_clusters],
                "mean_cluster_size": [self.mean_cluster_size],
                "icc": [self.icc],
                "design_effect": [self.design_effect],
                "df_method": [self.df_method],
                "boundary": [self.boundary],
            }
        )
        return [("Variance components (REML)", self.variance_components), ("Clustering", info)]

    def summary(self, digits: int = 3) -> str:
        text = summary_with_tables(self, digits, self._tables())
        return text if self.converged else f"{text}\nNote: {self.note}"

    def _repr_html_(self) -> str:
        return html_with_tables(self, self._tables())

    def to_frame(self) -> pd.DataFrame:
        """The headline contrast as one row of the effects table (``analysis="ancova_mixed"``)."""
        adjusted = ", ".join([self.baseline, *self.covariates])
        nesting = (
            "partially nested random coach/group effect"
            if self.partially_nested
            else "random coach/group effect in both arms"
        )
        return effects_frame(
            [
                headline_row(
                    self,
                    outcome=self.outcome,
                    analysis="ancova_mixed",
                    contrast=self.contrast,
                    estimand=(
                        f"randomized: {label(self.treated)} vs {label(self.control)}, "
                        f"{self.outcome} adjusted for {adjusted} ({nesting})"
                    ),
                )
            ]
        )


def _check_nesting(
    data: pd.DataFrame,
    *,
    arm: str,
    cluster: str,
    treated: Any,
    control: Any,
    partially_nested: bool,
) -> None:
    """Clusters must be nested in arms; partially nested: no cluster ids in the control arm."""
    log = ProblemLog(f"cluster column '{cluster}'")
    ids = data[cluster]
    in_control = (data[arm] == control).to_numpy() & ids.notna().to_numpy()
    if partially_nested and in_control.any():
        rows = list(data.index[in_control])
        log.add(
            "cluster_in_control_arm",
            f"cluster column '{cluster}' has ids in the control arm '{label(control)}' at "
            f"{len(rows)} row(s) {format_values(rows)}: {format_values(ids[in_control].tolist())}; "
            "with partially_nested=True only the treated (coached) arm is grouped, so expected "
            f"missing ids there. Blank them (e.g. df.loc[df['{arm}'] == {control!r}, "
            f"'{cluster}'] = pd.NA) if the wait-list arm was not grouped before the endpoint, "
            "or pass partially_nested=False if its participants also met in groups.",
            column=cluster,
            rows=rows,
            values=ids[in_control].tolist(),
            expected="missing in the control arm",
        )
    if not partially_nested:
        known = ids.notna().to_numpy() & data[arm].notna().to_numpy()
        arms_per = data.loc[known].groupby(ids[known], sort=True)[arm].nunique()
        spanning = list(arms_per.index[arms_per.to_numpy() > 1])
        if spanning:
            bad = known & ids.isin(spanning).to_numpy()
            rows = list(data.index[bad])
            log.add(
                "cluster_spans_arms",
                f"cluster(s) {format_values(spanning)} in column '{cluster}' contain participants "
                f"of both arms (rows {format_values(rows)}); expected every coach/group to be "
                "nested in one arm. For clusters that cross arms (site, clinic) adjust for them "
                "as covariates or use ancova(cluster=...) for cluster-robust errors.",
                column=cluster,
                rows=rows,
                values=spanning,
                expected="each cluster within one arm",
            )
    log.raise_if_any()


def _design(
    values: pd.DataFrame, treat: np.ndarray, baseline: str, covariates: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """Design matrix (intercept, arm, baseline, covariates; dummy coding against the first
    level for non-numeric covariates) and its term names."""
    blocks = [np.ones((treat.size, 1)), treat[:, None], values[[baseline]].to_numpy(float)]
    names = ["(Intercept)", "arm", baseline]
    for cov in covariates:
        col = values[cov]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            blocks.append(col.to_numpy(dtype="float64")[:, None])
            names.append(cov)
            continue
        for lv in covariate_levels(col)[1:]:
            blocks.append((col == lv).to_numpy(dtype="float64")[:, None])
            names.append(f"{cov}[{lv}]")
    return np.hstack(blocks), names


def _fail(check: str, column: str, message: str, values: Sequence[Any] = ()) -> DataValidationError:
    log = ProblemLog(column)
    log.add(check, message, column=column, values=list(values), expected="")
    return DataValidationError(message, log.to_frame())


# ----------------------------------------------------------------------------- public API
def _check_options(
    data: Any,
    *,
    outcome: str,
    arm: str,
    baseline: str,
    cluster: Any,
    covariates: Sequence[str],
    flags: dict[str, Any],
    df_method: str,
    kr_information: str,
) -> tuple[str, ...]:
    """Validate the options and columns; return the covariates as a tuple."""
    for name, flag in flags.items():
        if not isinstance(flag, bool):
            raise TypeError(f"`{name}` must be True or False; got {flag!r}.")
    if df_method not in DF_METHODS:
        raise one_of("df_method", df_method, DF_METHODS)
    if kr_information not in KR_INFORMATION:
        raise one_of("kr_information", kr_information, KR_INFORMATION)
    if isinstance(covariates, str):
        covariates = (covariates,)
    covariates = tuple(covariates)
    if not isinstance(cluster, str):
        raise TypeError(f"`cluster` must be a column name (str); got {cluster!r}.")
    check_frame(data, [])
    if cluster not in data.columns:
        raise ValueError(
            f"Cluster column '{cluster}' not found in `data`; clustered_ancova needs the "
            "coaching group or coach id of every coached participant. Available columns: "
            f"{format_values(list(data.columns), limit=20)}."
        )
    check_frame(data, [outcome, arm, baseline, *covariates])
    clash = {outcome, arm, baseline, *covariates} & {cluster}
    if clash or {arm, outcome, baseline} & set(covariates):
        raise ValueError(
            "`cluster` and `covariates` must not repeat the outcome, arm or baseline column "
            f"(or each other); got cluster={cluster!r}, covariates={list(covariates)}."
        )
    return covariates


def _sample(
    data: pd.DataFrame,
    outcome: str,
    arm: str,
    baseline: str,
    treated: Any,
    cluster: str,
    covariates: tuple[str, ...],
    partially_nested: bool,
) -> TwoArmSample:
    """The analysed rows (nesting checked; controls of a partially nested design kept)."""
    treated_label, control_label = arm_levels(data, arm, treated)
    _check_nesting(
        data,
        arm=arm,
        cluster=cluster,
        treated=treated_label,
        control=control_label,
        partially_nested=partially_nested,
    )
    # controls of a partially nested design have no id: mark them so they are not excluded
    ids = data[cluster].astype(object)
    if partially_nested:
        ids = ids.where(~(data[arm] == control_label).to_numpy(), _NO_CLUSTER)
    work = data.assign(**{cluster: ids})
    variables = [(outcome, "outcome", True), (baseline, "baseline", True)]
    for cov in covariates:
        col = data[cov]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        variables.append((cov, "covariate", numeric))
    variables.append((cluster, "cluster", False))
    return prepare_two_arm(
        work, arm=arm, treated=treated, variables=variables, step=_STEP, min_per_arm=2
    )


def _cluster_sizes(sample: TwoArmSample, cl: np.ndarray, clustered: np.ndarray) -> pd.DataFrame:
    sizes = pd.DataFrame(
        {
            "arm": np.where(
                sample.treat[clustered] == 1, label(sample.treated), label(sample.control)
            ),
            "cluster": cl[clustered],
        }
    )
    if not len(sizes):
        return pd.DataFrame({"arm": [], "cluster": [], "n": []})
    return sizes.groupby(["arm", "cluster"], sort=True).size().rename("n").reset_index()


def _blocks(
    sample: TwoArmSample,
    cluster: str,
    outcome: str,
    baseline: str,
    covariates: tuple[str, ...],
    heteroscedastic: bool,
) -> tuple[BlockModel, pd.DataFrame, list[str]]:
    """The block model (clusters with a random effect; control singletons when partially
    nested), the cluster sizes and the term names; refuses designs that cannot be fitted."""
    values, treat = sample.values, sample.treat
    cl = values[cluster].to_numpy(dtype=object)
    clustered = cl != _NO_CLUSTER
    keys = np.where(clustered, cl, np.arange(cl.size).astype(str))
    block_key = pd.Series(keys, dtype=object).map(str) + np.where(clustered, "|c", "|s")
    block, uniques = pd.factorize(block_key, sort=False)
    has_u = np.zeros(uniques.size, dtype=bool)
    has_u[block[clustered]] = True
    block_treated = np.zeros(uniques.size)
    block_treated[block] = treat

    cluster_sizes = _cluster_sizes(sample, cl, clustered)
    n_clusters = len(cluster_sizes)
    if n_clusters < 2:
        raise _fail(
            "too_few_clusters",
            cluster,
            f"{_STEP}: column '{cluster}' must identify at least 2 clusters among the analysed "
            f"participants of the clustered arm(s); got {n_clusters}. Use ancova() without "
            "`cluster` for an unclustered analysis.",
            cluster_sizes["cluster"].tolist(),
        )
    if int(cluster_sizes["n"].max()) < 2:
        raise _fail(
            "singleton_clusters",
            cluster,
            f"{_STEP}: every analysed cluster in column '{cluster}' has a single participant, "
            "so the group variance cannot be separated from the residual variance; expected "
            "at least one cluster with 2 or more participants.",
        )

    x, names = _design(values, treat, baseline, covariates)
    n, p = x.shape
    if n <= p + 2:
        raise EstimationError(
            f"{_STEP} needs more complete rows than model terms plus variance parameters; "
            f"got {n} rows for {p} terms."
        )
    if np.linalg.matrix_rank(x) < p:
        raise EstimationError(
            f"The design is not of full rank (terms {names}); a covariate is constant or "
            "collinear with the arm or baseline in the complete rows."
        )
    y = values[outcome].to_numpy(dtype="float64")
    require_variation(y, column=outcome, role="outcome", step=_STEP)
    kinds = ("u", "e1", "e0") if heteroscedastic else ("u", "e")
    return BlockModel(x, y, block, has_u, block_treated, kinds), cluster_sizes, names


def _fit(
    model: BlockModel, treat: np.ndarray, outcome: str, heteroscedastic: bool, names: list[str]
) -> tuple[State, bool, float]:
    """REML fit from OLS starting values (group variance 10% of the residual variance).

    Returns the state at the optimum, whether the optimiser converged and the OLS residual
    variance (the scale of the fit checks).
    """
    x, y = model.x, model.y
    n, p = x.shape
    beta_ols, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta_ols
    s2 = float(resid @ resid) / (n - p)
    if s2 <= 1e-24 * float(np.sum((y - y.mean()) ** 2)):
        raise EstimationError(
            f"{_STEP}: outcome '{outcome}' is fitted exactly by {names[1:]} (no residual "
            "variance); check that the outcome and baseline columns are not the same score."
        )
    if heteroscedastic:
        arm_s2 = [float(np.mean(resid[treat == v] ** 2)) * n / (n - p) for v in (1.0, 0.0)]
        theta0 = np.array([0.1 * s2, *(max(v, 1e-3 * s2) for v in arm_s2)])
    else:
        theta0 = np.array([0.1 * s2, s2])
    st, converged = reml(model, theta0)
    return st, converged, s2


def _variance_components(
    theta: np.ndarray,
    treated_txt: str,
    control_txt: str,
    partially_nested: bool,
    heteroscedastic: bool,
) -> pd.DataFrame:
    comp = [("cluster", treated_txt if partially_nested else "both", float(theta[0]))]
    if heteroscedastic:
        comp += [
            ("residual", treated_txt, float(theta[1])),
            ("residual", control_txt, float(theta[2])),
        ]
    else:
        comp += [("residual", "both", float(theta[1]))]
    table = pd.DataFrame(comp, columns=["component", "arm", "variance"])
    table["std_dev"] = np.sqrt(table["variance"])
    return table


def _audit(
    sample: TwoArmSample,
    diagnosis: _fit_checks.FitDiagnosis,
    cluster: str,
    n_clusters: int,
    partially_nested: bool,
) -> pd.DataFrame:
    """The sample's exclusions, the withheld inference and the partially nested note."""
    audit = sample.audit
    if not diagnosis.ok:
        audit = pd.concat(
            [audit, pd.DataFrame([_fit_checks.audit_entry(_STEP, diagnosis)])], ignore_index=True
        )
    if partially_nested:
        treated_txt, control_txt = label(sample.treated), label(sample.control)
        note = pd.DataFrame(
            {
                "step": [_STEP],
                "reason": [
                    f"partially nested: {control_txt} arm participants are their own "
                    "cluster (no random effect)"
                ],
                "n_rows": [sample.n_control],
                "detail": [
                    f"random '{cluster}' intercept in the {treated_txt} arm only; "
                    f"{n_clusters} clusters"
                ],
            }
        )
        audit = pd.concat([audit, note], ignore_index=True)
    return audit


def clustered_ancova(
    data: pd.DataFrame,
    *,
    outcome: str,
    arm: str,
    baseline: str,
    treated: Any,
    cluster: str,
    covariates: Sequence[str] = (),
    partially_nested: bool = True,
    heteroscedastic: bool = True,
    df_method: str = "satterthwaite",
    conf_level: float = 0.95,
    kr_information: str = "observed",
) -> ClusteredAncovaResult:
    r"""Baseline-adjusted ANCOVA with a random coach/group effect (linear mixed model, REML).

    Fits

    .. math:: y_{gi} = \beta_0 + \beta_1\,\text{treated}_{gi} + \beta_2\,\text{baseline}_{gi}
              + \gamma^\top z_{gi} + \text{treated}_{gi}\, u_g + \varepsilon_{gi},
              \qquad u_g \sim N(0, \sigma^2_u),\;
              \varepsilon_{gi} \sim N(0, \sigma^2_{e,\text{arm}})

    where ``g`` is the coaching group (or coach) of a coached participant. With
    ``partially_nested=True`` (the default) only the treated arm is clustered: each control
    participant is its own cluster with no random effect (Roberts & Roberts 2005; Candlish et
    al. 2018). With ``partially_nested=False`` both arms are grouped and every cluster has the
    random intercept. ``heteroscedastic=True`` gives each arm its own residual variance.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant with the follow-up score, the baseline score, the arm and the
        cluster id.
    outcome, arm, baseline : str
        Columns of the follow-up score, the arm label and the baseline score.
    treated : object
        Label of the treated (coached, clustered) arm in ``arm``; the other arm is the control.
    cluster : str
        Column of the coaching group / coach id. With ``partially_nested=True`` it must be
        missing in the control arm.
    covariates : sequence of str
        Further adjustment columns (numeric linearly; text, categorical and boolean ones
        dummy-coded against their first level).
    partially_nested : bool, default True
        Random group effect in the treated arm only (``True``) or in both arms (``False``).
    heteroscedastic : bool, default True
        Separate residual variances per arm.
    df_method : {"satterthwaite", "kenward_roger"}
        Degrees of freedom of the t tests and intervals. Kenward-Roger also inflates the
        standard errors for the estimated variance components.
    conf_level : float
        Confidence level of the intervals.
    kr_information : {"observed", "expected"}
        Information matrix of the variance parameters behind the Kenward-Roger df and
        adjusted standard errors: "observed" (default, as SAS PROC MIXED ``DDFM=KR`` and as
        :func:`coaching_trials.mmrm`) or "expected" (as R ``pbkrtest``). Ignored for
        Satterthwaite df, which always use the observed information (as lmerTest).

    Returns
    -------
    ClusteredAncovaResult
        Headline attributes, ``coefficients``, ``variance_components``, ``icc``,
        ``design_effect``, ``n_clusters``, ``cluster_sizes``, ``audit`` and ``to_frame()``.

    Raises
    ------
    TypeError
        ``data`` not a DataFrame, ``cluster`` not a column name, a flag not a bool.
    ValueError
        Absent columns (the cluster column is named), not exactly two arms, ``treated`` not an
        arm, a bad option, a design not of full rank, fewer than 2 clusters or no cluster with
        2 or more participants.
    DataValidationError
        Cluster ids in the control arm with ``partially_nested=True`` (the message says how to
        blank them or to switch to the fully nested model); a cluster containing participants of
        both arms; non-numeric or constant outcome; fewer than 2 complete rows in an arm.

    Notes
    -----
    Rows missing the arm, outcome, baseline, a covariate, or (in a clustered arm) the cluster id
    are excluded and counted in ``result.audit`` under the first missing variable. The REML
    deviance is minimised by Newton steps on the variance parameters with the analytic
    observed Hessian (Fisher scoring where it is not positive definite); the group variance is
    constrained to be >= 0 (``boundary=True`` and a warning when it is 0).

    Satterthwaite df use the observed information of the variance parameters, as lmerTest;
    Kenward-Roger df and adjusted standard errors follow Kenward & Roger (1997) with a linear
    covariance parameterization and the observed information (default, SAS's convention and
    the one :func:`coaching_trials.mmrm` uses) or the expected information
    (``kr_information="expected"``, pbkrtest's). On these models the two conventions differ by
    about 1 df at n of 100-200 (``tests/reference/kr_information``).

    A fit whose optimiser did not converge, whose observed information of the free variance
    parameters is not positive definite or whose residual variance is (numerically) zero
    reports NaN df, statistics, p-values and confidence limits, ``converged=False``, a
    ``note``, an ``audit`` row and a ``ConvergenceWarning``.

    Validated against R (``tests/reference/clustered/``): the homoscedastic models against
    ``lme4::lmer(y ~ arm + baseline + (0 + treat | cl))`` (partially nested; ``cl`` is the group
    id in the treated arm and the participant id otherwise) and ``(1 | group)`` (fully
    nested) with lmerTest (Satterthwaite) and pbkrtest (Kenward-Roger); the heteroscedastic
    models against ``nlme::lme(random = list(cl = pdDiag(~ 0 + treat)),
    weights = varIdent(form = ~ 1 | arm), method = "REML")`` for estimates, standard errors and
    variance components (nlme's own df are "containment" df, not reproduced here), with their
    Satterthwaite and Kenward-Roger df from a dense-matrix R implementation that reproduces
    lmerTest and pbkrtest on the lmer fits.

    References
    ----------
    Roberts C, Roberts SA. Design and analysis of clinical trials with clustering effects due
    to treatment. Clin Trials 2005;2:152-62.
    Candlish J, et al. Appropriate statistical methods for analysing partially nested randomised
    controlled trials with continuous outcomes: a simulation study. BMC Med Res Methodol
    2018;18:105.
    Kenward MG, Roger JH. Small sample inference for fixed effects from restricted maximum
    likelihood. Biometrics 1997;53:983-97.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from coaching_trials.analysis.clustered import clustered_ancova
    >>> rng = np.random.default_rng(1)
    >>> groups = np.repeat([f"G{g}" for g in range(8)], 4)
    >>> df = pd.DataFrame({
    ...     "arm": ["coached"] * 32 + ["waitlist"] * 32,
    ...     "group": list(groups) + [None] * 32,
    ...     "base": rng.normal(2, 0.8, 64).round(2),
    ... })
    >>> effect = np.r_[rng.normal(0, 0.4, 8)[np.arange(32) // 4], np.zeros(32)]
    >>> df["follow"] = (0.6 * df["base"] - 0.5 * (df["arm"] == "coached") + effect
    ...                 + rng.normal(0, 0.5, 64)).round(2)
    >>> res = clustered_ancova(df, outcome="follow", arm="arm", baseline="base",
    ...                        treated="coached", cluster="group")
    >>> res.n_clusters, res.n_treated, res.n_control
    (8, 32, 32)
    >>> res.to_frame()[["analysis", "contrast"]]
           analysis            contrast
    0  ancova_mixed  coached - waitlist
    >>> bool(res.conf_low < res.estimate < res.conf_high)
    True
    """
    conf_level = check_conf_level(conf_level)
    covariates = _check_options(
        data,
        outcome=outcome,
        arm=arm,
        baseline=baseline,
        cluster=cluster,
        covariates=covariates,
        flags={"partially_nested": partially_nested, "heteroscedastic": heteroscedastic},
        df_method=df_method,
        kr_information=kr_information,
    )
    sample = _sample(data, outcome, arm, baseline, treated, cluster, covariates, partially_nested)
    treat = sample.treat
    model, cluster_sizes, names = _blocks(
        sample, cluster, outcome, baseline, covariates, heteroscedastic
    )
    n, p = model.x.shape
    st, optimiser_converged, s2 = _fit(model, treat, outcome, heteroscedastic, names)
    boundary = bool(st.theta[0] <= 0.0)
    if boundary:
        warnings.warn(
            f"{_STEP}: the variance of the random '{cluster}' effect was estimated as 0 "
            "(boundary fit): no clustering beyond the residual variation was detected and the "
            "model reduces to a (weighted) least-squares ANCOVA.",
            ConvergenceWarning,
            stacklevel=2,
        )
    free = np.ones(len(model.kinds), dtype=bool)
    free[0] = not boundary
    treated_txt, control_txt = label(sample.treated), label(sample.control)
    residual_labels = (
        [f"residual variance ({treated_txt})", f"residual variance ({control_txt})"]
        if heteroscedastic
        else ["residual variance"]
    )
    diagnosis = diagnose(model, st, free, optimiser_converged, s2, residual_labels)
    _fit_checks.warn_withheld(_STEP, diagnosis, stacklevel=3)

    se, df = df_and_vcov(
        model, st, np.eye(p), method=df_method, free=free, information=kr_information
    )
    names[1] = f"{arm}[{treated_txt}]"
    if not diagnosis.ok:
        df = np.full(p, np.nan)
    coefficients = coefficient_table(names, st.beta, se, df, conf_level)
    if not diagnosis.ok:
        coefficients["statistic"] = np.nan

    variance_components = _variance_components(
        st.theta, treated_txt, control_txt, partially_nested, heteroscedastic
    )
    s2_u, s2_treated = float(st.theta[0]), float(st.theta[1])
    icc = s2_u / (s2_u + s2_treated)
    m_treated = cluster_sizes.loc[cluster_sizes["arm"] == treated_txt, "n"].to_numpy(float)
    m_w = float(np.sum(m_treated**2) / np.sum(m_treated)) if m_treated.size else 1.0
    design_effect = 1.0 + (m_w - 1.0) * icc
    audit = _audit(sample, diagnosis, cluster, len(cluster_sizes), partially_nested)

    return ClusteredAncovaResult(
        outcome=outcome,
        baseline=baseline,
        arm=arm,
        cluster=cluster,
        **{**sample.result_fields(), "audit": audit},
        covariates=covariates,
        partially_nested=partially_nested,
        heteroscedastic=heteroscedastic,
        df_method=df_method,
        estimate=float(st.beta[1]),
        std_error=float(se[1]),
        df=float(df[1]),
        statistic=float(coefficients.at[1, "statistic"]),
        p_value=float(coefficients.at[1, "p_value"]),
        conf_low=float(coefficients.at[1, "conf_low"]),
        conf_high=float(coefficients.at[1, "conf_high"]),
        conf_level=conf_level,
        n_clusters=len(cluster_sizes),
        mean_cluster_size=float(cluster_sizes["n"].mean()),
        icc=float(icc),
        design_effect=float(design_effect),
        variance_components=variance_components,
        cluster_sizes=cluster_sizes,
        coefficients=coefficients,
        log_likelihood=-0.5 * st.deviance,
        boundary=boundary,
        converged=diagnosis.ok,
        note=diagnosis.note,
        kr_information=kr_information,
    )
