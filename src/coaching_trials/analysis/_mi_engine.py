"""Engine of :func:`coaching_trials.analysis.imputation.multiple_imputation`.

The analysed rows (:func:`prepare`), the imputation of a follow-up/baseline pair per arm
(:func:`impute`), the batched ANCOVA of every completed data set and :func:`run`, which puts
them together into a :class:`MultipleImputationResult` (shared with the tipping-point
analysis, which needs the completed data as well as the result).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from coaching_trials._audit import audit_frame
from coaching_trials._errors import DataValidationError, format_values, one_of
from coaching_trials._parallel import check_executor, run_units
from coaching_trials._results import ResultMixin, effects_frame
from coaching_trials.analysis._common import (
    STAT_FIELDS,
    arm_contrast,
    check_conf_level,
    check_frame,
    check_int,
    covariate_levels,
    headline_row,
    label,
    numeric_values,
    prepare_two_arm,
)
from coaching_trials.analysis._impute_norm import impute_pair, least_squares
from coaching_trials.analysis._rubin import PooledEstimates, _readonly, pool_rubin

METHODS = ("norm", "pmm")
ANALYSES = ("ancova",)


# --------------------------------------------------------------------------- the data
@dataclass(frozen=True)
class Prepared:
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


def prepare(
    data: Any, *, outcome: str, baseline: str, arm: str, treated: Any, covariates: tuple[str, ...]
) -> Prepared:
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
    return Prepared(
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


def impute(
    prep: Prepared,
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


#: Imputations per unit of work: the blocks are fixed by ``m`` (never by the number of
#: workers), so results are the same serially and on any executor. The first block draws from
#: ``default_rng(seed)`` itself, so ``m <= IMPUTATION_BLOCK`` gives the draws of a single call.
IMPUTATION_BLOCK = 100


def impute_blocks(
    prep: Prepared,
    *,
    outcome: str,
    baseline: str,
    m: int,
    by_arm: bool,
    iterations: int,
    seed: Any,
    method: str,
    executor: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`impute` in blocks of :data:`IMPUTATION_BLOCK` imputations, each with its own
    random stream (the first: ``default_rng(seed)``; the others: children of its seed
    sequence), run serially or as one task per block on ``executor``."""
    executor = check_executor(executor)
    rng = np.random.default_rng(seed)
    sizes = [min(IMPUTATION_BLOCK, m - start) for start in range(0, m, IMPUTATION_BLOCK)]
    streams: list[Any] = [rng]
    if len(sizes) > 1:
        streams += list(rng.bit_generator.seed_seq.spawn(len(sizes) - 1))
    options = dict(
        outcome=outcome, baseline=baseline, by_arm=by_arm, iterations=iterations, method=method
    )
    units = [(prep, size, stream, options) for size, stream in zip(sizes, streams, strict=True)]
    blocks = run_units(_impute_block, units, executor=executor, desc="imputing")
    return (
        np.concatenate([y for y, _ in blocks], axis=0),
        np.concatenate([b for _, b in blocks], axis=0),
    )


def _impute_block(
    prep: Prepared, size: int, stream: Any, options: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    return impute(prep, m=size, rng=np.random.default_rng(stream), **options)


# --------------------------------------------------------------------------- analysis
def ancova_design(prep: Prepared, b: np.ndarray) -> np.ndarray:
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


def _prep_terms(prep: Prepared) -> str:
    return ", ".join(["baseline", *prep.z_names])


def ancova_stack(
    prep: Prepared, y: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """ANCOVA ``y ~ arm + baseline + covariates`` on every completed data set at once.

    ``y`` is ``(..., m, n)``; ``b`` is ``(n,)`` (shared, nothing imputed) or ``(m, n)``.
    Returns coefficients and their classical variances, ``(..., m, p)``, and ``n - p``.
    """
    fit = least_squares(ancova_design(prep, b), y)
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


def run(
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
    executor: Any = None,
) -> tuple[MultipleImputationResult, Prepared, np.ndarray, np.ndarray | None]:
    conf_level = check_conf_level(conf_level)
    m = check_int("m", m, 2)
    iterations = check_int("iterations", iterations, 1)
    if method not in METHODS:
        raise one_of("method", method, METHODS)
    if analysis not in ANALYSES:
        raise one_of("analysis", analysis, ANALYSES)
    if not isinstance(by_arm, (bool, np.bool_)):
        raise TypeError(f"`by_arm` must be True or False; got {by_arm!r}.")
    if isinstance(covariates, str):
        covariates = (covariates,)
    covariates = tuple(covariates)
    prep = prepare(
        data, outcome=outcome, baseline=baseline, arm=arm, treated=treated, covariates=covariates
    )
    y_imp, b_imp = impute_blocks(
        prep,
        outcome=outcome,
        baseline=baseline,
        m=m,
        by_arm=bool(by_arm),
        iterations=iterations,
        seed=seed,
        method=method,
        executor=executor,
    )
    b_design = prep.b if not np.isnan(prep.b).any() else b_imp
    beta, var, df_com = ancova_stack(prep, y_imp, b_design)
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
