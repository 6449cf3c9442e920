"""Read survey exports into plain pandas DataFrames.

Every reader returns a new DataFrame whose ``attrs`` record where it came from:

- ``attrs["source"]``: ``{"path": str, "format": str}`` (plus ``"sheet_name"`` for Excel).
- ``attrs["audit"]``: a list of audit records (dicts with keys ``step, reason, n_rows,
  detail``) for every row a reader dropped, every declared missing code it applied (per token
  and reason) and every format setting it detected; ``audit_frame(df.attrs["audit"])`` (from
  ``coaching_trials._audit``) turns it into the package's audit table. Records are plain dicts,
  not a DataFrame, because pandas compares ``attrs`` when concatenating frames and cannot
  compare DataFrames.
- ``attrs["format"]``: what the reader used (encoding, separator, decimal mark, rows skipped
  above the header, sheet, id columns, columns kept as text and why).
- ``attrs["missing"]``: cells made missing by a declared code (see
  :func:`coaching_trials.io.missing.missingness`).
- ``attrs["value_labels"]`` / ``attrs["column_labels"]`` (SPSS and Stata only): the labels that
  were *not* applied, so numeric item columns keep their numeric codes.
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from coaching_trials._errors import FileFormatError, ProblemLog, format_values, one_of
from coaching_trials.io import _sniff
from coaching_trials.io import missing as _missing
from coaching_trials.io.ids import check_ids, ids_as_text, is_id_column
from coaching_trials.io.missing import MissingCodes, MissingRecords, apply_missing_policy

__all__ = ["SUPPORTED_FORMATS", "read_qualtrics", "read_redcap", "read_survey"]

#: format name -> file extensions recognised for it
SUPPORTED_FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "tsv": (".tsv", ".tab"),
    "excel": (".xlsx", ".xlsm"),
    "parquet": (".parquet", ".pq"),
    "spss": (".sav", ".zsav"),
    "stata": (".dta",),
}

_SPSS_HINT = 'Reading SPSS files needs pyreadstat: pip install "coaching-trials[spss]"'


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


def _check_new_names(path: Path, columns: pd.Index, new: Mapping[str, str]) -> None:
    """Refuse to create a column (key) that the export already has, unless it is its source."""
    clashes = [name for name, source in new.items() if name != source and name in columns]
    if clashes:
        raise ValueError(
            f"{str(path)!r} already has column(s) {format_values(clashes)}, which the reader "
            "would create; pass other names (e.g. `subject=`, `wave=`) or rename them first."
        )


def _audit_record(step: str, reason: str, n_rows: int, detail: str = "") -> dict[str, Any]:
    return {"step": step, "reason": reason, "n_rows": int(n_rows), "detail": detail}


def _step(fmt: str) -> str:
    return {"redcap": "read_redcap", "qualtrics": "read_qualtrics"}.get(fmt, "read_survey")


def _id_columns(columns: Sequence[Any], ids: str | Sequence[str] | None) -> list[Any]:
    if ids is None:
        return [c for c in columns if is_id_column(c)]
    wanted = [ids] if isinstance(ids, str) else list(ids)
    return [c for c in columns if c in wanted]


def _numeric_columns(columns: Sequence[Any], numeric: str | Sequence[str]) -> list[Any]:
    patterns = [numeric] if isinstance(numeric, str) else list(numeric)
    return [c for c in columns if any(fnmatch.fnmatchcase(str(c), p) for p in patterns)]


def _drop_rows(frame: pd.DataFrame, step: str, audit: list[dict[str, Any]]) -> pd.DataFrame:
    """Drop all-blank rows and rows repeating the header, each counted in the audit."""
    if frame.empty or frame.shape[1] == 0:
        return frame
    texty = [i for i in range(frame.shape[1]) if frame.dtypes.iloc[i] == "str"]
    if len(texty) < frame.shape[1]:
        return frame
    blank = np.ones(len(frame), dtype=bool)
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        blank &= column.str.strip().eq("").to_numpy(dtype=bool, na_value=True)
        if not blank.any():
            break
    names = [str(c) for c in frame.columns]
    first = frame.iloc[:, 0].str.strip().eq(names[0].strip()).to_numpy(dtype=bool, na_value=False)
    header = np.zeros(len(frame), dtype=bool)
    if first.any():
        sub = frame.loc[first]
        same = np.ones(len(sub), dtype=bool)
        for i, name in enumerate(names):
            same &= sub.iloc[:, i].str.strip().eq(name.strip()).to_numpy(bool, na_value=False)
        header[np.flatnonzero(first)[same]] = True
    for mask, reason in ((blank, "blank row"), (header, "repeated header row")):
        if mask.any():
            lines = format_values((np.flatnonzero(mask) + 1).tolist())
            audit.append(_audit_record(step, reason, int(mask.sum()), f"data row(s) {lines}"))
    drop = blank | header
    return frame.loc[~drop].reset_index(drop=True) if drop.any() else frame


def _drop_empty_unnamed(frame: pd.DataFrame, step: str, audit: list[dict]) -> pd.DataFrame:
    unnamed = [
        c
        for c in frame.columns
        if str(c).startswith("Unnamed: ")
        and frame[c].dtype == "str"
        and frame[c].str.strip().eq("").all()
    ]
    if unnamed:
        audit.append(
            _audit_record(
                step, "empty unnamed column", 0, f"column(s) {format_values(unnamed)} dropped"
            )
        )
        frame = frame.drop(columns=unnamed)
    return frame


def _finish(
    frame: pd.DataFrame,
    *,
    path: Path,
    fmt: str,
    ids: str | Sequence[str] | None,
    codes: MissingCodes,
    numeric: str | Sequence[str],
    decimal: str,
    audit: list[dict[str, Any]],
    report: dict[str, Any],
    column_codes: Mapping[Any, MissingCodes] | None = None,
    check_id_pairs: bool = True,
) -> pd.DataFrame:
    """Shared tail of every reader: ids as text, the missing-value policy, one error for all."""
    step = _step(fmt)
    log = ProblemLog(f"{str(path)!r}")
    id_cols = _id_columns(frame.columns, ids)
    if ids is not None:
        wanted = [ids] if isinstance(ids, str) else list(ids)
        absent = [c for c in wanted if c not in frame.columns]
        if absent:
            raise FileFormatError(
                f"{str(path)!r}: id column(s) {format_values(absent)} given in `ids=` are not "
                f"in the file; found {format_values(frame.columns, limit=8)}."
            )
    others = [c for c in frame.columns if c not in id_cols]
    outcome = apply_missing_policy(
        frame,
        codes,
        columns=others,
        numeric=_numeric_columns(others, numeric),
        decimal=decimal,
        step=step,
        log=log,
        column_codes=column_codes,
    )
    out = outcome.data
    if id_cols:
        out = out.copy(deep=False)
        for position, name in enumerate(out.columns):
            if name in id_cols:
                out.isetitem(position, ids_as_text(out.iloc[:, position]))
        if check_id_pairs:
            for col in id_cols:
                check_ids(out[col].dropna().unique(), column=str(col), log=log)
    log.raise_if_any()
    audit.extend(outcome.audit)
    report["id_columns"] = [str(c) for c in id_cols]
    if outcome.text_columns:
        report["text_columns"] = outcome.text_columns
    out.attrs = {
        **frame.attrs,
        "audit": audit,
        "format": report,
        "missing": MissingRecords(outcome.missing),
    }
    return out


def _format_audit(step: str, report: Mapping[str, Any], audit: list[dict[str, Any]]) -> None:
    """One audit record per detection that differs from the format's plain default."""
    for key in ("encoding_note", "sep_note", "decimal_note", "header_note", "sheet_note"):
        note = report.get(key)
        if note:
            audit.append(_audit_record(step, f"format detected: {key[:-5]}", 0, note))


