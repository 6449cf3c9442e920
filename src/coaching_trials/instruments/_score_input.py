"""Input handling of the scoring engine: item responses checked, missing codes resolved.

:func:`item_arrays` turns the item columns of a frame into float arrays (declared missing codes
become NaN and are recorded), checks every response against the instrument's range and
reports every bad value at once; :func:`resolve_min_answered` turns the ``min_answered`` and
``prorate`` options into a per-subscale minimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import ProblemLog, format_values, one_of
from coaching_trials.instruments.items import item_name_hint
from coaching_trials.instruments.registry import Instrument
from coaching_trials.io.missing import (
    MissingCodes,
    convert_numbers,
    convert_text,
)


def resolve_min_answered(
    inst: Instrument, min_answered: int | Mapping[str, int] | None, prorate: bool
) -> dict[str, int]:
    subs = inst.subscales
    if not isinstance(prorate, (bool, np.bool_)):
        raise TypeError(f"`prorate` must be True or False, got {prorate!r}.")
    if not prorate:
        if min_answered is not None:
            raise ValueError(
                "`min_answered` has no effect when prorate=False (every item must be answered); "
                "pass one or the other."
            )
        return {sid: s.n_items for sid, s in subs.items()}
    if min_answered is None:
        return {sid: s.min_answered for sid, s in subs.items()}
    if isinstance(min_answered, Mapping):
        unknown = [k for k in min_answered if k not in subs]
        if unknown:
            raise one_of("min_answered key", unknown[0], tuple(subs))
        wanted = {sid: min_answered.get(sid, s.min_answered) for sid, s in subs.items()}
    else:
        wanted = {sid: min_answered for sid in subs}
    out: dict[str, int] = {}
    for sid, k in wanted.items():
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"`min_answered` must be an integer, got {k!r} for subscale {sid!r}.")
        n = subs[sid].n_items
        if not 1 <= int(k) <= n:
            hint = (
                "; pass a dict {subscale_id: k} to set it per subscale"
                if not isinstance(min_answered, Mapping)
                else ""
            )
            raise ValueError(
                f"`min_answered` for subscale {sid!r} must be between 1 and {n} (its number of "
                f"items), got {int(k)}{hint}."
            )
        out[sid] = int(k)
    return out


def _expected_text(inst: Instrument) -> str:
    kind = "integers" if inst.integer_responses else "numbers"
    lo, hi = inst.response_min, inst.response_max
    return f"{kind} {lo:g}-{hi:g} or missing"


def _log_bad_values(
    log: ProblemLog,
    check: str,
    col: str,
    what: str,
    values: np.ndarray | pd.Series,
    bad: np.ndarray,
    index: pd.Index,
    expected: str,
) -> None:
    """Add one problem for the entries of item column ``col`` where ``bad`` is true.

    The message counts them (``what`` says what they are, e.g. ``"non-integer value(s)"``) and
    names their rows and values; the problem carries them in full.
    """
    log.add(
        check,
        f"column {col!r}: {int(bad.sum())} {what} at rows "
        f"{format_values(index[bad])}: {format_values(values[bad])}; "
        f"expected {expected}",
        column=col,
        rows=index[bad].tolist(),
        values=values[bad].tolist(),
        expected=expected,
    )


def _check_values(
    arr: np.ndarray,
    ok: np.ndarray,
    col: str,
    inst: Instrument,
    index: pd.Index,
    log: ProblemLog,
) -> None:
    """Range and integer checks; a fast whole-column test first, masks only on failure."""
    lo, hi = float(inst.response_min), float(inst.response_max)
    expected = _expected_text(inst)
    smallest = np.fmin.reduce(arr)  # NaN-ignoring (NaN only if every value is NaN)
    largest = np.fmax.reduce(arr)
    outside = None
    if smallest < lo or largest > hi:
        outside = (arr < lo) | (arr > hi)
        _log_bad_values(
            log,
            "out_of_range",
            col,
            f"value(s) outside {lo:g}-{hi:g}",
            arr,
            outside,
            index,
            expected,
        )
    if not inst.integer_responses:
        return
    frac = np.floor(arr)
    with np.errstate(invalid="ignore"):  # inf - inf: already reported as out of range
        np.subtract(arr, frac, out=frac)
    if np.fmax.reduce(frac) > 0:
        bad = ok & (np.rint(arr) != arr)
        if outside is not None:
            bad &= ~outside
        if bad.any():
            _log_bad_values(
                log, "non_integer", col, "non-integer value(s)", arr, bad, index, expected
            )


def item_arrays(
    data: pd.DataFrame, inst: Instrument, validate: bool, codes: MissingCodes | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[tuple[str, Any, str, np.ndarray]]]:
    """float64 array and answered mask per item, and the cells a declared code made missing
    (column, token, reason, mask); every problem collected, then raised."""
    log = ProblemLog(f"the item columns of instrument {inst.id!r}")
    expected = _expected_text(inst)
    codes = codes if codes is not None else MissingCodes()
    columns = data.columns
    lower = {str(c).lower(): c for c in columns}
    arrays: dict[str, np.ndarray] = {}
    answered: dict[str, np.ndarray] = {}
    declared: list[tuple[str, Any, str, np.ndarray]] = []
    index = data.index
    absent = [c for c in inst.items if c not in columns]
    name_hint = item_name_hint(list(columns), list(inst.items), absent) if absent else ""

    for col in inst.items:
        if col not in columns:
            hint = lower.get(col.lower())
            extra = f" (a column {hint!r} exists: rename it)" if hint is not None else ""
            if name_hint and col == absent[0]:
                extra += f"; {name_hint}"
            log.add(
                "missing_column",
                f"column {col!r}: required item column of {inst.id!r} is missing{extra}",
                column=col,
                expected="column present",
            )
            continue
        series = data[col]
        if isinstance(series, pd.DataFrame):
            log.add(
                "duplicate_column",
                f"column {col!r} appears {series.shape[1]} times; expected once",
                column=col,
                expected="a unique column name",
            )
            continue
        dtype = series.dtype
        if pd.api.types.is_bool_dtype(dtype):
            log.add(
                "non_numeric",
                f"column {col!r}: boolean values are not item responses; expected {expected}",
                column=col,
                rows=index[series.notna().to_numpy()][:5].tolist(),
                values=series.dropna().unique()[:5].tolist(),
                expected=expected,
            )
            continue
        if pd.api.types.is_numeric_dtype(dtype):
            arr = np.ascontiguousarray(series.to_numpy(dtype="float64", na_value=np.nan))
            if codes.numbers:
                conv = convert_numbers(series, codes)
                if conv.declared:
                    arr = conv.values.to_numpy(dtype="float64", na_value=np.nan)
                    declared += [(col, t, r, m) for t, r, m in conv.declared]
        else:
            raw = series.astype(object) if isinstance(dtype, pd.CategoricalDtype) else series
            conv = convert_text(raw, codes, ".", keep_zero_padded=False)
            if conv.bad is not None:
                tokens = list(pd.unique(series[conv.bad].astype("str").str.strip()))
                _log_bad_values(
                    log,
                    "non_numeric",
                    col,
                    "non-numeric value(s)",
                    series,
                    conv.bad,
                    index,
                    f"{expected}; declare missing codes with missing_codes="
                    f"{{{tokens[0]!r}: 'not applicable'}} (or in the instrument) if they mean "
                    "missing",
                )
                continue
            declared += [(col, t, r, m) for t, r, m in conv.declared]
            arr = conv.values.to_numpy(dtype="float64", na_value=np.nan)
        ok = arr == arr  # False exactly where NaN (one pass, no temporary)
        if validate and len(arr):
            _check_values(arr, ok, col, inst, index, log)
        arrays[col] = arr
        answered[col] = ok
    log.raise_if_any()
    return arrays, answered, declared


def span(low: int, high: int) -> str:
    """``"3-5"`` for a range of item counts, ``"2"`` when it is a single count."""
    return str(low) if low == high else f"{low}-{high}"


def json_safe(labels: pd.Index) -> tuple[Any, ...]:
    values = labels.tolist()
    if labels.inferred_type in ("integer", "string", "floating", "boolean", "empty"):
        return tuple(values)
    return tuple(
        v if isinstance(v, (str, int, float, bool)) or v is None else str(v) for v in values
    )
