"""Shared helpers for the analysis layer: input checks, analysis samples, t and normal intervals.

Every public estimator in :mod:`coaching_trials.analysis` validates its input here so that the
error messages (column, rows, values, what was expected) and the audit of excluded rows look the
same everywhere.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from coaching_trials._audit import audit_frame
from coaching_trials._errors import DataValidationError, ProblemLog, format_values
from coaching_trials._results import ResultMixin, format_table

__all__ = [
    "INTERVAL_FIELDS",
    "STAT_FIELDS",
    "TEST_FIELDS",
    "TwoArmSample",
    "arm_contrast",
    "check_conf_level",
    "check_frame",
    "check_int",
    "covariate_levels",
    "critical_value",
    "headline_row",
    "normal_interval",
    "html_with_tables",
    "prepare_two_arm",
    "require_variation",
    "summary_with_tables",
    "t_headline",
    "t_interval",
    "t_test",
]

#: The t-test statistics of one contrast (as returned by :func:`t_headline`).
STAT_FIELDS: tuple[str, ...] = (
    "estimate",
    "std_error",
    "df",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
)

#: Headline attributes of a result with a t test, copied as they are into its effects row.
TEST_FIELDS: tuple[str, ...] = (*STAT_FIELDS, "conf_level", "n_treated", "n_control")

#: Headline attributes of a result with an interval but no test (``df``, ``statistic`` and
#: ``p_value`` are left NaN in its effects row).
INTERVAL_FIELDS: tuple[str, ...] = (
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "conf_level",
    "n_treated",
    "n_control",
)


def check_frame(data: Any, columns: Sequence[str | None], *, name: str = "data") -> None:
    """Raise ``TypeError`` if ``data`` is not a DataFrame and ``ValueError`` for absent columns."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`{name}` must be a pandas DataFrame; got {type(data).__name__}.")
    wanted = [c for c in columns if c is not None]
    missing = [c for c in dict.fromkeys(wanted) if c not in data.columns]
    if missing:
        raise DataValidationError(
            f"Column(s) {format_values(missing)} not found in `{name}`; "
            f"available columns: {format_values(list(data.columns), limit=20)}."
        )


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int, checked to be an integer (not a bool) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"`{name}` must be an integer >= {minimum}; got {value!r}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def check_conf_level(conf_level: Any) -> float:
    """Return ``conf_level`` as a float, raising if it is not a number strictly between 0 and 1."""
    if isinstance(conf_level, bool) or not isinstance(conf_level, Real):
        raise TypeError(f"`conf_level` must be a number between 0 and 1; got {conf_level!r}.")
    value = float(conf_level)
    if not 0.0 < value < 1.0:
        raise ValueError(f"`conf_level` must be strictly between 0 and 1; got {conf_level!r}.")
    return value


def critical_value(conf_level: float, df: Any = None) -> Any:
    """Two-sided critical value: ``t_{df, (1+conf_level)/2}``, or the normal one when ``df`` is
    None (the one place the package turns a confidence level into a quantile)."""
    tail = 0.5 + conf_level / 2.0
    return stats.norm.ppf(tail) if df is None else stats.t.ppf(tail, df)


