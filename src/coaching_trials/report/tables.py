"""Export tables to CSV, Excel, LaTeX and HTML with one call.

The text formats (CSV, LaTeX, HTML) are written byte-for-byte the same for the same table, so
exported files can be committed and compared.
"""

from __future__ import annotations

import html
import math
import re
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import one_of
from coaching_trials._safe_text import neutralize_frame
from coaching_trials._vocab import renamed

__all__ = ["export_table", "format_cell", "format_frame", "latex_table", "html_table"]

_FORMATS = {
    ".csv": "csv",
    ".xlsx": "excel",
    ".tex": "latex",
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
}


def _docx_table(frame: pd.DataFrame, path: Path, digits: int | None, caption: str | None) -> None:
    """A Word document holding the table (python-docx; cell text is written literally)."""
    try:
        import docx
        from docx.enum.text import WD_ALIGN_PARAGRAPH
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Writing .docx needs python-docx: pip install 'coaching-trials[docx]' "
            "(or pip install python-docx)."
        ) from exc
    cells = format_frame(frame, digits)
    keep = _keep_index(frame)
    numeric = [False] * frame.index.nlevels if keep else []
    if keep:
        cells = cells.reset_index()
    numeric += [_is_numeric_column(frame[c]) for c in frame.columns]
    document = docx.Document()
    document.core_properties.author = "coaching_trials"
    if caption:
        document.add_paragraph(str(caption))
    table = document.add_table(rows=1 + len(cells), cols=len(cells.columns))
    table.style = "Table Grid"
    for j, col in enumerate(cells.columns):
        table.cell(0, j).text = "" if _is_missing(col) else str(col)
        for run in table.cell(0, j).paragraphs[0].runs:
            run.bold = True
    for i, row in enumerate(cells.itertuples(index=False), start=1):
        for j, (value, num) in enumerate(zip(row, numeric, strict=True)):
            cell = table.cell(i, j)
            cell.text = str(value)  # a run of literal text: nothing is interpreted
            if num:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.save(str(path))


_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def format_cell(value: Any, digits: int | None = 2, *, whole: bool = False) -> str:
    """Render one cell: blanks for missing, integers as integers, floats to ``digits``.

    ``whole=True`` renders an integral float without decimals (used for count columns).

    Examples
    --------
    >>> from coaching_trials.report.tables import format_cell
    >>> format_cell(1.23456), format_cell(float("nan")), format_cell(61.0, whole=True)
    ('1.23', '', '61')
    """
    if _is_missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        v = float(value)
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if whole and v == round(v):
            return str(int(round(v)))
        if digits is None:
            return repr(v)
        text = f"{v:.{digits}f}"
        return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text
    return str(value)


def _whole_columns(frame: pd.DataFrame) -> set[Any]:
    """Float columns whose finite values are all whole numbers (counts stored as floats)."""
    out = set()
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_float_dtype(s):
            x = s.to_numpy(dtype=float, na_value=np.nan)
            x = x[np.isfinite(x)]
            if x.size and np.all(x == np.round(x)):
                out.add(col)
    return out


@renamed(frame="data")
def format_frame(data: pd.DataFrame, digits: int | None = 2) -> pd.DataFrame:
    """All cells as strings (see :func:`format_cell`), index and column labels kept."""
    whole = _whole_columns(data)
    return pd.DataFrame(
        {
            col: [format_cell(v, digits, whole=col in whole) for v in data[col].tolist()]
            for col in data.columns
        },
        index=data.index,
        columns=data.columns,
        dtype=object,
    )


def _round_frame(frame: pd.DataFrame, digits: int | None) -> pd.DataFrame:
    """Numbers rounded to ``digits`` (staying numbers) for CSV and Excel."""
    if digits is None:
        return frame.copy()
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_float_dtype(s):
            out[col] = s.round(digits)
        elif pd.api.types.is_object_dtype(s):
            out[col] = [
                round(float(v), digits)
                if isinstance(v, Real) and not isinstance(v, (Integral, bool, np.bool_))
                else v
                for v in s.tolist()
            ]
    return out


