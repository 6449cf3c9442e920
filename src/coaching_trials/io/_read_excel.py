"""Excel workbooks: one sheet read cell by cell as text; the sheet holding the table and the
header row found when not given."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import FileFormatError, format_values
from coaching_trials.io import _sniff


def _excel_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return ""
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (pd.Timestamp, datetime.datetime)):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def _has_table(grid: pd.DataFrame) -> bool:
    filled = (grid.map(_excel_cell).map(str.strip) != "").sum(axis=1)
    return int((filled >= 2).sum()) >= 2


def _read_excel_table(
    path: Path, sheet_name: str | int | None, skiprows: int | None, kwargs: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read one sheet with every cell as text; find the sheet and the header row if not given."""
    try:
        book = pd.ExcelFile(path, engine=kwargs.pop("engine", "openpyxl"))
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise FileFormatError(
            f"{str(path)!r} could not be opened as an Excel workbook ({type(exc).__name__}: "
            f"{exc}). Pass format= if it is not Excel."
        ) from exc
    names = list(book.sheet_names)
    report: dict[str, Any] = {"sheets": names}
    opts = {"header": None, "dtype": object, "keep_default_na": False, "na_filter": False}
    with book:
        if sheet_name is not None:
            if isinstance(sheet_name, int) and not 0 <= sheet_name < len(names):
                raise FileFormatError(
                    f"{str(path)!r} has {len(names)} sheet(s) {format_values(names, 10)}; "
                    f"sheet_name={sheet_name} is out of range."
                )
            if isinstance(sheet_name, str) and sheet_name not in names:
                raise FileFormatError(
                    f"{str(path)!r} has no sheet {sheet_name!r}; its sheets are "
                    f"{format_values(names, 10)}. Pass sheet_name= with one of them."
                )
            chosen = sheet_name if isinstance(sheet_name, str) else names[sheet_name]
            grid = pd.read_excel(book, sheet_name=chosen, **opts, **kwargs)
        else:
            chosen, grid, skipped = None, None, []
            for name in names:
                candidate = pd.read_excel(book, sheet_name=name, **opts, **kwargs)
                if _has_table(candidate):
                    chosen, grid = name, candidate
                    break
                skipped.append(name)
            if grid is None:
                raise FileFormatError(
                    f"{str(path)!r}: no sheet holds a table (a header and at least one row of "
                    f"two or more cells); sheets: {format_values(names, 10)}. Pass sheet_name=."
                )
            if skipped:
                report["sheet_note"] = (
                    f"sheet {chosen!r} read; {format_values(skipped)} skipped (no table); "
                    "pass sheet_name= to override"
                )
    report["sheet_name"] = chosen
    text = grid.map(_excel_cell) if len(grid) else grid
    rows = text.to_numpy().tolist()
    if skiprows is None:
        header_at = _sniff.find_header(rows)
        if header_at:
            above = [" ".join(c for c in r if c.strip())[:40] for r in rows[:header_at]]
            report["header_note"] = (
                f"{header_at} row(s) above the header skipped (title or merged group "
                f"headings: {format_values(above, 3)}); pass skiprows= to override"
            )
    else:
        header_at = int(skiprows)
    report["skiprows"] = header_at
    if header_at >= len(rows):
        raise FileFormatError(f"{str(path)!r}, sheet {chosen!r}: no header row; pass skiprows=.")
    header = [c.strip() or f"Unnamed: {i}" for i, c in enumerate(rows[header_at])]
    seen: dict[str, int] = {}
    for i, name in enumerate(header):  # de-duplicate as pandas does: x, x.1, x.2
        if name in seen:
            seen[name] += 1
            header[i] = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
    body = pd.DataFrame(rows[header_at + 1 :], columns=header, dtype="str")
    if body.empty:
        body = pd.DataFrame({c: pd.Series([], dtype="str") for c in header})
    return body, report