def _read_text_table(
    path: Path,
    fmt: str,
    *,
    encoding: str | None,
    sep: str | None,
    decimal: str | None,
    skiprows: int | None,
    kwargs: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any], str]:
    """Read a delimited text file with every cell as text; sniff what was not given."""
    raw = path.read_bytes()
    if not raw[:4096].strip(b" \t\r\n\xef\xbb\xbf") and not raw.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FileFormatError(
            f"{str(path)!r} is empty: no header row and no data (0 columns). Check that the "
            "export finished, or that you picked the right file."
        )
    enc, text, enc_note = _sniff.sniff_encoding(path, raw, encoding)
    default_sep = "\t" if fmt == "tsv" else ","
    sep, rows, sep_detected = _sniff.sniff_separator(path, text[:200_000], sep, default_sep)
    report: dict[str, Any] = {"encoding": enc, "sep": sep}
    if enc_note:
        report["encoding_note"] = enc_note
    if sep_detected:
        report["sep_note"] = (
            f"separator {_sniff.SEP_NAMES.get(sep, sep)} ({sep!r}); pass sep= to override"
        )
    if skiprows is None:
        header_at = _sniff.find_header(rows)
        lines = text[:200_000].splitlines()
        nonblank = [i for i, line in enumerate(lines) if line.strip()]
        skip = nonblank[header_at] if header_at < len(nonblank) else 0
        if skip:
            report["header_note"] = (
                f"{skip} line(s) above the header skipped (title or group headings: "
                f"{format_values([ln.strip()[:40] for ln in lines[:skip] if ln.strip()], 3)}); "
                "pass skiprows= to override"
            )
    else:
        skip, header_at = int(skiprows), 0
    report["skiprows"] = skip
    dec, dec_detected = _sniff.sniff_decimal(rows[header_at + 1 :], sep, decimal)
    report["decimal"] = dec
    if dec_detected:
        report["decimal_note"] = "decimal comma ('3,5' = 3.5); pass decimal='.' to override"
    frame = None
    if not kwargs and header_at < len(rows):
        frame = _read_arrow(path, rows[header_at], sep=sep, encoding=enc, skip=skip)
    try:
        if frame is not None:
            return frame, report, dec
        frame = pd.read_csv(
            path,
            **{
                "sep": sep,
                "encoding": enc,
                "skiprows": skip,
                "dtype": str,
                "keep_default_na": False,
                "na_filter": False,
                **kwargs,
            },
        )
    except pd.errors.EmptyDataError as exc:
        raise FileFormatError(
            f"{str(path)!r} has no columns to read after skipping {skip} line(s); pass "
            "skiprows= to say where the header is."
        ) from exc
    except pd.errors.ParserError as exc:
        raise FileFormatError(
            f"{str(path)!r} could not be split into columns with separator {sep!r} ({exc}). "
            "Pass sep= (',', ';' or '\\t') or skiprows= (lines above the header)."
        ) from exc
    except UnicodeDecodeError as exc:  # pragma: no cover - the whole file was decoded above
        raise FileFormatError(f"{str(path)!r}: {exc}; pass encoding=.") from exc
    return frame, report, dec


