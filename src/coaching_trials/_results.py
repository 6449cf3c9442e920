"""The fixed effects-table schema and the behaviour every result object shares.

Every comparison from any estimator is a row of one tidy table whose column names never
change (see ``DESIGN.md``). The confidence level is metadata, never part of a column name.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

EFFECT_COLUMNS: tuple[str, ...] = (
    "outcome",
    "analysis",
    "contrast",
    "wave",
    "estimate",
    "std_error",
    "df",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
    "conf_level",
    "n_treated",
    "n_control",
    "estimand",
    "p_adjusted",
)

_TEXT_COLUMNS = ("outcome", "analysis", "contrast", "wave", "estimand")


def effects_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build an effects table with exactly the fixed columns, in order; missing ones are NaN."""
    rows = list(rows)
    unknown = {k for r in rows for k in r} - set(EFFECT_COLUMNS)
    if unknown:
        raise ValueError(
            f"Unknown effects-table columns {sorted(unknown)}; allowed: {EFFECT_COLUMNS}"
        )
    frame = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    for col in EFFECT_COLUMNS:
        if col in _TEXT_COLUMNS:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        else:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


_COUNT_COLUMNS = ("n", "n_treated", "n_control", "n_rows", "n_items", "n_excluded", "m")
_P_COLUMNS = ("p_value", "p_adjusted")


def _format_p(value: float, digits: int) -> str:
    if pd.isna(value):
        return "NaN"
    floor = 10.0**-digits
    return f"<{floor:.{digits}f}" if value < floor else f"{value:.{digits}f}"


def _format_count(value: float) -> str:
    return "NaN" if pd.isna(value) else f"{value:.0f}"


def format_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """Plain-text rendering used by ``summary()`` and ``__repr__``.

    Counts print as whole numbers, p-values below ``10**-digits`` as ``<0.001`` (for
    ``digits=3``), the confidence level as given and other numbers with ``digits`` decimals.
    The underlying table (``to_frame()``) keeps full precision.

    Examples
    --------
    >>> frame = pd.DataFrame({"estimate": [0.12345], "p_value": [2e-5], "n_treated": [61.0],
    ...                       "conf_level": [0.95]})
    >>> print(format_table(frame))
     estimate p_value n_treated conf_level
        0.123  <0.001        61       0.95
    """
    formatters: dict[str, object] = {}
    for column in frame.columns:
        if not pd.api.types.is_float_dtype(frame[column]):
            continue
        if column in _COUNT_COLUMNS:
            formatters[column] = _format_count
        elif column in _P_COLUMNS:
            formatters[column] = lambda x, d=digits: _format_p(x, d)
        elif column == "conf_level":
            formatters[column] = lambda x: "NaN" if pd.isna(x) else f"{x:g}"
    with pd.option_context("display.width", 120, "display.max_columns", 30):
        return frame.to_string(
            index=False, formatters=formatters, float_format=lambda x: f"{x:.{digits}f}"
        )


def _copy_on_write() -> bool:
    if int(pd.__version__.split(".")[0]) >= 3:
        return True  # always on; reading the option would raise a deprecation warning
    return bool(getattr(pd.options.mode, "copy_on_write", False) is True)


class FrameCopies:
    """Mixin for frozen result dataclasses: table attributes are handed out as copies.

    ``dataclass(frozen=True)`` stops rebinding an attribute but not ``result.table.loc[...] =``
    or ``result.table.drop(..., inplace=True)``, which would silently change what
    ``to_frame()``, ``summary()`` and later calls report. Every public DataFrame or Series
    attribute is therefore returned as a copy: under pandas copy-on-write (always on from
    pandas 3) a shallow copy that costs nothing until written to, otherwise a deep copy.
    Methods of the class read the same copies, so a result never changes after it is built.
    """

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if name[:1] != "_" and isinstance(value, (pd.DataFrame, pd.Series)):
            return value.copy(deep=not _copy_on_write())
        return value


class ResultMixin(FrameCopies):
    """Shared rendering for frozen result dataclasses.

    Subclasses implement ``to_frame()`` (and may override ``_title``). Table attributes are
    handed out as copies (see :class:`FrameCopies`), so a result never changes after it is built.
    """

    __slots__ = ()

    _title: str = "Result"

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def summary(self, digits: int = 3) -> str:
        frame = self.to_frame()
        keep = [c for c in frame.columns if not frame[c].isna().all()]
        return f"{self._title}\n{format_table(frame[keep], digits)}"

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        keep = [c for c in frame.columns if not frame[c].isna().all()]
        body = frame[keep].to_html(index=False, float_format=lambda x: f"{x:.3f}", na_rep="")
        return f"<div><strong>{html.escape(self._title)}</strong>{body}</div>"
