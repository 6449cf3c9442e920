"""What every reader shares: audit records, dropped rows, ids as text and the missing-value
policy applied once at the end (:func:`finish`)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import FileFormatError, ProblemLog, format_values
from coaching_trials.io import missing as _missing
from coaching_trials.io.ids import check_ids, ids_as_text, is_id_column
from coaching_trials.io.missing import MissingCodes, MissingRecords, apply_missing_policy


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


def _missing_codes(declared: Any) -> MissingCodes:
    return _missing.missing_codes(declared)


def _merge_codes(*declared: MissingCodes) -> MissingCodes:
    return _missing.missing_codes(*declared)
