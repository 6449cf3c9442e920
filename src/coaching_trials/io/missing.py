"""The missing-value policy: cells are read as text, then converted under declared rules.

Readers never guess which text means "missing". The rules, in order, for each cell:

1. A blank cell (empty or only spaces) is missing, with the reason ``"blank"``.
2. A token declared in ``missing_codes`` (by the caller, the instrument, or an SPSS/Stata file's
   user-missing codes) is missing with the declared reason, and counted per token and reason
   in the audit. Text codes match the cell exactly (after trimming spaces); numeric codes
   (``99``, ``-9``, or text such as ``"99"``) match any cell holding that number (``99``,
   ``99.0``).
3. Any other cell must be a number in a column that holds numbers. Text such as ``"N/A"``,
   ``"NaN"`` or ``"refused"`` is never turned into a missing value by itself: in a column that
   must be numeric (item columns) it is an error naming the column, rows and value, with a
   hint to declare it; elsewhere the column stays text.

The cells converted under rule 2 are kept, per column and token, in ``frame.attrs["missing"]``
(a :class:`MissingRecords`), so that :func:`missingness` can report missing values by reason.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from coaching_trials._errors import ProblemLog, format_values

__all__ = [
    "BLANK",
    "MissingCodes",
    "MissingRecords",
    "apply_missing_policy",
    "missing_codes",
    "missingness",
]

_THREADED_ROWS = 50_000  # frames at least this long convert their columns on threads

#: reason of a missing cell that no declared code explains (empty cell, NaN, system-missing)
BLANK = "blank"


@dataclass(frozen=True)
class MissingCodes:
    """Declared missing-value codes: exact text tokens and numbers, each with its reason.

    Build one with :func:`missing_codes` from any number of mappings
    ``{token_or_number: reason}``.
    """

    text: Mapping[str, str] = field(default_factory=dict)
    numbers: Mapping[float, str] = field(default_factory=dict)
    labels: Mapping[Any, str] = field(default_factory=dict)  # number -> token as declared

    def __bool__(self) -> bool:
        return bool(self.text) or bool(self.numbers)

    def reason_of(self, token: Any) -> str | None:
        """The declared reason of a cell's text or number (None if not declared)."""
        if isinstance(token, str):
            key = token.strip()
            if key in self.text:
                return self.text[key]
            number = _as_number(key)
        else:
            number = token
        if number is not None and isinstance(number, Real) and not math.isnan(float(number)):
            return self.numbers.get(float(number))
        return None


def _as_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) else value


def missing_codes(*declarations: Mapping[Any, str] | MissingCodes | None) -> MissingCodes:
    """Merge declarations ``{token_or_number: reason}`` into one :class:`MissingCodes`.

    Parameters
    ----------
    *declarations : mapping or MissingCodes or None
        E.g. ``{"N/A": "not applicable", 99: "refused", -9: "not applicable"}``. Text keys
        that read as a number (``"99"``) are numeric codes too. ``None`` entries are skipped.

    Raises
    ------
    TypeError
        If a key is not text or a number, or a reason is not non-empty text.
    ValueError
        If a key is blank (blank is always missing) or one token is given two reasons.

    Examples
    --------
    >>> codes = missing_codes({"N/A": "not applicable", 99: "refused"})
    >>> codes.reason_of(" N/A"), codes.reason_of("99.0"), codes.reason_of(3)
    ('not applicable', 'refused', None)
    """
    text: dict[str, str] = {}
    numbers: dict[float, str] = {}
    labels: dict[Any, str] = {}
    for decl in declarations:
        if decl is None:
            continue
        if isinstance(decl, MissingCodes):
            pairs: Iterable[tuple[Any, str]] = [
                *decl.text.items(),
                *((decl.labels.get(k, k), v) for k, v in decl.numbers.items()),
            ]
        elif isinstance(decl, Mapping):
            pairs = decl.items()
        else:
            raise TypeError(
                "`missing_codes` must be a mapping {token_or_number: reason}, e.g. "
                f'{{"N/A": "not applicable", 99: "refused"}}; got {type(decl).__name__}.'
            )
        for key, reason in pairs:
            if not isinstance(reason, str) or not reason.strip():
                raise TypeError(
                    f"`missing_codes`: the reason for {key!r} must be non-empty text, "
                    f"got {reason!r}."
                )
            if isinstance(key, bool) or not isinstance(key, (str, Real)):
                raise TypeError(
                    f"`missing_codes`: keys must be text or numbers, got {key!r} "
                    f"({type(key).__name__})."
                )
            if isinstance(key, str):
                token = key.strip()
                if not token:
                    raise ValueError(
                        "`missing_codes`: a blank key cannot be declared; blank cells are "
                        "always missing (reason 'blank')."
                    )
                _put(text, token, reason, key)
                number = _as_number(token)
            else:
                number = float(key)
                if math.isnan(number):
                    raise ValueError("`missing_codes`: NaN cannot be a code.")
            if number is not None:
                _put(numbers, number, reason, key)
                labels.setdefault(number, key)
    return MissingCodes(text=text, numbers=numbers, labels=labels)