def _pandas_names(header: Sequence[str]) -> list[str]:
    """Column names as pandas makes them: blank -> ``Unnamed: i``, repeats -> ``x.1``."""
    names = [str(c) if str(c) != "" else f"Unnamed: {i}" for i, c in enumerate(header)]
    seen: dict[str, int] = {}
    taken = set(names)
    out = []
    for name in names:
        if name in seen:
            k = seen[name] + 1
            while f"{name}.{k}" in taken:
                k += 1
            seen[name] = k
            new = f"{name}.{k}"
            taken.add(new)
            out.append(new)
        else:
            seen[name] = 0
            out.append(name)
    return out


def _read_arrow(
    path: Path, header: Sequence[str], *, sep: str, encoding: str, skip: int
) -> pd.DataFrame | None:
    """Every cell as text with Arrow's multithreaded CSV reader; None if Arrow cannot (the
    pandas reader then reads the file, or reports the problem)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    names = _pandas_names(header)
    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(
                skip_rows=skip + 1,
                column_names=names,
                encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
            ),
            parse_options=pa_csv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, LookupError, ValueError):
        return None
    text = pd.StringDtype("pyarrow", na_value=np.nan)
    frame = table.to_pandas(types_mapper=lambda t: text if t == pa.string() else None)
    frame.columns = names
    return frame


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


def _stata_missing(
    frame: pd.DataFrame, labels: Mapping[str, Mapping[Any, str]]
) -> tuple[pd.DataFrame, dict[str, MissingCodes]]:
    """Stata's extended missing values (.a-.z) become declared codes with their labels."""
    per_column: dict[str, MissingCodes] = {}
    for col in frame.columns:
        series = frame[col]
        if series.dtype != object:
            continue
        flags = series.map(lambda v: isinstance(v, pd.io.stata.StataMissingValue))
        if not flags.any():
            continue
        tokens = {}
        for value in series[flags]:
            name = value.string
            if name == ".":  # system-missing: blank, no declared reason
                continue
            reason = labels.get(col, {}).get(value.value) or f"Stata missing value {name}"
            tokens[name] = reason
        frame[col] = series.map(
            lambda v: (
                (np.nan if v.string == "." else v.string)
                if isinstance(v, pd.io.stata.StataMissingValue)
                else v
            )
        )
        if tokens:
            per_column[col] = _missing_codes(tokens)
        else:
            frame[col] = pd.to_numeric(frame[col])
    return frame, per_column


def _read_spss(
    path: Path, kwargs: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, MissingCodes]]:
    try:
        import pyreadstat
    except ImportError as exc:
        raise ImportError(_SPSS_HINT) from exc
    kwargs = {"apply_value_formats": False, "user_missing": True, **kwargs}
    frame, meta = pyreadstat.read_sav(str(path), **kwargs)
    value_labels = {k: dict(v) for k, v in (meta.variable_value_labels or {}).items()}
    extra = {
        "value_labels": value_labels,
        "column_labels": {
            name: label
            for name, label in zip(meta.column_names, meta.column_labels or [], strict=False)
            if label
        },
    }
    per_column: dict[str, MissingCodes] = {}
    declared = {**(meta.missing_ranges or {})}
    for col, values in (meta.missing_user_values or {}).items():
        declared.setdefault(col, [{"lo": v, "hi": v} for v in values])
    for col, ranges in declared.items():
        if col not in frame.columns:
            continue
        labels = value_labels.get(col, {})
        codes: dict[Any, str] = {}
        numbers = pd.to_numeric(frame[col], errors="coerce")
        for rng in ranges:
            lo, hi = rng["lo"], rng["hi"]
            if isinstance(lo, str):  # string user-missing codes
                codes[lo] = labels.get(lo) or f"user-missing code {lo!r}"
                continue
            present = [lo] if lo == hi else pd.unique(numbers[(numbers >= lo) & (numbers <= hi)])
            for v in present:
                default = (
                    f"user-missing code {v:g}" if lo == hi else f"user-missing ({lo:g} to {hi:g})"
                )
                codes[float(v)] = labels.get(v) or default
        per_column[col] = _missing_codes(codes)
    return frame, extra, per_column


