"""Text that reaches a spreadsheet is neutralised against formulas.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel, LibreOffice and Google Sheets when a CSV or XLSX file is opened (OWASP's
"CSV injection"). Every string cell (and column name) written by the package to CSV, TSV or
Excel that starts with one of them gets a leading apostrophe, which spreadsheets show as text.
Strings that are plain numbers (``"-0.25"``) are left alone; numbers are never changed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["FORMULA_START", "neutralize", "neutralize_frame"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is a string a spreadsheet would run.

    Examples
    --------
    >>> neutralize('=HYPERLINK("http://x", "y")')
    '\\'=HYPERLINK("http://x", "y")'
    >>> neutralize("-0.25"), neutralize(-3), neutralize("immediate")
    ('-0.25', -3, 'immediate')
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def neutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose string cells, index labels and column names are neutralised."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if (
            s.dtype == object
            or pd.api.types.is_string_dtype(s)
            or isinstance(s.dtype, pd.CategoricalDtype)
        ):
            out[col] = s.astype(object).map(neutralize)
    out.columns = [neutralize(c) if isinstance(c, str) else c for c in out.columns]
    if out.index.dtype == object:
        out.index = out.index.map(neutralize)
    return out