def _put(target: dict[Any, str], key: Any, reason: str, shown: Any) -> None:
    if key in target and target[key] != reason:
        raise ValueError(
            f"`missing_codes`: {shown!r} is declared with two reasons, "
            f"{target[key]!r} and {reason!r}."
        )
    target[key] = reason


class MissingRecords(tuple):
    """Cells made missing by a declared code: ``frame.attrs["missing"]``.

    An immutable sequence of dict records ``{column, token, reason, rows}`` (``rows``: the row
    labels). A tuple rather than a DataFrame so that pandas can copy and compare ``attrs``
    cheaply (see :class:`~coaching_trials.instruments.scoring.ScoreAudit`).
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> MissingRecords:
        return self

    def __copy__(self) -> MissingRecords:
        return self

    def to_frame(self) -> pd.DataFrame:
        """``column, token, reason, n, rows`` (one row per column and token)."""
        rows = [{**r, "n": len(r["rows"])} for r in self]
        return pd.DataFrame(rows, columns=["column", "token", "reason", "n", "rows"])

    def __repr__(self) -> str:
        frame = self.to_frame().drop(columns="rows")
        return "MissingRecords\n" + frame.to_string(index=False)


# --------------------------------------------------------------------------------------------
# one column
# --------------------------------------------------------------------------------------------


@dataclass
class _Column:
    values: pd.Series
    numeric: bool
    declared: list[tuple[Any, str, np.ndarray]]  # (token as declared, reason, mask)
    bad: np.ndarray | None = None  # undeclared non-numeric cells (column kept as text)
    leading_zeros: bool = False


def _to_text(series: pd.Series) -> pd.Series:
    if series.dtype == "str":
        return series
    return series.astype("str")


_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_INTEGER = r"^[+-]?[0-9]+$"


def _arrow(series: pd.Series) -> pa.Array:
    text = _to_text(series)
    arr = pa.array(text.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    return arr


def _mask(values: pa.Array) -> np.ndarray:
    return values.fill_null(False).to_numpy(zero_copy_only=False)


def _mask_true(values: pa.Array) -> np.ndarray:
    """A boolean mask with nulls counted as True (a null cell is blank)."""
    return values.fill_null(True).to_numpy(zero_copy_only=False)


def _cast(values: pa.Array, kind: pa.DataType) -> np.ndarray | None:
    try:
        return pc.cast(values, kind).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def convert_text(
    series: pd.Series, codes: MissingCodes, decimal: str = ".", *, keep_zero_padded: bool = True
) -> _Column:
    """Convert one text column under the policy (vectorised in Arrow; no loop over cells)."""
    arr = _arrow(series)
    stripped = pc.utf8_trim_whitespace(arr)
    blank = _mask_true(pc.equal(stripped, ""))
    declared: list[tuple[Any, str, np.ndarray]] = []
    taken = blank.copy()
    if codes.text:
        hit_arr = pc.is_in(stripped, value_set=pa.array(list(codes.text), pa.string()))
        hit = _mask(hit_arr)
        if hit.any():
            for token in pc.unique(pc.filter(stripped, hit_arr)).to_pylist():
                mask = _mask(pc.equal(stripped, token))
                declared.append((token, codes.text[token], mask))
            taken |= hit
    candidates = ~taken
    work = stripped
    if decimal != ".":
        work = pc.replace_substring(work, decimal, ".")
    if taken.any():
        work = pc.if_else(pa.array(candidates), work, pa.scalar(None, pa.string()))
    # Arrow's cast is fast when it succeeds but slow to fail: a sample decides whether to try
    sample = work.slice(0, 2000)
    looks_numeric = bool(
        pc.all(pc.match_substring_regex(sample, _NUMBER), skip_nulls=True).as_py() is not False
    )
    out_arr = None
    if looks_numeric:
        if (
            not taken.any()
            and pc.all(pc.match_substring_regex(sample, _INTEGER), skip_nulls=True).as_py()
            is not False
        ):
            out_arr = _cast(work, pa.int64())  # exact pandas semantics: "3" -> int64
        if out_arr is None:
            out_arr = _cast(work, pa.float64())  # taken cells are null -> NaN
        if out_arr is not None and not (np.isfinite(out_arr) | taken).all():
            out_arr = None  # "nan", "inf" ... are text, never numbers by themselves
    text = _to_text(series)
    if out_arr is None:
        valid = _mask(pc.match_substring_regex(work, _NUMBER))
        bad = candidates & ~valid  # includes the literal tokens "nan", "NaN", "inf", ...
        if bad.any():
            values = text.where(~taken)  # blank and declared cells -> missing, rest as written
            return _Column(values.astype("str"), False, declared, bad=bad)
        out_arr = _cast(work, pa.float64())
        if out_arr is None:  # pragma: no cover - the regex admits only what Arrow parses
            return _Column(text.where(~taken).astype("str"), False, declared, bad=candidates)
    arr_f = out_arr.astype("float64", copy=False)
    if codes.numbers:
        hit = candidates & np.isin(arr_f, list(codes.numbers))
        if hit.any():
            arr_f = arr_f.copy()
            for number in pd.unique(arr_f[hit]):
                declared.append(
                    (
                        codes.labels.get(number, number),
                        codes.numbers[number],
                        hit & (arr_f == number),
                    )
                )
            taken |= hit
            candidates &= ~hit
            arr_f[hit] = np.nan
    if keep_zero_padded and candidates.any():
        padded = _mask(pc.starts_with(stripped, "0")) & candidates
        if padded.any():
            lengths = pc.utf8_length(stripped).to_numpy(zero_copy_only=False)
            zero_lead = padded & (lengths > 1)
            if zero_lead.any():
                second = pc.utf8_slice_codeunits(pc.filter(stripped, pa.array(zero_lead)), 1, 2)
                if _mask(pc.match_substring_regex(second, "^[0-9]$")).any():
                    return _Column(text.where(~blank).astype("str"), False, [], leading_zeros=True)
    values = arr_f if taken.any() else out_arr  # NaN at every taken cell already
    return _Column(pd.Series(values, index=series.index, name=series.name), True, declared)


def convert_numbers(series: pd.Series, codes: MissingCodes) -> _Column:
    if not codes.numbers:
        return _Column(series, True, [])
    arr = series.to_numpy(dtype="float64", na_value=np.nan)
    hit = np.isin(arr, list(codes.numbers))
    if not hit.any():
        return _Column(series, True, [])
    declared = [
        (codes.labels.get(number, number), codes.numbers[number], arr == number)
        for number in pd.unique(arr[hit])
    ]
    out = pd.Series(arr, index=series.index, name=series.name)
    out[hit] = np.nan
    return _Column(out, True, declared)


def _is_texty(series: pd.Series) -> bool:
    dtype = series.dtype
    return pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)


# --------------------------------------------------------------------------------------------
# a frame
# --------------------------------------------------------------------------------------------


@dataclass
class PolicyOutcome:
    """What :func:`apply_missing_policy` did: the new frame, audit and missing records."""

    data: pd.DataFrame
    audit: list[dict[str, Any]]
    missing: list[dict[str, Any]]
    text_columns: dict[str, str]  # column kept as text -> why (numbers and other text)


def _hint(tokens: Sequence[Any]) -> str:
    example = ", ".join(f"{t!r}: '...'" for t in tokens[:2])
    return (
        f"declare them as missing with missing_codes={{{example}}} (e.g. 'not applicable', "
        "'refused'), or fix the cells"
    )


def apply_missing_policy(
    data: pd.DataFrame,
    codes: MissingCodes,
    *,
    columns: Sequence[Any] | None = None,
    numeric: Sequence[Any] = (),
    decimal: str = ".",
    step: str = "read",
    log: ProblemLog | None = None,
    column_codes: Mapping[Any, MissingCodes] | None = None,
) -> PolicyOutcome:
    """Convert ``columns`` of ``data`` (default all) under the missing-value policy.

    Text columns become numbers when every cell is blank, a declared code or a number; other
    text columns stay text (blank cells and declared codes made missing). Numeric columns
    only lose their declared numeric codes. Columns listed in ``numeric`` must end up numeric:
    any other token is added to ``log`` (check ``non_numeric``) naming column, rows and values
    with a hint to declare them. ``column_codes`` gives some columns their own codes (e.g. an
    SPSS file's user-missing codes), used instead of ``codes`` there. A new frame is returned;
    ``data`` is not modified.
    """
    column_codes = column_codes or {}
    columns = list(data.columns) if columns is None else list(columns)
    attrs = dict(data.attrs)
    data = data.copy(deep=False)
    data.attrs = {}  # pandas deep-copies attrs on every column access; none are needed here
    wanted = set(numeric)
    positions = {c: i for i, c in enumerate(data.columns)}
    new_cols: dict[int, pd.Series] = {}
    per_token: dict[tuple[Any, str], dict[str, Any]] = {}
    missing: list[dict[str, Any]] = []
    text_columns: dict[str, str] = {}
    index = data.index

    def convert(col: Any) -> tuple[pd.Series, _Column | None]:
        series = data.iloc[:, positions[col]]
        own = column_codes.get(col, codes)
        if pd.api.types.is_bool_dtype(series.dtype):
            return series, None
        if pd.api.types.is_numeric_dtype(series.dtype):
            return series, convert_numbers(series, own)
        if _is_texty(series):
            return series, convert_text(series, own, decimal)
        return series, None

    # Arrow's kernels release the GIL: large frames convert their columns on a few threads
    # (results are collected in column order, so the outcome does not depend on scheduling)
    if len(columns) > 1 and len(data) >= _THREADED_ROWS:
        with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
            converted = list(pool.map(convert, columns))
    else:
        converted = [convert(col) for col in columns]
    for col, (series, conv) in zip(columns, converted, strict=True):
        if conv is None:
            continue
        new_cols[positions[col]] = conv.values
        if not conv.numeric:
            if conv.bad is not None:
                tokens = list(pd.unique(series[conv.bad].astype("str").str.strip()))
                text_columns[str(col)] = f"non-numeric text {format_values(tokens)}"
                if col in wanted and log is not None:
                    rows = index[conv.bad]
                    log.add(
                        "non_numeric",
                        f"column {col!r}: {int(conv.bad.sum())} cell(s) with non-numeric text "
                        f"{format_values(tokens)} at rows {format_values(rows)}; expected "
                        f"numbers, blank or a declared missing code: {_hint(tokens)}",
                        column=str(col),
                        rows=rows,
                        values=tokens,
                        expected="numbers, blank or a declared missing code",
                    )
            elif conv.leading_zeros:
                text_columns[str(col)] = "numbers written with leading zeros (kept as written)"
        for token, reason, mask in conv.declared:
            rows = index[mask]
            missing.append(
                {"column": str(col), "token": token, "reason": reason, "rows": tuple(rows)}
            )
            entry = per_token.setdefault(
                (token, reason), {"cells": 0, "rows": np.zeros(len(index), bool), "cols": {}}
            )
            entry["cells"] += int(mask.sum())
            entry["rows"] |= mask
            entry["cols"][str(col)] = int(mask.sum())
    audit = []
    for (token, reason), entry in per_token.items():
        cols = entry["cols"]
        shown = ", ".join(f"{c} ({n})" for c, n in list(cols.items())[:6])
        if len(cols) > 6:
            shown += f", ... ({len(cols) - 6} more columns)"
        audit.append(
            {
                "step": step,
                "reason": f"declared missing: {reason}",
                "n_rows": int(entry["rows"].sum()),
                "detail": f"{entry['cells']} cell(s) {token!r} in {len(cols)} column(s): {shown}",
            }
        )
    if new_cols:
        parts = [new_cols.get(i, data.iloc[:, i]) for i in range(data.shape[1])]
        out = pd.concat(parts, axis=1) if parts else data.copy()
        out.columns = data.columns
        out.index = data.index
    else:
        out = data.copy()
    out.attrs = attrs
    return PolicyOutcome(out, audit, missing, text_columns)


def chain_missing(previous: Any, new: Sequence[Mapping[str, Any]]) -> MissingRecords:
    """Append ``new`` records to those already in ``attrs["missing"]``."""
    before = tuple(previous) if isinstance(previous, (tuple, list)) else ()
    return MissingRecords((*before, *new))


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def missingness(
    data: pd.DataFrame,
    *,
    columns: Sequence[Any] | None = None,
    wave: str | None = None,
) -> pd.DataFrame:
    """Missing values by column, wave and reason, as a tidy table.

    Parameters
    ----------
    data : pandas.DataFrame
        A frame from a reader (or :func:`~coaching_trials.score`), whose
        ``attrs["missing"]`` records which cells a declared code made missing.
    columns : sequence, optional
        Columns to report; default every column with at least one missing value.
    wave : str, optional
        A column to break the counts down by (e.g. ``"wave"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``wave`` (when given), ``reason``, ``n`` (missing cells),
        ``n_rows`` (rows of that column and wave) and ``percent``; one row per column, wave
        and reason that occurs. ``reason`` is a declared reason (``"refused"``) or ``"blank"``
        for an empty cell, NaN or system-missing value with no declared code.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from coaching_trials.io.readers import read_survey
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "w.csv"
    >>> _ = tmp.write_text("participant_id,wave,pfi_01\\nP1,baseline,N/A\\nP2,baseline,\\n"
    ...                    "P1,month3,99\\nP2,month3,3\\n")
    >>> df = read_survey(tmp, missing_codes={"N/A": "not applicable", 99: "refused"})
    >>> missingness(df, wave="wave")
       column      wave          reason  n  n_rows  percent
    0  pfi_01  baseline           blank  1       2     50.0
    1  pfi_01  baseline  not applicable  1       2     50.0
    2  pfi_01    month3         refused  1       2     50.0
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    if wave is not None and wave not in data.columns:
        raise ValueError(
            f"`wave`: column {wave!r} is not in the data; found "
            f"{format_values(data.columns, limit=8)}."
        )
    records = [r for r in data.attrs.get("missing", ()) if isinstance(r, Mapping)]
    by_column: dict[str, list[Mapping[str, Any]]] = {}
    for rec in records:
        by_column.setdefault(str(rec["column"]), []).append(rec)
    if columns is None:
        na_any = data.isna().any()
        columns = [c for c in data.columns if na_any[c] and c != wave]
    else:
        unknown = [c for c in columns if c not in data.columns]
        if unknown:
            raise ValueError(f"`columns`: {format_values(unknown)} not in the data.")
    out_cols = ["column", *(["wave"] if wave else []), "reason", "n", "n_rows", "percent"]
    pieces = []
    group = (
        data[wave].astype("object").where(data[wave].notna(), "(missing wave)") if wave else None
    )
    for col in columns:
        isna = data[col].isna().to_numpy()
        reason = np.full(len(data), None, dtype=object)
        reason[isna] = BLANK
        for rec in by_column.get(str(col), ()):
            pos = data.index.get_indexer(list(rec["rows"]))
            pos = pos[pos >= 0]
            pos = pos[isna[pos]]
            reason[pos] = rec["reason"]
        frame = pd.DataFrame({"reason": reason})
        if group is not None:
            frame.insert(0, "wave", group.to_numpy())
            totals = frame.groupby("wave", sort=False).size()
            counts = frame.dropna(subset=["reason"]).groupby(["wave", "reason"], sort=False)
            table = counts.size().rename("n").reset_index()
            table["n_rows"] = table["wave"].map(totals).to_numpy()
        else:
            table = frame.dropna().groupby("reason", sort=False).size().rename("n").reset_index()
            table["n_rows"] = len(data)
        table.insert(0, "column", str(col))
        pieces.append(table)
    if not pieces:
        return pd.DataFrame(columns=out_cols)
    result = pd.concat(pieces, ignore_index=True)
    keys = ["column", *(["wave"] if wave else []), "reason"]
    order = {c: i for i, c in enumerate(map(str, columns))}
    result = result.assign(_c=result["column"].map(order))
    if wave:
        waves = list(pd.unique(group))
        result = result.assign(_w=result["wave"].map({w: i for i, w in enumerate(waves)}))
        result = result.sort_values(["_c", "_w", "reason"], kind="stable").drop(columns="_w")
    else:
        result = result.sort_values(["_c", "reason"], kind="stable")
    result = result.drop(columns="_c").reset_index(drop=True)
    result["n"] = result["n"].astype("int64")
    result["n_rows"] = result["n_rows"].astype("int64")
    result["percent"] = 100.0 * result["n"] / result["n_rows"]
    return result[[*keys, "n", "n_rows", "percent"]]