_NUM = r"[<>]?[+\-\u2212]?\d+(?:[.,]\d+)*%?"
# text that reads as a number: "0.44", "<0.001", "17 (25%)", "-0.63 to -0.24", or a marker
_NUMERIC_TEXT = re.compile(rf"{_NUM}(?: \({_NUM}\))?(?: to {_NUM})?|<\d+|\u2014")


def _is_numeric_column(s: pd.Series) -> bool:
    """Numbers, or numbers mixed with short markers such as ``"<5"`` (suppressed counts), or
    text that reads as numbers (``"0.44"``, ``"17 (25%)"``, ``"-0.63 to -0.24"``)."""
    if pd.api.types.is_bool_dtype(s):
        return False
    if pd.api.types.is_numeric_dtype(s):
        return True
    if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
        return False
    vals = [v for v in s.tolist() if not _is_missing(v) and v != ""]
    if vals and all(isinstance(v, str) and _NUMERIC_TEXT.fullmatch(v) for v in vals):
        return any(any(ch.isdigit() for ch in v) for v in vals)
    has_number = any(isinstance(v, Real) and not isinstance(v, (bool, np.bool_)) for v in vals)
    return has_number and all(
        (isinstance(v, Real) and not isinstance(v, (bool, np.bool_)))
        or (isinstance(v, str) and len(v) <= 4)
        for v in vals
    )


def _keep_index(frame: pd.DataFrame) -> bool:
    idx = frame.index
    return not (
        isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1 and idx.name is None
    )


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in text)


