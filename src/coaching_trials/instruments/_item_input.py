"""Input handling of the reliability coefficients: item frames, missing responses, audit.

Shared by :func:`~coaching_trials.instruments.reliability.cronbach_alpha`,
:func:`~coaching_trials.instruments.reliability.mcdonald_omega` and
:func:`~coaching_trials.instruments.reliability.item_total`: the items are checked once here,
respondents excluded under ``nan_policy`` are counted, and the messages name the columns.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from coaching_trials._audit import audit_frame
from coaching_trials._errors import (
    DataValidationError,
    ProblemLog,
    format_values,
    one_of,
)

_NAN_POLICIES = ("listwise", "pairwise")


class NotEstimableError(ValueError):
    """The data do not allow the coefficient (too few respondents, no variance, ...)."""


class _Items(NamedTuple):
    values: np.ndarray  # (n, k) float, NaN for missing, rows kept for the analysis
    columns: tuple[str, ...]
    n_total: int  # rows supplied
    n_empty: int  # rows with no answered item (always excluded)
    n_incomplete: int  # rows with some but not all items (excluded only when listwise)
    nan_policy: str


def _check_policy(nan_policy: str) -> None:
    if nan_policy not in _NAN_POLICIES:
        raise one_of("nan_policy", nan_policy, _NAN_POLICIES)


def _check_conf_level(conf_level: float) -> float:
    if isinstance(conf_level, bool) or not isinstance(conf_level, (int, float, np.floating)):
        raise TypeError(f"`conf_level` must be a number in (0, 1); got {conf_level!r}.")
    if not 0.0 < float(conf_level) < 1.0:
        raise ValueError(f"`conf_level` must be in (0, 1), e.g. 0.95; got {conf_level!r}.")
    return float(conf_level)


def _as_frame(items: Any) -> pd.DataFrame:
    if isinstance(items, pd.DataFrame):
        return items
    if isinstance(items, np.ndarray):
        if items.ndim != 2:
            raise ValueError(
                f"`items` must be two-dimensional (respondents x items); got an array with "
                f"shape {items.shape}."
            )
        return pd.DataFrame(items, columns=[f"item_{j + 1}" for j in range(items.shape[1])])
    raise TypeError(
        "`items` must be a pandas DataFrame (one column per item, one row per respondent) or "
        f"a 2-D numpy array; got {type(items).__name__}."
    )


def _prepare(items: Any, nan_policy: str) -> _Items:
    """Validate an item frame and return its numeric values with excluded rows removed."""
    _check_policy(nan_policy)
    frame = _as_frame(items)
    columns = [str(c) for c in frame.columns]
    if frame.shape[1] < 2:
        raise ValueError(
            f"Reliability needs at least 2 item columns; got {frame.shape[1]} "
            f"({format_values(columns)})."
        )
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise ValueError(f"Item column names must be unique; duplicated: {duplicated}.")
    non_numeric = [
        str(c)
        for c in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
    ]
    if non_numeric:
        dtypes = {c: str(frame[c].dtype) for c in non_numeric}
        raise TypeError(
            f"Item columns must be numeric; non-numeric column(s) {non_numeric} with dtype(s) "
            f"{dtypes}. Convert the responses to numbers first."
        )
    values = frame.to_numpy(dtype="float64", na_value=np.nan)
    infinite = np.isinf(values)
    if infinite.any():
        log = ProblemLog("item responses")
        for j in np.flatnonzero(infinite.any(axis=0)):
            rows = frame.index[infinite[:, j]]
            log.add(
                "finite",
                f"column {columns[j]!r} has infinite value(s) in row(s) {format_values(rows)}; "
                "expected finite responses or NaN for a missing answer.",
                column=columns[j],
                rows=list(rows),
                values=list(values[infinite[:, j], j]),
                expected="finite number or NaN",
            )
        log.raise_if_any()
    observed = ~np.isnan(values)
    answered = observed.sum(axis=1)
    empty = answered == 0
    incomplete = (answered > 0) & (answered < values.shape[1])
    keep = ~empty & ~incomplete if nan_policy == "listwise" else ~empty
    return _Items(
        values=values[keep],
        columns=tuple(columns),
        n_total=len(frame),
        n_empty=int(empty.sum()),
        n_incomplete=int(incomplete.sum()),
        nan_policy=nan_policy,
    )


def _check_enough(prep: _Items, *, need_correlation: bool) -> None:
    """Raise when too few respondents remain, or (for correlations) an item has no variance."""
    n = prep.values.shape[0]
    if n < 2:
        raise NotEstimableError(
            f"Reliability needs at least 2 respondents with usable answers; {n} of "
            f"{prep.n_total} row(s) remain after nan_policy={prep.nan_policy!r} "
            f"({prep.n_empty} with no answers, {prep.n_incomplete} with some items missing)."
        )
    observed = ~np.isnan(prep.values)
    pairs = observed.T.astype(float) @ observed.astype(float)
    low = np.argwhere(np.triu(pairs < 2))
    if low.size:
        names = [
            f"{prep.columns[i]}" if i == j else f"{prep.columns[i]}/{prep.columns[j]}"
            for i, j in low
        ]
        raise NotEstimableError(
            "Fewer than 2 respondents answered the item(s) or item pair(s) "
            f"{format_values(names)}; their (co)variance cannot be estimated."
        )
    if need_correlation:
        flat = _zero_variance(prep)
        if flat:
            raise DataValidationError(
                f"Item(s) {flat} have zero variance, so their correlations with the other "
                "items are undefined; drop them before estimating omega.",
                _column_failures("zero_variance", flat, expected="variance > 0"),
            )


def _column_failures(check: str, columns: Sequence[str], *, expected: str) -> pd.DataFrame:
    """``failure_cases`` of a check that fails for whole columns (no rows or values to name)."""
    return pd.DataFrame(
        {
            "check": check,
            "column": columns,
            "rows": [[] for _ in columns],
            "values": [[] for _ in columns],
            "expected": expected,
            "n": 0,
        }
    )


def _zero_variance(prep: _Items) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        var = np.nanvar(prep.values, axis=0, ddof=1)
    return [prep.columns[j] for j in np.flatnonzero(~(var > 0))]


def _audit(prep: _Items, step: str) -> pd.DataFrame:
    entries = []
    if prep.n_empty:
        entries.append(
            {
                "step": step,
                "reason": "no item answered",
                "n_rows": prep.n_empty,
                "detail": "respondent excluded: all items missing",
            }
        )
    if prep.nan_policy == "listwise" and prep.n_incomplete:
        entries.append(
            {
                "step": step,
                "reason": "missing item response (listwise deletion)",
                "n_rows": prep.n_incomplete,
                "detail": "respondent excluded: at least one item missing",
            }
        )
    return audit_frame(entries)
