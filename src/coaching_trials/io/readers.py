"""Read survey exports into plain pandas DataFrames.

Every reader returns a new DataFrame whose ``attrs`` record where it came from:

- ``attrs["source"]``: ``{"path": str, "format": str}`` (plus ``"sheet_name"`` for Excel).
- ``attrs["audit"]``: a list of audit records (dicts with keys ``step, reason, n_rows,
  detail``) for every row a reader dropped; ``audit_frame(df.attrs["audit"])`` (from
  ``coaching_trials._audit``) turns it into the package's audit table. Records are plain dicts,
  not a DataFrame, because pandas compares ``attrs`` when concatenating frames and cannot
  compare DataFrames.
- ``attrs["value_labels"]`` / ``attrs["column_labels"]`` (SPSS and Stata only): the labels that
  were *not* applied, so numeric item columns keep their numeric codes.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from coaching_trials._errors import ProblemLog, format_values, one_of

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


def _read_spss(path: Path, kwargs: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    try:
        import pyreadstat
    except ImportError as exc:
        raise ImportError(_SPSS_HINT) from exc
    kwargs = {"apply_value_formats": False, **kwargs}
    frame, meta = pyreadstat.read_sav(str(path), **kwargs)
    extra = {
        "value_labels": {k: dict(v) for k, v in (meta.variable_value_labels or {}).items()},
        "column_labels": {
            name: label
            for name, label in zip(meta.column_names, meta.column_labels or [], strict=False)
            if label
        },
    }
    return frame, extra


def _read_stata(path: Path, kwargs: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    kwargs = {"convert_categoricals": False, **kwargs}
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
    return frame, {"value_labels": value_labels, "column_labels": column_labels}


def read_survey(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    sheet_name: str | int = 0,
    **kwargs: Any,
) -> pd.DataFrame:
    """Read a survey export (CSV, TSV, Excel, Parquet, SPSS or Stata) into a DataFrame.

    Parameters
    ----------
    path : str or path-like
        The file to read.
    format : {"csv", "tsv", "excel", "parquet", "spss", "stata"}, optional
        The file format. By default it is taken from the extension (see
        ``SUPPORTED_FORMATS``).
    sheet_name : str or int, default 0
        Excel only: the single sheet to read (name or 0-based position).
    **kwargs
        Passed to the underlying reader (``pandas.read_csv``, ``pandas.read_excel``,
        ``pandas.read_parquet``, ``pyreadstat.read_sav`` or ``pandas.read_stata``).

    Returns
    -------
    pandas.DataFrame
        The data, with ``attrs["source"] = {"path": ..., "format": ...}``. For SPSS and Stata,
        value labels are **not** applied (numeric codes stay numeric); they are kept in
        ``attrs["value_labels"]`` and variable labels in ``attrs["column_labels"]``.

    Raises
    ------
    ValueError
        If the format cannot be inferred from the extension or is not supported.
    ImportError
        If an SPSS file is read without the optional ``pyreadstat`` dependency.

    Notes
    -----
    SPSS files need the optional extra: ``pip install "coaching-trials[spss]"``. Stata files
    are read with pandas alone.

    Validated by round trips: the sample responses written by pandas to every supported format
    and read back compare equal (``tests/io/test_io_readers.py``); SPSS and Stata files are
    written with value labels to check they are not applied.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "wave1.csv"
    >>> wave1 = pd.DataFrame({"participant_id": ["P001", "P002"], "pfi_01": [3, 1]})
    >>> wave1.to_csv(tmp, index=False)
    >>> df = read_survey(tmp)
    >>> df["pfi_01"].tolist()
    [3, 1]
    >>> df.attrs["source"]["format"]
    'csv'
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

    source: dict[str, Any] = {"path": str(path), "format": fmt}
    extra: dict[str, Any] = {}
    if fmt == "csv":
        frame = pd.read_csv(path, **kwargs)
    elif fmt == "tsv":
        frame = pd.read_csv(path, **{"sep": "\t", **kwargs})
    elif fmt == "excel":
        if sheet_name is None or isinstance(sheet_name, (list, tuple)):
            raise TypeError(
                "`sheet_name` must name one sheet (a str or an int position); "
                f"got {sheet_name!r}. Read sheets one at a time."
            )
        frame = pd.read_excel(path, sheet_name=sheet_name, **{"engine": "openpyxl", **kwargs})
        source["sheet_name"] = sheet_name
    elif fmt == "parquet":
        frame = pd.read_parquet(path, **kwargs)
    elif fmt == "spss":
        frame, extra = _read_spss(path, kwargs)
    else:  # stata
        frame, extra = _read_stata(path, kwargs)

    frame = frame.copy()
    frame.attrs = {"source": source, "audit": [], **extra}
    return frame


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
        The REDCap record id column; it is renamed to ``subject`` and read as text so that
        leading zeros survive.
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
    frame = pd.read_csv(path, **{"dtype": {record_id: "string"}, **kwargs})
    if record_id not in frame.columns:
        raise ValueError(
            f"{str(path)!r} has no record id column {record_id!r}; columns found: "
            f"{format_values(frame.columns, limit=8)}. Pass `record_id=` if it is named "
            "differently."
        )
    _check_new_names(path, frame.columns, {subject: record_id, wave: "redcap_event_name"})
    audit: list[dict[str, Any]] = []
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
    }
    return frame