@renamed(frame="data")
def latex_table(data: pd.DataFrame, digits: int | None = 2, *, caption: str | None = None) -> str:
    """A booktabs ``tabular`` (inside a ``table`` float when ``caption`` is given).

    Text columns are left-aligned, numeric ones right-aligned; special characters are escaped.
    Needs ``\\usepackage{booktabs}`` in the document.
    """
    cells = format_frame(data, digits)
    if _keep_index(data):
        cells = cells.reset_index()
        names = list(data.index.names)
        numeric = [False] * len(names)
    else:
        numeric = []
    numeric += [_is_numeric_column(data[c]) for c in data.columns]
    spec = "".join("r" if n else "l" for n in numeric)
    header = " & ".join(_latex_escape(str(c) if not _is_missing(c) else "") for c in cells.columns)
    lines = [f"\\begin{{tabular}}{{{spec}}}", "\\toprule", header + " \\\\", "\\midrule"]
    for row in cells.itertuples(index=False):
        lines.append(" & ".join(_latex_escape(str(v)) for v in row) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    body = "\n".join(lines)
    if caption is not None:
        body = (
            "\\begin{table}[ht]\n\\centering\n"
            f"\\caption{{{_latex_escape(caption)}}}\n{body}\n\\end{{table}}"
        )
    return body + "\n"


@renamed(frame="data")
def html_table(data: pd.DataFrame, digits: int | None = 2, *, css_class: str = "ct-table") -> str:
    """A plain ``<table>`` (escaped text, numeric columns marked ``class="num"``)."""
    cells = format_frame(data, digits)
    keep = _keep_index(data)
    if keep:
        cells = cells.reset_index()
        numeric = [False] * data.index.nlevels
    else:
        numeric = []
    numeric += [_is_numeric_column(data[c]) for c in data.columns]
    out = [f'<table class="{css_class}">', "<thead><tr>"]
    for col, num in zip(cells.columns, numeric, strict=True):
        label = "" if _is_missing(col) else html.escape(str(col))
        out.append(f'<th class="num">{label}</th>' if num else f"<th>{label}</th>")
    out.append("</tr></thead>")
    out.append("<tbody>")
    for row in cells.itertuples(index=False):
        tds = [
            ('<td class="num">' if num else "<td>") + html.escape(str(v)) + "</td>"
            for v, num in zip(row, numeric, strict=True)
        ]
        out.append("<tr>" + "".join(tds) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def export_table(
    table: pd.DataFrame,
    path: str | Path,
    *,
    digits: int | None = 2,
    caption: str | None = None,
) -> Path:
    """Write a table as CSV, Excel, LaTeX, HTML or Word, chosen by the file extension.

    Parameters
    ----------
    table : pandas.DataFrame
        The table (e.g. an effects table, or the output of
        :func:`~coaching_trials.report.suppress_small_cells`). Not changed. A non-default index
        is written as leading column(s).
    path : str or pathlib.Path
        Ends in ``.csv``, ``.xlsx``, ``.tex``, ``.html``, ``.htm`` or ``.docx`` (Word; needs
        the ``docx`` extra: ``pip install 'coaching-trials[docx]'``). The folder must exist.
    digits : int or None, default 2
        Decimals for floating-point numbers: CSV and Excel get rounded numbers, LaTeX and HTML
        text with exactly ``digits`` decimals. Float columns holding only whole numbers (counts)
        are written without decimals in the text formats. ``None``: no rounding.
    caption : str, optional
        LaTeX: wrap the tabular in a ``table`` float with this caption; HTML: a ``<caption>``;
        Word: a paragraph above the table.

    Returns
    -------
    pathlib.Path
        The file written.

    Notes
    -----
    CSV (UTF-8, ``\\n`` line ends), LaTeX (a booktabs ``tabular``; needs
    ``\\usepackage{booktabs}``) and HTML (a small standalone page, no scripts) are byte-identical
    for the same input. Excel files embed a timestamp, so their bytes differ between runs while
    their cells do not. Missing values are written as empty cells. Text cells that a
    spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
    return, OWASP's CSV-injection guidance) get a leading apostrophe in CSV and Excel.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> from coaching_trials.report import export_table
    >>> t = pd.DataFrame({"outcome": ["pfi_burnout"], "estimate": [-0.43590], "n": [120]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = export_table(t, pathlib.Path(d) / "effects.tex")
    ...     print(p.read_text())
    \\begin{tabular}{lrr}
    \\toprule
    outcome & estimate & n \\\\
    \\midrule
    pfi\\_burnout & -0.44 & 120 \\\\
    \\bottomrule
    \\end{tabular}
    <BLANKLINE>
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"`table` must be a pandas DataFrame; got {type(table).__name__}.")
    if digits is not None and (
        isinstance(digits, bool) or not isinstance(digits, Integral) or digits < 0
    ):
        raise ValueError(f"`digits` must be a non-negative integer or None; got {digits!r}.")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise one_of("path extension", suffix or path.name, tuple(_FORMATS))
    kind = _FORMATS[suffix]
    keep = _keep_index(table)
    if kind == "csv":
        safe = neutralize_frame(_round_frame(table, digits))
        text = safe.to_csv(index=keep, lineterminator="\n")
        path.write_bytes(text.encode("utf-8"))
    elif kind == "excel":
        neutralize_frame(_round_frame(table, digits)).to_excel(path, index=keep, engine="openpyxl")
    elif kind == "latex":
        path.write_bytes(latex_table(table, digits, caption=caption).encode("utf-8"))
    elif kind == "docx":
        _docx_table(table, path, digits, caption)
    else:
        cap = f"<caption>{html.escape(caption)}</caption>\n" if caption else ""
        body = html_table(table, digits).replace("<thead>", f"{cap}<thead>", 1)
        page = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(caption or path.stem)}</title>\n"
            "<style>table{border-collapse:collapse;font-family:sans-serif}"
            "th,td{border-bottom:1px solid #ccc;padding:2px 8px}"
            "td.num,th.num{text-align:right}</style>\n"
            f"</head>\n<body>\n{body}\n</body>\n</html>\n"
        )
        path.write_bytes(page.encode("utf-8"))
    return path