def _read_stata(
    path: Path, kwargs: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, MissingCodes]]:
    kwargs = {"convert_categoricals": False, "convert_missing": True, **kwargs}
    with pd.io.stata.StataReader(path) as reader:
        all_labels = reader.variable_labels()
        column_labels = {k: v for k, v in all_labels.items() if v}
        label_sets = reader.value_labels()
        # pandas has no public variable -> label-set map; fall back to same-named label sets
        varlist = list(getattr(reader, "_varlist", None) or all_labels)
        lbllist = getattr(reader, "_lbllist", None) or varlist
        lbl_names = dict(zip(varlist, lbllist, strict=False))
    frame = pd.read_stata(path, **kwargs)
    value_labels = {
        col: {int(k): v for k, v in label_sets[name].items()}
        for col, name in lbl_names.items()
        if name and name in label_sets
    }
    frame, per_column = _stata_missing(frame, value_labels)
    return frame, {"value_labels": value_labels, "column_labels": column_labels}, per_column


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


def _missing_codes(declared: Any) -> MissingCodes:
    return _missing.missing_codes(declared)


def _merge_codes(*declared: MissingCodes) -> MissingCodes:
    return _missing.missing_codes(*declared)


# --------------------------------------------------------------------------------------------
# REDCap
# --------------------------------------------------------------------------------------------

_REDCAP_ARM_SUFFIX = re.compile(r"_arm_\d+$")
_CHECKBOX = re.compile(r"^(?P<field>.+?)___(?P<code>[^_].*)$")
_CHECKED = {"1": True, "0": False, "checked": True, "unchecked": False}


def _checkbox_to_bool(series: pd.Series, column: str, log: ProblemLog) -> pd.Series:
    text = series.astype("string").str.strip().str.lower()
    text = text.str.replace(r"\.0$", "", regex=True)
    mapped = text.map(_CHECKED, na_action="ignore")
    bad = text.notna() & mapped.isna()
    if bad.any():
        log.add(
            "checkbox_value",
            f"column {column!r}: checkbox values {format_values(series[bad].unique())} at rows "
            f"{format_values(series.index[bad])}; expected 0/1 or Checked/Unchecked.",
            column=column,
            rows=series.index[bad],
            values=series[bad].unique(),
            expected="0/1 or Checked/Unchecked",
        )
        return series
    return mapped.astype("boolean")