# --------------------------------------------------------------------------------------------
# Qualtrics
# --------------------------------------------------------------------------------------------

_PREVIEW_STATUS = {"survey preview", "1"}
_TEST_STATUS = {"survey test", "2"}


def _is_import_id_row(row: pd.Series) -> bool:
    return bool(row.astype("string").str.lstrip().str.startswith('{"ImportId"').fillna(False).any())


def read_qualtrics(
    path: str | os.PathLike[str],
    *,
    subject: str = "participant_id",
    subject_from: str = "ExternalReference",
    wave: str | None = None,
    drop_previews: bool = True,
    encoding: str = "utf-8-sig",
    **kwargs: Any,
) -> pd.DataFrame:
    """Read a Qualtrics CSV export (with its two extra header rows) into a DataFrame.

    A Qualtrics CSV has three header rows: the column names (``Q1``, ``pfi_01`` ...), the
    question text, and the ``{"ImportId": ...}`` JSON row. The last two are removed (the
    question text is kept in ``attrs["question_text"]`` and the import ids in
    ``attrs["import_ids"]``) and the column types are then inferred as ``pandas.read_csv``
    would for an ordinary CSV.

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
    encoding : str, default "utf-8-sig"
        Qualtrics writes UTF-8 with a byte-order mark.
    **kwargs
        Passed to ``pandas.read_csv`` when the data rows are parsed.

    Returns
    -------
    pandas.DataFrame
        ``subject`` first (and ``wave`` when given), then the export's columns.

    Notes
    -----
    Validated on Qualtrics-layout exports (three header rows, preview and test responses) built
    in ``tests/io/test_io_readers.py``; there is no independent reference implementation.

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
    raw = pd.read_csv(
        path, dtype="string", keep_default_na=False, encoding=encoding, na_filter=False
    )
    if len(raw) < 2 or not _is_import_id_row(raw.iloc[1]):
        raise ValueError(
            f"{str(path)!r} does not look like a Qualtrics CSV export: its third row should be "
            'the {"ImportId": ...} row (export with "Use legacy exports" switched off). '
            "Use `read_survey` for an ordinary CSV."
        )
    columns = [str(c) for c in raw.columns]
    question_text = dict(zip(columns, raw.iloc[0].tolist(), strict=True))
    import_ids: dict[str, str] = {}
    for col, cell in zip(columns, raw.iloc[1].tolist(), strict=True):
        try:
            import_ids[col] = str(json.loads(cell).get("ImportId", ""))
        except (ValueError, AttributeError):
            import_ids[col] = str(cell)

    body = raw.iloc[2:]
    buffer = io.StringIO(body.to_csv(index=False))
    id_types = {c: "string" for c in (subject_from, "ResponseId") if c in columns}
    frame = pd.read_csv(buffer, **{"dtype": id_types, **kwargs})
    if subject_from not in frame.columns:
        raise ValueError(
            f"{str(path)!r} has no column {subject_from!r} to take the participant id from; "
            f"columns found: {format_values(frame.columns, limit=8)}. Pass `subject_from=`."
        )

    new_names = {subject: subject_from, "response_id": "ResponseId"}
    if wave is not None:
        new_names["wave"] = ""
    _check_new_names(path, frame.columns, new_names)
    audit: list[dict[str, Any]] = []
    if drop_previews:
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
        for reason, mask in (("survey preview", preview), ("survey test", test)):
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
        frame = frame.loc[~(preview | test)].reset_index(drop=True)

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
    }
    return frame
