"""Participant ids are text, exactly as written, and are matched exactly.

``"007"`` and ``"7"`` are two different ids; so are ``"p01"`` and ``"P01"``. Because such
pairs are almost always one person written two ways, :func:`check_ids` reports them as an
error (listing every pair) instead of guessing which spelling is right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from coaching_trials._errors import ProblemLog, format_values

__all__ = ["ID_NAMES", "check_ids", "id_collisions", "ids_as_text", "is_id_column"]

#: column names (compared case-insensitively) read as ids; so is any name ending in "_id"
ID_NAMES = frozenset(
    {
        "id",
        "pid",
        "participant",
        "participant_id",
        "record_id",
        "subject",
        "subject_id",
        "study_id",
        "externalreference",
        "external_reference",
        "externaldatareference",
        "responseid",
        "response_id",
    }
)


def is_id_column(name: Any) -> bool:
    """True for the column names read as ids by default (see :data:`ID_NAMES`)."""
    text = str(name).strip().lower()
    return text in ID_NAMES or text.endswith("_id")


def _number_text(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


def ids_as_text(series: pd.Series) -> pd.Series:
    """An id column as text: numbers without a trailing ``.0``, text unchanged, blank -> NA.

    Text is kept exactly as written (no trimming, no case change). Numbers stored as numbers
    (Excel, SPSS, Stata, Parquet) are written out in full (``8800007.0`` -> ``"8800007"``):
    zeros the source already dropped cannot be recovered.

    Examples
    --------
    >>> ids_as_text(pd.Series([7.0, 8800007.0, None])).tolist()
    ['7', '8800007', nan]
    >>> ids_as_text(pd.Series(["007", " 7", ""])).tolist()
    ['007', ' 7', nan]
    """
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(
        series.dtype
    ):
        text = series.astype("str")
    elif pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_object_dtype(series.dtype):
        text = pd.Series(
            [_number_text(v) for v in series.tolist()], index=series.index, dtype="str"
        )
    else:
        text = series.astype("str")
    return text.where(text.str.strip().ne("").fillna(False))


def _key(values: pd.Series) -> np.ndarray:
    """The comparison key: trimmed, case-folded, leading zeros of every number removed."""
    arr = pa.array(values.astype("str").array)
    text = pc.utf8_lower(pc.utf8_trim_whitespace(arr))
    # zeros that start a run of digits (at the start or after a non-digit), not the last digit
    keyed = pc.replace_substring_regex(text, r"(^|[^0-9])0+([0-9])", r"\1\2")
    return keyed.to_numpy(zero_copy_only=False)


def _as_text(values: Sequence[Any] | pd.Series) -> pd.Series:
    if isinstance(values, pd.Series):
        series = values
    elif isinstance(values, (list, tuple)):
        series = pd.Series(list(values), dtype="object")
    else:  # numpy or pandas array: keep its dtype (text stays text, vectorised below)
        series = pd.Series(values)
    series = series.reset_index(drop=True)
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(
        series.dtype
    ):
        return series.astype("str")
    return series.map(_number_text).astype("str")


def _kind(a: str, b: str) -> str:
    """How two ids with the same key differ: whitespace, leading zeros and/or case."""
    sa, sb = a.strip(), b.strip()
    kinds = []
    if sa != a or sb != b:
        kinds.append("whitespace")
    if sa.casefold() != sb.casefold():
        kinds.append("leading zeros")
    za, zb = (re.sub(r"(?<!\d)0+(?=\d)", "", x) for x in (sa, sb))
    if za != zb:
        kinds.append("case")
    return " and ".join(kinds) or "whitespace"


def id_collisions(
    ids: Sequence[Any] | pd.Series,
    other: Sequence[Any] | pd.Series | None = None,
    *,
    names: tuple[str, str] = ("responses", "participants"),
) -> pd.DataFrame:
    """Pairs of distinct ids that differ only by leading zeros, case or whitespace.

    Parameters
    ----------
    ids : sequence or Series
        Ids of one file (e.g. the responses).
    other : sequence or Series, optional
        Ids of a second file (e.g. the participants table); pairs within either file and
        across the two are reported.
    names : (str, str)
        What to call the two sources in the table.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``source``, ``other_id``, ``other_source``, ``differs_by``; one row per
        pair, empty when every id is unambiguous.

    Examples
    --------
    >>> id_collisions(["007", "7", "P01", "p01", "P02"])
        id    source other_id other_source differs_by
    0  007 responses        7    responses  leading zeros
    1  P01 responses      p01    responses       case
    """
    cols = ["id", "source", "other_id", "other_source", "differs_by"]
    frames = [pd.DataFrame({"id": _as_text(ids), "source": names[0]})]
    if other is not None:
        frames.append(pd.DataFrame({"id": _as_text(other), "source": names[1]}))
    both = pd.concat(frames, ignore_index=True)
    both = both[both["id"].notna()]
    both = both.drop_duplicates()
    # an id present in both files is one id, listed once (under the first source)
    both = both.drop_duplicates(subset="id")
    both["key"] = _key(both["id"])
    clash = both[both.duplicated("key", keep=False)]
    rows = []
    for _key_value, group in clash.groupby("key", sort=True):
        members = list(group.itertuples(index=False))
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                rows.append(
                    {
                        "id": a.id,
                        "source": a.source,
                        "other_id": b.id,
                        "other_source": b.source,
                        "differs_by": _kind(str(a.id), str(b.id)),
                    }
                )
    return pd.DataFrame(rows, columns=cols)


def check_ids(
    ids: Sequence[Any] | pd.Series,
    other: Sequence[Any] | pd.Series | None = None,
    *,
    column: str = "participant_id",
    names: tuple[str, str] = ("responses", "participants"),
    log: ProblemLog | None = None,
) -> None:
    """Raise (or log) one error listing id pairs that differ only by zeros, case or spaces.

    Parameters
    ----------
    ids, other, names
        As for :func:`id_collisions`.
    column : str
        The id column's name, for the message.
    log : ProblemLog, optional
        Add the problem (check ``id_collision``) to this log instead of raising.

    Raises
    ------
    DataValidationError
        When any pair is found and no ``log`` is given.

    Examples
    --------
    >>> check_ids(["P001", "P002"], ["P001", "P002", "P003"])  # fine: nothing raised
    >>> check_ids(["007", "P01"], ["7", "P01"])
    Traceback (most recent call last):
    ...
    coaching_trials._errors.DataValidationError: 1 problem(s) found in ids: ...
    """
    pairs = id_collisions(ids, other, names=names)
    own = log if log is not None else ProblemLog("ids")
    if len(pairs):
        shown = [
            f"{r.id!r} ({r.source}) ~ {r.other_id!r} ({r.other_source}): {r.differs_by}"
            for r in pairs.itertuples(index=False)
        ]
        own.add(
            "id_collision",
            f"column {column!r}: {len(pairs)} pair(s) of ids differ only by leading zeros, case "
            f"or whitespace: {format_values(shown, limit=10)}; ids are matched exactly as "
            "written, so each pair counts as two people. Write each id one way in every file.",
            column=column,
            values=shown,
            expected="ids written one way",
        )
    if log is None:
        own.raise_if_any()
