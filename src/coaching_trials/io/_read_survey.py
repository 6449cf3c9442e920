"""`read_survey`: one entry point for CSV, TSV, Excel, Parquet, SPSS and Stata files."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from coaching_trials._errors import one_of
from coaching_trials.io._read_common import (
    _drop_empty_unnamed,
    _drop_rows,
    _finish,
    _format_audit,
    _merge_codes,
    _missing_codes,
    _step,
)
from coaching_trials.io._read_excel import (
    _read_excel_table,
)
from coaching_trials.io._read_stats import _read_spss, _read_stata
from coaching_trials.io._read_text import (
    _read_text_table,
)
from coaching_trials.io.missing import MissingCodes

__all__ = ["SUPPORTED_FORMATS", "read_survey"]

#: format name -> file extensions recognised for it
SUPPORTED_FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "tsv": (".tsv", ".tab"),
    "excel": (".xlsx", ".xlsm"),
    "parquet": (".parquet", ".pq"),
    "spss": (".sav", ".zsav"),
    "stata": (".dta",),
}


def _supported_text() -> str:
    return "; ".join(f"{fmt} ({', '.join(exts)})" for fmt, exts in SUPPORTED_FORMATS.items())


def _infer_format(path: Path) -> str:
    suffix = path.suffix.lower()
    for fmt, exts in SUPPORTED_FORMATS.items():
        if suffix in exts:
            return fmt
    raise ValueError(
        f"Cannot tell the format of {str(path)!r} from its extension {suffix or '(none)'!r}. "
        f"Supported formats: {_supported_text()}. Pass `format=` to choose one explicitly."
    )


def read_survey(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    sheet_name: str | int | None = None,
    ids: str | Sequence[str] | None = None,
    missing_codes: Mapping[Any, str] | None = None,
    numeric: str | Sequence[str] = (),
    encoding: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    skiprows: int | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Read a survey export (CSV, TSV, Excel, Parquet, SPSS or Stata) into a DataFrame.

    Nothing is guessed silently. Text files and Excel sheets are read cell by cell as text and
    then converted under the missing-value policy (see :mod:`coaching_trials.io.missing`):
    a blank cell is missing; a token in ``missing_codes`` is missing with its declared reason
    and counted in the audit; a column becomes numeric only when every other cell is a number.
    ``"N/A"``, ``"NA"``, ``"null"``, ``"NaN"`` ... are *not* missing unless declared: a column
    holding them stays text, and scoring or validation then names the cells. Ids stay text
    exactly as written. What the reader had to detect (encoding, separator, decimal comma,
    rows above the header, the sheet) is recorded in ``attrs["format"]`` and in the audit.

    Parameters
    ----------
    path : str or path-like
        The file to read.
    format : {"csv", "tsv", "excel", "parquet", "spss", "stata"}, optional
        The file format. By default it is taken from the extension (see
        ``SUPPORTED_FORMATS``).
    sheet_name : str or int, optional
        Excel only: the single sheet to read (name or 0-based position). By default the first
        sheet that holds a table (a "README" sheet of prose before the data is skipped, and
        reported).
    ids : str or sequence of str, optional
        Columns holding ids, read as text exactly as written (``"008800007"`` keeps its
        zeros) and checked for ids that differ only by leading zeros, case or whitespace.
        Default: columns named like ids (``participant_id``, ``record_id``, ``subject``,
        ``id``, any name ending in ``_id``; see ``coaching_trials.io.ids.ID_NAMES``).
    missing_codes : mapping, optional
        Declared missing-value codes ``{token_or_number: reason}``, e.g. ``{"N/A": "not
        applicable", 99: "refused", -9: "not applicable"}``; applied to every non-id column.
        SPSS user-missing codes and Stata's ``.a``-``.z`` arrive as declared codes with their
        value labels as reasons.
    numeric : str or sequence of str, default ()
        Columns (names or shell patterns such as ``"pfi_*"``) that must be numeric: any other
        token there is an error naming column, rows and value.
    encoding : str, optional
        Text files: default detected (UTF-8, UTF-8 with BOM, else cp1252 / Latin-1).
    sep : str, optional
        Text files: the separator; default detected among ``,`` ``;`` tab and ``|``.
    decimal : str, optional
        Text files: the decimal mark; default ``.`` unless numbers are written ``3,5`` in a
        file not separated by commas.
    skiprows : int, optional
        Lines (text) or rows (Excel) above the header; default detected (a title line or
        merged group headings above the header are skipped).
    **kwargs
        Passed to the underlying reader (``pandas.read_csv``, ``pandas.ExcelFile.parse``,
        ``pandas.read_parquet``, ``pyreadstat.read_sav`` or ``pandas.read_stata``).

    Returns
    -------
    pandas.DataFrame
        The data, with ``attrs``: ``source`` (path, format, sheet), ``audit`` (records of
        rows dropped and cells made missing by a declared code, and of detected format
        settings), ``format`` (what was used: encoding, separator, ...), ``missing`` (cells
        made missing, per column and token: see :func:`~coaching_trials.missingness`). For
        SPSS and Stata, value labels are **not** applied (numeric codes stay numeric); they
        are kept in ``attrs["value_labels"]`` and variable labels in ``attrs["column_labels"]``.

    Raises
    ------
    FileFormatError
        The file is empty, cannot be decoded, split or found a header in; the message names
        the file and the option to set (``encoding=``, ``sep=``, ``skiprows=``,
        ``sheet_name=``). A :class:`~coaching_trials.DataValidationError`.
    DataValidationError
        Ids that differ only by leading zeros, case or whitespace; text in ``numeric`` columns.
    ValueError
        If the format cannot be inferred from the extension or is not supported.
    ImportError
        If an SPSS file is read without the optional ``pyreadstat`` dependency.

    Notes
    -----
    SPSS files need the optional extra: ``pip install "coaching-trials[spss]"``. Stata files
    are read with pandas alone.

    Validated by round trips (the sample responses written by pandas to every supported format
    and read back compare equal: ``tests/io/test_io_readers.py``) and by a corpus of messy
    files with their expected values, errors and audit rows written down beside them
    (``tests/data/messy/manifest.toml``, ``tests/io/test_io_messy.py``).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "wave1.csv"
    >>> _ = tmp.write_text("participant_id,pfi_01,pfi_02\\n007,3,N/A\\n008,1,99\\n")
    >>> df = read_survey(tmp, missing_codes={"N/A": "not applicable", 99: "refused"})
    >>> df["participant_id"].tolist(), df["pfi_01"].tolist(), df["pfi_02"].tolist()
    (['007', '008'], [3, 1], [nan, nan])
    >>> [(r["reason"], r["n_rows"]) for r in df.attrs["audit"]]
    [('declared missing: not applicable', 1), ('declared missing: refused', 1)]
    """
    path = Path(path)
    if format is None:
        fmt = _infer_format(path)
    else:
        fmt = str(format).lower()
        if fmt not in SUPPORTED_FORMATS:
            raise one_of("format", format, tuple(SUPPORTED_FORMATS))
    if not path.exists():
        raise FileNotFoundError(f"No such file: {str(path)!r}")
    if isinstance(sheet_name, (list, tuple)):
        raise TypeError(
            "`sheet_name` must name one sheet (a str or an int position); "
            f"got {sheet_name!r}. Read sheets one at a time."
        )
    codes = _missing_codes(missing_codes)
    source: dict[str, Any] = {"path": str(path), "format": fmt}
    extra: dict[str, Any] = {}
    audit: list[dict[str, Any]] = []
    report: dict[str, Any] = {}
    column_codes: dict[str, MissingCodes] = {}
    dec = decimal or "."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        if fmt in ("csv", "tsv"):
            frame, report, dec = _read_text_table(
                path,
                fmt,
                encoding=encoding,
                sep=sep,
                decimal=decimal,
                skiprows=skiprows,
                kwargs=kwargs,
            )
        elif fmt == "excel":
            frame, report = _read_excel_table(path, sheet_name, skiprows, dict(kwargs))
            source["sheet_name"] = report["sheet_name"]
        elif fmt == "parquet":
            frame = pd.read_parquet(path, **kwargs)
        elif fmt == "spss":
            frame, extra, column_codes = _read_spss(path, kwargs)
        else:  # stata
            frame, extra, column_codes = _read_stata(path, kwargs)
        step = _step(fmt)
        if fmt in ("csv", "tsv", "excel"):
            frame = _drop_empty_unnamed(frame, step, audit)
            frame = _drop_rows(frame, step, audit)
        _format_audit(step, report, audit)
        if column_codes and codes:
            column_codes = {c: _merge_codes(codes, own) for c, own in column_codes.items()}
        frame.attrs = {"source": source, **extra}
        return _finish(
            frame,
            path=path,
            fmt=fmt,
            ids=ids,
            codes=codes,
            numeric=numeric,
            decimal=dec,
            audit=audit,
            report=report,
            column_codes=column_codes,
        )