def read_redcap(
    path: str | os.PathLike[str],
    *,
    events: Mapping[str, str | None] | None = None,
    record_id: str = "record_id",
    subject: str = "participant_id",
    wave: str = "wave",
    repeating: Literal["drop", "keep", "only"] = "drop",
    checkboxes: Literal["bool", "raw"] = "bool",
    missing_codes: Mapping[Any, str] | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Read a REDCap CSV export into a responses frame.

    The export must have field names as headers (REDCap's "CSV / Microsoft Excel (raw data)",
    the recommended choice). Checkbox cells may hold 0/1 or Checked/Unchecked.

    Parameters
    ----------
    path : str or path-like
        The REDCap CSV export.
    events : mapping, optional
        ``redcap_event_name`` -> wave label, e.g. ``{"baseline_arm_1": "baseline",
        "month_3_arm_1": "month3"}``. Map an event to ``None`` to drop its rows (they are
        counted in ``attrs["audit"]``). Events present in the file but absent from the mapping
        raise :class:`~coaching_trials.DataValidationError`. By default the wave is the event
        name with its ``_arm_N`` suffix removed. Longitudinal exports only.
    record_id : str, default "record_id"
        The REDCap record id column; it is renamed to ``subject`` and read as text exactly as
        written (leading zeros survive; ids differing only by zeros, case or whitespace are
        an error).
    subject, wave : str
        Names of the participant id and wave columns in the result.
    repeating : {"drop", "keep", "only"}, default "drop"
        Rows of repeating instruments (non-empty ``redcap_repeat_instrument``): ``"drop"``
        removes them with an audit entry per instrument (the responses frame is one row per
        participant x wave); ``"keep"`` keeps every row with the ``redcap_repeat_instrument``
        and ``redcap_repeat_instance`` columns; ``"only"`` returns just the repeating rows
        (e.g. coaching-session logs).
    checkboxes : {"bool", "raw"}, default "bool"
        Checkbox columns (``field___code``) become nullable booleans with ``"bool"`` (from 0/1
        or Checked/Unchecked) or stay as exported with ``"raw"``. The field -> codes map is in
        ``attrs["checkboxes"]``.
    missing_codes : mapping, optional
        Declared missing-value codes ``{token_or_number: reason}`` (see
        :func:`read_survey`); cells are read as text and converted under the same policy.
    **kwargs
        Passed to ``pandas.read_csv``.

    Returns
    -------
    pandas.DataFrame
        ``subject`` first, then ``wave`` (text, for longitudinal exports), then the remaining
        columns in file order. ``attrs`` holds ``source``, ``audit`` and ``checkboxes``.

    Raises
    ------
    ValueError
        If ``record_id`` is not a column, or a column to be created already exists.
    DataValidationError
        For events missing from ``events`` or checkbox cells that are not 0/1 or
        Checked/Unchecked (all such problems together).

    Notes
    -----
    Validated on REDCap-layout exports built in ``tests/io/test_io_readers.py`` (events,
    repeating instruments, checkbox columns raw and labelled); there is no independent reference
    implementation.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "redcap.csv"
    >>> _ = tmp.write_text(
    ...     "record_id,redcap_event_name,pfi_01,coach___1,coach___2\\n"
    ...     "001,baseline_arm_1,3,1,0\\n"
    ...     "001,month_3_arm_1,2,0,1\\n"
    ... )
    >>> df = read_redcap(tmp, events={"baseline_arm_1": "baseline", "month_3_arm_1": "month3"})
    >>> df[["participant_id", "wave", "pfi_01", "coach___1"]]
      participant_id      wave  pfi_01  coach___1
    0            001  baseline       3       True
    1            001    month3       2      False
    """
    if repeating not in ("drop", "keep", "only"):
        raise one_of("repeating", repeating, ("drop", "keep", "only"))
    if checkboxes not in ("bool", "raw"):
        raise one_of("checkboxes", checkboxes, ("bool", "raw"))
    path = Path(path)
    frame, report, dec = _read_text_table(
        path, "csv", encoding=None, sep=None, decimal=None, skiprows=None, kwargs=kwargs
    )
    if record_id not in frame.columns:
        raise ValueError(
            f"{str(path)!r} has no record id column {record_id!r}; columns found: "
            f"{format_values(frame.columns, limit=8)}. Pass `record_id=` if it is named "
            "differently."
        )
    _check_new_names(path, frame.columns, {subject: record_id, wave: "redcap_event_name"})
    audit: list[dict[str, Any]] = []
    frame = _drop_rows(frame, "read_redcap", audit)
    _format_audit("read_redcap", report, audit)
    frame = _finish(
        frame,
        path=path,
        fmt="redcap",
        ids=[record_id],
        codes=_missing_codes(missing_codes),
        numeric=(),
        decimal=dec,
        audit=audit,
        report=report,
    )
    policy_attrs = {k: frame.attrs[k] for k in ("format", "missing")}
    log = ProblemLog(f"REDCap export {path.name}")

    # repeating instruments
    if "redcap_repeat_instrument" in frame.columns:
        instrument = frame["redcap_repeat_instrument"].astype("string").str.strip()
        is_repeat = instrument.notna() & (instrument != "")
        if repeating == "drop" and is_repeat.any():
            counts = instrument[is_repeat].value_counts(sort=False)
            for name, n in counts.items():
                audit.append(
                    _audit_record(
                        "read_redcap", "repeating instrument row", n, f"instrument {name!r}"
                    )
                )
            frame = frame.loc[~is_repeat]
        elif repeating == "only":
            frame = frame.loc[is_repeat]
        if repeating == "drop":
            repeat_cols = ("redcap_repeat_instrument", "redcap_repeat_instance")
            frame = frame.drop(columns=[c for c in repeat_cols if c in frame.columns])
    elif repeating == "only":
        raise ValueError(
            f"`repeating='only'` was asked for, but {str(path)!r} has no "
            "'redcap_repeat_instrument' column (the export has no repeating instruments)."
        )

    # events -> waves
    if "redcap_event_name" in frame.columns:
        event = frame["redcap_event_name"].astype("string")
        if events is None:
            wave_values = event.str.replace(_REDCAP_ARM_SUFFIX, "", regex=True)
        else:
            known = event.isin(list(events))
            unknown = event.notna() & ~known
            if unknown.any():
                log.add(
                    "unknown_event",
                    f"column 'redcap_event_name': {int(unknown.sum())} row(s) with events "
                    f"{format_values(event[unknown].unique())} not in `events` at rows "
                    f"{format_values(frame.index[unknown])}; expected one of "
                    f"{format_values(list(events), limit=10)} (map an event to None to drop it).",
                    column="redcap_event_name",
                    rows=frame.index[unknown],
                    values=event[unknown].unique(),
                    expected=f"one of {list(events)}",
                )
            mapping = dict(events)
            dropped = event.isin([k for k, v in mapping.items() if v is None])
            if dropped.any():
                for name, n in event[dropped].value_counts(sort=False).items():
                    audit.append(
                        _audit_record("read_redcap", "event mapped to None", n, f"event {name!r}")
                    )
            wave_values = event.map({k: v for k, v in mapping.items() if v is not None})
            frame = frame.loc[~dropped]
            wave_values = wave_values.loc[~dropped]
        frame = frame.drop(columns="redcap_event_name")
        frame.insert(0, wave, wave_values.astype("string"))

    # checkboxes
    boxes: dict[str, list[str]] = {}
    for col in frame.columns:
        match = _CHECKBOX.match(str(col))
        if match:
            boxes.setdefault(match["field"], []).append(match["code"])
            if checkboxes == "bool":
                frame[col] = _checkbox_to_bool(frame[col], str(col), log)
    log.raise_if_any()

    frame = frame.rename(columns={record_id: subject})
    order = [subject] + [c for c in frame.columns if c != subject]
    frame = frame[order].reset_index(drop=True)
    frame.attrs = {
        "source": {"path": str(path), "format": "redcap"},
        "audit": audit,
        "checkboxes": boxes,
        **policy_attrs,
    }
    return frame


# --------------------------------------------------------------------------------------------
# Qualtrics
# --------------------------------------------------------------------------------------------

_PREVIEW_STATUS = {"survey preview", "1"}
_TEST_STATUS = {"survey test", "2"}
#: Qualtrics' response types flagged by its spam detection (codes 8, 9 and 12 in numeric
#: exports: "Spam", "Preview Spam", "Imported Spam").
_SPAM_STATUS = {"spam", "8", "preview spam", "9", "imported spam", "12"}
#: Labels Qualtrics writes under metadata columns in the question-text row; in a legacy
#: export (no ImportId row) this row is the only extra header row.
_QUESTION_ROW_LABELS = {
    "Status": {"response type", "status"},
    "ResponseId": {"response id", "responseid"},
    "ResponseID": {"response id", "responseid"},
    "ExternalReference": {"external data reference", "externalreference", "external reference"},
    "ExternalDataReference": {"external data reference", "externaldatareference"},
    "StartDate": {"start date", "startdate"},
    "EndDate": {"end date", "enddate"},
    "Finished": {"finished"},
    "Progress": {"progress"},
}
#: Column names of legacy exports -> the names of current exports.
_LEGACY_NAMES = {"ResponseID": "ResponseId", "ExternalDataReference": "ExternalReference"}


def _is_question_row(columns: Sequence[str], row: pd.Series) -> bool:
    """True when ``row`` is Qualtrics' question-text row (checked on its metadata columns)."""
    hits = [
        str(cell).strip().lower() in _QUESTION_ROW_LABELS[col]
        for col, cell in zip(columns, row.tolist(), strict=True)
        if col in _QUESTION_ROW_LABELS
    ]
    return bool(hits) and all(hits)


def _is_import_id_row(row: pd.Series) -> bool:
    return bool(row.astype("string").str.lstrip().str.startswith('{"ImportId"').fillna(False).any())


def read_qualtrics(
    path: str | os.PathLike[str],
    *,
    subject: str = "participant_id",
    subject_from: str = "ExternalReference",
    wave: str | None = None,
    drop_previews: bool = True,
    drop_spam: bool = True,
    encoding: str = "utf-8-sig",
    missing_codes: Mapping[Any, str] | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Read a Qualtrics CSV export (with its extra header rows) into a DataFrame.

    A Qualtrics CSV has three header rows: the column names (``Q1``, ``pfi_01`` ...), the
    question text, and the ``{"ImportId": ...}`` JSON row. The last two are removed (the
    question text is kept in ``attrs["question_text"]`` and the import ids in
    ``attrs["import_ids"]``) and the column types are then inferred as ``pandas.read_csv``
    would for an ordinary CSV. A legacy export (two header rows: names and question text, no
    ImportId row; ``ResponseID`` and ``ExternalDataReference`` for ``ResponseId`` and
    ``ExternalReference``) is read too, and reported in the audit.

    Every response dropped is counted in ``attrs["audit"]`` by reason (survey preview, survey
    test, spam). A blank participant id (``subject_from``) in a kept response is an error that
    names the responses (position and ``ResponseId``): such a response cannot be linked
    to a participant, and dropping it silently would bias the comparison.

    Parameters
    ----------
    path : str or path-like
        The Qualtrics CSV export ("Export data" > CSV, numeric values or choice text).
    subject : str, default "participant_id"
        Name of the participant id column in the result.
    subject_from : str, default "ExternalReference"
        The Qualtrics column that holds the participant id (usually ``ExternalReference``,
        the external data reference of a contact list; ``"ResponseId"`` for anonymous links).
        ``ResponseId`` is always kept, renamed to ``response_id``.
    wave : str, optional
        If given, a ``wave`` column with this label is added (one export per wave).
    drop_previews : bool, default True
        Remove survey-preview and survey-test responses (``Status`` "Survey Preview"/1,
        "Survey Test"/2, or ``DistributionChannel`` "preview"/"test"), each counted in
        ``attrs["audit"]``.
    drop_spam : bool, default True
        Remove responses flagged by Qualtrics' spam detection (``Status`` "Spam"/8,
        "Preview Spam"/9, "Imported Spam"/12), counted in ``attrs["audit"]``.
    encoding : str, default "utf-8-sig"
        Qualtrics writes UTF-8 with a byte-order mark.
    missing_codes : mapping, optional
        Declared missing-value codes ``{token_or_number: reason}`` (see
        :func:`read_survey`). Cells are read as text and converted under the same policy;
        ids (``subject_from``, ``ResponseId``) stay text exactly as written.
    **kwargs
        Passed to ``pandas.read_csv`` when the file is read (as text).

    Returns
    -------
    pandas.DataFrame
        ``subject`` first (and ``wave`` when given), then the export's columns.

    Raises
    ------
    FileFormatError
        The file is empty, cannot be decoded, is not a Qualtrics export, has no
        ``subject_from`` column, or a kept response has a blank ``subject_from``.

    Notes
    -----
    Validated on Qualtrics-layout exports (three header rows, legacy two header rows, preview,
    test and spam responses) built in ``tests/io/test_io_readers.py`` and
    ``tests/data/messy/``; there is no independent reference implementation. The numeric
    ``Status`` codes follow Qualtrics' documentation of response types.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "qualtrics.csv"
    >>> _ = tmp.write_text(
    ...     "Status,ResponseId,ExternalReference,pfi_01\\n"
    ...     "Response Type,Response ID,External Data Reference,Item one\\n"
    ...     '"{""ImportId"":""status""}","{""ImportId"":""_recordId""}",'
    ...     '"{""ImportId"":""externalDataReference""}","{""ImportId"":""QID1_1""}"\\n'
    ...     "Survey Preview,R_0,,2\\n"
    ...     "IP Address,R_1,P001,3\\n"
    ... )
    >>> df = read_qualtrics(tmp, wave="baseline")
    >>> df[["participant_id", "wave", "response_id", "pfi_01"]]
      participant_id      wave response_id  pfi_01
    0           P001  baseline         R_1       3
    >>> df.attrs["audit"][0]["reason"], df.attrs["audit"][0]["n_rows"]
    ('survey preview', 1)
    """
    path = Path(path)
    try:
        raw = pd.read_csv(
            path,
            **{"dtype": str, "keep_default_na": False, "encoding": encoding, "na_filter": False},
            **kwargs,
        )
    except pd.errors.EmptyDataError as exc:
        raise FileFormatError(f"{str(path)!r} is empty: no header row and no data.") from exc
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            f"{str(path)!r} cannot be decoded as {encoding!r} ({exc.reason} at byte "
            f"{exc.start}); pass encoding= (e.g. encoding='cp1252')."
        ) from exc
    columns = [str(c) for c in raw.columns]
    legacy_audit: list[dict[str, Any]] = []
    import_ids: dict[str, str] = {}
    if len(raw) >= 2 and _is_import_id_row(raw.iloc[1]):
        n_header = 2
        for col, cell in zip(columns, raw.iloc[1].tolist(), strict=True):
            try:
                import_ids[col] = str(json.loads(cell).get("ImportId", ""))
            except (ValueError, AttributeError):
                import_ids[col] = str(cell)
    elif len(raw) >= 1 and _is_question_row(columns, raw.iloc[0]):
        n_header = 1
        renamed = {c: _LEGACY_NAMES[c] for c in columns if c in _LEGACY_NAMES}
        renamed = {c: n for c, n in renamed.items() if n not in columns}
        raw = raw.rename(columns=renamed)
        columns = [str(c) for c in raw.columns]
        legacy_audit.append(
            _audit_record(
                "read_qualtrics",
                "format detected: legacy Qualtrics export",
                0,
                "two header rows (names, question text), no ImportId row"
                + (
                    "; columns renamed " + ", ".join(f"{a} -> {b}" for a, b in renamed.items())
                    if renamed
                    else ""
                ),
            )
        )
    else:
        raise FileFormatError(
            f"{str(path)!r} does not look like a Qualtrics CSV export: below the column names "
            'it should have the question-text row and then the {"ImportId": ...} row (or, in '
            "a legacy export, the question-text row alone, e.g. 'Response Type' under Status). "
            "Use `read_survey` for an ordinary CSV."
        )
    question_text = dict(zip(columns, raw.iloc[0].tolist(), strict=True))
    body = raw.iloc[n_header:].reset_index(drop=True).astype("str")
    if subject_from not in body.columns:
        raise FileFormatError(
            f"{str(path)!r} has no column {subject_from!r} to take the participant id from; "
            f"columns found: {format_values(body.columns, limit=8)}. Pass `subject_from=`."
        )
    id_cols = [c for c in (subject_from, "ResponseId") if c in columns]
    frame = _finish(
        body,
        path=path,
        fmt="qualtrics",
        ids=id_cols,
        codes=_missing_codes(missing_codes),
        numeric=(),
        decimal=".",
        audit=[],
        report={"encoding": encoding, "sep": ","},
        check_id_pairs=False,
    )
    policy_attrs = {k: frame.attrs[k] for k in ("format", "missing")}
    if subject_from not in frame.columns:
        raise FileFormatError(
            f"{str(path)!r} has no column {subject_from!r} to take the participant id from; "
            f"columns found: {format_values(frame.columns, limit=8)}. Pass `subject_from=`."
        )

    new_names = {subject: subject_from, "response_id": "ResponseId"}
    if wave is not None:
        new_names["wave"] = ""
    _check_new_names(path, frame.columns, new_names)
    audit: list[dict[str, Any]] = [*legacy_audit, *frame.attrs["audit"]]
    # responses numbered from 1 below the header rows (file lines would miscount when a
    # question text holds a line break)
    line = pd.Series(frame.index.to_numpy() + 1, index=frame.index)
    if drop_previews or drop_spam:
        status = (
            frame["Status"].astype("string").str.strip().str.lower()
            if "Status" in frame.columns
            else pd.Series(pd.NA, index=frame.index, dtype="string")
        )
        status = status.str.replace(r"\.0$", "", regex=True)
        channel = (
            frame["DistributionChannel"].astype("string").str.strip().str.lower()
            if "DistributionChannel" in frame.columns
            else pd.Series(pd.NA, index=frame.index, dtype="string")
        )
        preview = (status.isin(list(_PREVIEW_STATUS)) | (channel == "preview")).fillna(False)
        test = (status.isin(list(_TEST_STATUS)) | (channel == "test")).fillna(False) & ~preview
        spam = status.isin(list(_SPAM_STATUS)).fillna(False) & ~preview & ~test
        if not drop_previews:
            preview = preview & False
            test = test & False
        if not drop_spam:
            spam = spam & False
        for reason, mask in (("survey preview", preview), ("survey test", test), ("spam", spam)):
            if mask.any():
                ids = frame.loc[mask, "ResponseId"] if "ResponseId" in frame else []
                audit.append(
                    _audit_record(
                        "read_qualtrics",
                        reason,
                        int(mask.sum()),
                        f"ResponseId {format_values(list(ids))}" if len(ids) else "",
                    )
                )
        frame = frame.loc[~(preview | test | spam)]
        line = line.loc[frame.index]
        frame = frame.reset_index(drop=True)
        line = line.reset_index(drop=True)

    if subject_from != "ResponseId":
        blank = frame[subject_from].isna() | (
            frame[subject_from].astype("string").str.strip() == ""
        )
        blank = blank.fillna(True).to_numpy(dtype=bool)
        if blank.any():
            responses = (
                frame.loc[blank, "ResponseId"].astype("string").tolist()
                if "ResponseId" in frame.columns
                else []
            )
            lines = line[blank].tolist()
            failure = pd.DataFrame(
                {
                    "check": ["blank_id"],
                    "column": [subject_from],
                    "rows": [lines[:20]],
                    "values": [responses[:20]],
                    "expected": ["a participant id"],
                    "n": [int(blank.sum())],
                }
            )
            raise FileFormatError(
                f"{str(path)!r}: {int(blank.sum())} response(s) have a blank {subject_from} "
                f"(the participant id): response(s) {format_values(lines, limit=10)} "
                f"(counted from 1 below the {n_header + 1} header rows, previews included)"
                + (f" (ResponseId {format_values(responses, limit=10)})" if responses else "")
                + ". Fill in the id (the contact list's external data reference), remove the "
                "response from the export, or pass subject_from='ResponseId' for an anonymous "
                "survey.",
                failure,
            )

    ids = frame[subject_from].astype("string")
    rename = {"ResponseId": "response_id"} if "ResponseId" in frame.columns else {}
    frame = frame.rename(columns=rename)
    if subject_from != "ResponseId":
        frame = frame.drop(columns=subject_from)
    frame.insert(0, subject, ids.to_numpy())
    frame[subject] = frame[subject].astype("string")
    if wave is not None:
        frame.insert(1, "wave", pd.array([wave] * len(frame), dtype="string"))
    frame.attrs = {
        "source": {"path": str(path), "format": "qualtrics"},
        "audit": audit,
        "question_text": question_text,
        "import_ids": import_ids,
        **policy_attrs,
    }
    return frame