def t_interval(
    estimate: Any, std_error: Any, df: Any, conf_level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided t interval ``estimate -/+ t_{df, (1+conf_level)/2} * std_error``.

    ``df=None`` gives the normal (Wald) interval. Every interval of the package that is an
    estimate plus or minus a quantile times a standard error is computed here.
    """
    q = critical_value(conf_level, df)
    return np.subtract(estimate, q * std_error), np.add(estimate, q * std_error)


def normal_interval(
    estimate: Any, std_error: Any, conf_level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided normal (Wald) interval: :func:`t_interval` with ``df=None``."""
    return t_interval(estimate, std_error, None, conf_level)


def t_test(estimate: Any, std_error: Any, df: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return the t statistic ``estimate / std_error`` and its two-sided p-value on ``df``
    (normal when ``df`` is None)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = np.divide(estimate, std_error)
    dist = stats.norm if df is None else stats.t(df)
    return statistic, 2.0 * dist.sf(np.abs(statistic))


def coefficient_table(
    names: Sequence[str], estimate: Any, std_error: Any, df: Any, conf_level: float
) -> pd.DataFrame:
    """Coefficient table ``term, estimate, std_error, df, statistic, p_value, conf_low,
    conf_high`` with t tests and two-sided t intervals (``df`` a scalar or one per term)."""
    statistic, p_value = t_test(estimate, std_error, df)
    low, high = t_interval(estimate, std_error, df, conf_level)
    return pd.DataFrame(
        {
            "term": list(names),
            "estimate": estimate,
            "std_error": std_error,
            "df": df,
            "statistic": statistic,
            "p_value": p_value,
            "conf_low": low,
            "conf_high": high,
        }
    )


def t_headline(estimate: Any, std_error: Any, df: Any, conf_level: float) -> dict[str, float]:
    """The headline t-test attributes of one contrast, as plain floats.

    Returns ``estimate, std_error, df, statistic, p_value, conf_low, conf_high`` computed with
    :func:`t_test` and :func:`t_interval`, ready to pass as keywords to a result dataclass.
    """
    statistic, p_value = t_test(estimate, std_error, df)
    low, high = t_interval(estimate, std_error, df, conf_level)
    return {
        "estimate": float(estimate),
        "std_error": float(std_error),
        "df": float(df),
        "statistic": float(statistic),
        "p_value": float(p_value),
        "conf_low": float(low),
        "conf_high": float(high),
    }


def headline_row(
    result: object, *, fields: Sequence[str] = TEST_FIELDS, **columns: Any
) -> dict[str, Any]:
    """One effects-table row: the attributes ``fields`` of ``result``, then ``columns``.

    ``fields`` is :data:`TEST_FIELDS` (default) or :data:`INTERVAL_FIELDS`; ``columns`` holds
    the row's own entries (``outcome``, ``analysis``, ``contrast``, ``estimand``, ...) and wins
    over an attribute of the same name. Pass the rows to
    :func:`coaching_trials._results.effects_frame`.
    """
    return {**{name: getattr(result, name) for name in fields}, **columns}


def arm_contrast(treated: Hashable, control: Hashable, sep: str = " - ") -> str:
    """Contrast name of two arms, e.g. ``"immediate - delayed"`` (``sep=" / "`` for ratios)."""
    return f"{label(treated)}{sep}{label(control)}"


def covariate_levels(column: pd.Series) -> list[Any]:
    """Levels of a non-numeric covariate, the reference level first.

    Categorical columns keep their category order (levels absent from ``column`` are dropped);
    other columns (text, boolean) are sorted by their text form. The model codes one dummy
    column per level after the first.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [lv for lv in column.cat.categories if (column == lv).any()]
    return sorted(pd.unique(column), key=str)


def numeric_values(data: pd.DataFrame, column: str, role: str) -> pd.Series:
    """Return ``data[column]`` as float, raising ``DataValidationError`` for non-numeric entries.

    Missing values stay missing (they are excluded and counted later); text that is not a number
    and infinite values are errors, reported with their row labels.
    """
    raw = data[column]
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64")
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = (values.isna() & raw.notna()) | np.isinf(values)
    if bad.any():
        log = ProblemLog(f"{role} column '{column}'")
        rows = list(data.index[bad.to_numpy()])
        log.add(
            "not_numeric",
            f"{role} column '{column}' has {len(rows)} non-numeric or infinite value(s) at rows "
            f"{format_values(rows)}: {format_values(raw[bad].tolist())}; expected finite numbers.",
            column=column,
            rows=rows,
            values=raw[bad].tolist(),
            expected="finite number",
        )
        log.raise_if_any()
    return values


def arm_levels(data: pd.DataFrame, arm: str, treated: Any) -> tuple[Any, Any]:
    """Return ``(treated, control)`` after checking the arm column has exactly two arms."""
    levels = pd.unique(data[arm].dropna())
    if len(levels) != 2:
        raise DataValidationError(
            f"Column '{arm}' must contain exactly two arms for a two-arm comparison; found "
            f"{len(levels)}: {format_values(sorted(map(str, levels)), limit=10)}. Subset the data "
            "to the two arms being compared."
        )
    matches = [lv for lv in levels if lv == treated]
    if not matches:
        raise DataValidationError(
            f"`treated` must be one of the arms in column '{arm}' "
            f"{format_values(list(levels))}; got {treated!r}."
        )
    control = next(lv for lv in levels if not lv == treated)
    return matches[0], control


@dataclass(frozen=True, eq=False)
class TwoArmSample:
    """The analysis sample of a two-arm comparison.

    Attributes
    ----------
    values : pandas.DataFrame
        The used rows of the requested columns (numeric ones as float), indexed like ``data``.
    treat : numpy.ndarray
        1.0 for the treated arm, 0.0 for the control arm, aligned with ``values``.
    treated, control : object
        The arm labels.
    audit : pandas.DataFrame
        Rows excluded, one line per reason (``step, reason, n_rows, detail``).
    """

    values: pd.DataFrame
    treat: np.ndarray
    treated: Any
    control: Any
    audit: pd.DataFrame

    @property
    def n_treated(self) -> int:
        return int(self.treat.sum())

    @property
    def n_control(self) -> int:
        return int(self.treat.size - self.treat.sum())

    def result_fields(self) -> dict[str, Any]:
        """``treated, control, n_treated, n_control, audit``: keywords for a result dataclass."""
        return {
            "treated": self.treated,
            "control": self.control,
            "n_treated": self.n_treated,
            "n_control": self.n_control,
            "audit": self.audit,
        }


def prepare_two_arm(
    data: Any,
    *,
    arm: str,
    treated: Any,
    variables: Sequence[tuple[str, str, bool]],
    step: str,
    min_per_arm: int = 1,
) -> TwoArmSample:
    """Validate ``data`` and build the complete-case sample of a two-arm comparison.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant.
    arm, treated : str, object
        The arm column and the label of the treated arm.
    variables : sequence of (column, role, numeric)
        Columns needed by the analysis in the order in which exclusions are attributed; ``role``
        (e.g. ``"outcome"``) names the reason in the audit; ``numeric`` says whether to coerce.
    step : str
        Name of the analysis, used in the audit table.
    min_per_arm : int
        Fewest complete rows each arm must keep.

    Notes
    -----
    A row missing several variables is counted once, under the first missing one in the order
    ``arm``, then ``variables``; the ``n_rows`` of the audit therefore add up to the number of
    excluded rows.
    """
    check_frame(data, [arm, *(v[0] for v in variables)])
    treated_label, control_label = arm_levels(data, arm, treated)
    columns: dict[str, pd.Series] = {}
    for column, role, numeric in variables:
        if column not in columns:
            columns[column] = numeric_values(data, column, role) if numeric else data[column]
    frame = pd.DataFrame(columns, index=data.index)

    keep = np.ones(len(data), dtype=bool)
    entries = []
    checks = [(arm, "arm", data[arm])] + [(c, r, frame[c]) for c, r, _ in variables]
    for column, role, series in checks:
        newly = keep & series.isna().to_numpy()
        if newly.any():
            rows = list(data.index[newly])
            entries.append(
                {
                    "step": step,
                    "reason": f"missing {role} '{column}'",
                    "n_rows": int(newly.sum()),
                    "detail": f"rows {format_values(rows)}",
                }
            )
            keep = keep & ~newly
    frame = frame.loc[keep]
    treat = (data[arm].to_numpy()[keep] == treated_label).astype("float64")
    counts = {treated_label: int(treat.sum()), control_label: int(treat.size - treat.sum())}
    short = {k: v for k, v in counts.items() if v < min_per_arm}
    if short:
        raise DataValidationError(
            f"{step}: each arm needs at least {min_per_arm} complete row(s) after excluding "
            f"missing values; complete rows per arm: {counts}.",
            pd.DataFrame(
                {
                    "check": "arm_too_small",
                    "column": arm,
                    "rows": [[]] * len(short),
                    "values": [[k] for k in short],
                    "expected": f">= {min_per_arm} complete rows",
                    "n": list(short.values()),
                }
            ),
        )
    return TwoArmSample(frame, treat, treated_label, control_label, audit_frame(entries))


def require_variation(values: Any, *, column: str, role: str, step: str) -> None:
    """Raise ``DataValidationError`` when ``values`` (the analysed rows) are all equal.

    A constant outcome (usually the wrong column, or a wave that was not filled in) has no
    variance to estimate from: t statistics become 0/0 or round-off, so it is an error rather
    than a table of NaN or of spurious p-values. Values equal up to round-off (range at most
    ``1000 * eps * max|value|``) count as constant.
    """
    arr = np.asarray(values, dtype="float64")
    if arr.size == 0:
        return
    # equal up to round-off (e.g. a follow-up that is the baseline plus a constant)
    scale = float(np.max(np.abs(arr)))
    if float(np.ptp(arr)) > 1e3 * np.finfo("float64").eps * scale:
        return
    message = (
        f"{step}: {role} '{column}' is constant ({arr[0]:g}) in all {arr.size} analysed rows; "
        "expected values that vary (check the column name and the wave)."
    )
    raise DataValidationError(
        message,
        pd.DataFrame(
            {
                "check": ["constant"],
                "column": [column],
                "rows": [[]],
                "values": [[float(arr[0])]],
                "expected": ["values that vary"],
                "n": [int(arr.size)],
            }
        ),
    )


def pooled_sd(sd: np.ndarray, n: np.ndarray) -> float:
    """Pooled standard deviation of groups with standard deviations ``sd`` and sizes ``n``."""
    sd, n = np.asarray(sd, dtype=float), np.asarray(n, dtype=float)
    return float(np.sqrt(np.sum((n - 1) * sd**2) / (np.sum(n) - sd.size)))


def two_sample_t(
    mean: Sequence[float],
    sd: Sequence[float],
    n: Sequence[float],
    *,
    method: str,
) -> tuple[float, float, float]:
    """Difference ``mean[0] - mean[1]``, its standard error and df (pooled or Welch)."""
    m, s, k = (np.asarray(x, dtype=float) for x in (mean, sd, n))
    diff = float(m[0] - m[1])
    if method == "pooled":
        se = pooled_sd(s, k) * float(np.sqrt(1 / k[0] + 1 / k[1]))
        df = float(k.sum() - 2)
    else:
        v = s**2 / k
        se = float(np.sqrt(v.sum()))
        df = float(v.sum() ** 2 / np.sum(v**2 / (k - 1)))
    return diff, se, df


def label(value: Hashable) -> str:
    """Text form of an arm label for contrast names."""
    return str(value)


def summary_with_tables(
    result: ResultMixin, digits: int, tables: Sequence[tuple[str, pd.DataFrame]]
) -> str:
    """``ResultMixin.summary`` followed by secondary tables (adjusted means, per-arm rows)."""
    parts = [ResultMixin.summary(result, digits)]
    parts += [f"\n{title}\n{format_table(frame, digits)}" for title, frame in tables]
    return "\n".join(parts)


def html_with_tables(result: ResultMixin, tables: Sequence[tuple[str, pd.DataFrame]]) -> str:
    """``ResultMixin._repr_html_`` followed by secondary tables, for Jupyter."""
    parts = [ResultMixin._repr_html_(result)]
    for title, frame in tables:
        body = frame.to_html(index=False, float_format=lambda x: f"{x:.3f}", na_rep="")
        parts.append(f"<div><em>{title}</em>{body}</div>")
    return "".join(parts)
