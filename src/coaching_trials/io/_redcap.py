"""`read_redcap`: REDCap CSV exports, raw or labelled (with the data dictionary): events,
repeating instruments, checkboxes, missing data codes."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from coaching_trials._errors import ProblemLog, format_values, one_of
from coaching_trials.io import _redcap_dictionary as _rd
from coaching_trials.io._read_common import (
    _audit_record,
    _check_new_names,
    _drop_rows,
    _finish,
    _format_audit,
    _missing_codes,
)
from coaching_trials.io._read_text import _read_text_table
from coaching_trials.io._redcap_dictionary import (
    RedcapDictionary,
    checkbox_missing,
    read_redcap_dictionary,
    redcap_missing_codes,
)
from coaching_trials.io.missing import MissingCodes, chain_missing

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


def _repeating_rows(
    frame: pd.DataFrame, repeating: str, path: Path, audit: list[dict[str, Any]]
) -> pd.DataFrame:
    """Rows of repeating instruments dropped (counted per instrument), kept, or kept alone."""
    if "redcap_repeat_instrument" not in frame.columns:
        if repeating == "only":
            raise ValueError(
                f"`repeating='only'` was asked for, but {str(path)!r} has no "
                "'redcap_repeat_instrument' column (the export has no repeating instruments)."
            )
        return frame
    instrument = frame["redcap_repeat_instrument"].astype("string").str.strip()
    is_repeat = instrument.notna() & (instrument != "")
    if repeating == "drop" and is_repeat.any():
        counts = instrument[is_repeat].value_counts(sort=False)
        for name, n in counts.items():
            audit.append(
                _audit_record("read_redcap", "repeating instrument row", n, f"instrument {name!r}")
            )
        frame = frame.loc[~is_repeat]
    elif repeating == "only":
        frame = frame.loc[is_repeat]
    if repeating == "drop":
        repeat_cols = ("redcap_repeat_instrument", "redcap_repeat_instance")
        frame = frame.drop(columns=[c for c in repeat_cols if c in frame.columns])
    return frame


def _events_to_waves(
    frame: pd.DataFrame,
    events: Mapping[str, str | None] | None,
    wave: str,
    log: ProblemLog,
    audit: list[dict[str, Any]],
) -> pd.DataFrame:
    """``redcap_event_name`` -> the ``wave`` column (events mapped to None dropped, counted)."""
    if "redcap_event_name" not in frame.columns:
        return frame
    event = frame["redcap_event_name"].astype("string")
    if events is None:
        wave_values = event.str.replace(_REDCAP_ARM_SUFFIX, "", regex=True)
    else:
        unknown = event.notna() & ~event.isin(list(events))
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
        for name, n in event[dropped].value_counts(sort=False).items():
            audit.append(_audit_record("read_redcap", "event mapped to None", n, f"event {name!r}"))
        wave_values = event.map({k: v for k, v in mapping.items() if v is not None})
        frame = frame.loc[~dropped]
        wave_values = wave_values.loc[~dropped]
    frame = frame.drop(columns="redcap_event_name")
    frame.insert(0, wave, wave_values.astype("string"))
    return frame


def _checkbox_columns(frame: pd.DataFrame, checkboxes: str, log: ProblemLog) -> dict:
    """The field -> codes map of checkbox columns; with ``"bool"`` they become booleans."""
    boxes: dict[str, list[str]] = {}
    for col in frame.columns:
        match = _CHECKBOX.match(str(col))
        if match:
            boxes.setdefault(match["field"], []).append(match["code"])
            if checkboxes == "bool":
                frame[col] = _checkbox_to_bool(frame[col], str(col), log)
    return boxes


def _apply_dictionary(
    frame: pd.DataFrame,
    dd: RedcapDictionary,
    values: str,
    codes: MissingCodes,
    path: Path,
    audit: list[dict[str, Any]],
) -> pd.DataFrame:
    """Labelled headers -> field names and choice labels -> codes, each step in the audit."""
    step = "read_redcap"
    if not any(str(c) in dd.fields or _CHECKBOX.match(str(c)) for c in frame.columns):
        renames, unknown = _rd.header_names(list(frame.columns), dd)
        frame = frame.rename(columns=renames)
        detail = f"{len(renames)} field label(s) as headers mapped to field names"
        if unknown:
            detail += (
                f"; {len(unknown)} header(s) not in the data dictionary kept as written: "
                f"{format_values(unknown)} (pass rename= to name them)"
            )
        audit.append(_audit_record(step, "format detected: REDCap labelled headers", 0, detail))
    targets = _rd._targets(list(frame.columns), dd)
    labelled = values == "labels" or (values == "auto" and _rd.detect_labels(frame, targets))
    log = ProblemLog(f"REDCap export {path.name}")
    frame = _rd.labels_to_codes(frame, targets, codes, labelled=labelled, log=log)
    log.raise_if_any()
    kind = "choice labels mapped to codes" if labelled else "choice codes checked"
    audit.append(
        _audit_record(
            step,
            f"format detected: REDCap {'labelled' if labelled else 'raw'} values",
            0,
            f"{kind} in {len(targets)} column(s) with the data dictionary"
            + (" (values='auto')" if values == "auto" else ""),
        )
    )
    return frame


def read_redcap(
    path: str | os.PathLike[str],
    *,
    events: Mapping[str, str | None] | None = None,
    record_id: str = "record_id",
    subject: str = "participant_id",
    wave: str = "wave",
    repeating: Literal["drop", "keep", "only"] = "drop",
    checkboxes: Literal["bool", "raw"] = "bool",
    missing_codes: Mapping[Any, str] | str | None = None,
    dictionary: str | os.PathLike[str] | pd.DataFrame | None = None,
    values: Literal["auto", "labels", "raw"] = "auto",
    rename: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Read a REDCap CSV export (raw or labelled) into a responses frame.

    A raw export ("CSV / Microsoft Excel (raw data)": field names as headers, choice codes as
    values) is read as it is. A labelled export ("CSV (labels)": choice labels as values and/or
    field labels as headers) needs the project's data dictionary (``dictionary=``): labelled
    headers become field names (checkbox columns ``Label (choice=Choice)`` become
    ``field___code``) and choice labels become their codes, exactly; a cell that is not a choice
    of its field is an error naming column, rows and label. With a dictionary, a raw export's
    codes are checked against the choices too. Checkbox cells may hold 0/1 or
    Checked/Unchecked.

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
    missing_codes : mapping or str, optional
        Declared missing-value codes ``{token_or_number: reason}`` (see
        :func:`read_survey`), or REDCap's "Missing Data Codes" setting pasted as text
        (``"UNK, Unknown\\nNASK, Not asked"``: the label is the reason). Cells are read as text
        and converted under the same policy; in a labelled export a code's label counts as the
        code; a checkbox column for a code (``field___unk``) sets the field's boxes missing
        where it is checked, with that reason, and is dropped.
    dictionary : path or pandas.DataFrame, optional
        The project's data dictionary (see :func:`read_redcap_dictionary`): needed for a
        labelled export; with a raw export it checks every choice code.
    values : {"auto", "labels", "raw"}, default "auto"
        With a dictionary: whether choice cells hold labels or codes. ``"auto"`` takes labels
        when any choice cell is not a code (nor blank nor a declared missing code); what was
        decided is in the audit.
    rename : mapping, optional
        Headers to rename before anything else (e.g. a labelled export's headers of REDCap's
        own columns, ``{"Event Name": "redcap_event_name"}``, which are not in the dictionary).
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
        For events missing from ``events``, checkbox cells that are not 0/1 or
        Checked/Unchecked, and (with a dictionary) cells that are not choices of their field
        (all such problems together).
    FileFormatError
        The data dictionary cannot be read or lacks its required columns.

    Notes
    -----
    Validated on REDCap-layout exports built in ``tests/io/test_io_readers.py`` and
    ``tests/data/messy/`` (events, repeating instruments, checkbox columns raw and labelled,
    labelled exports with their data dictionary, missing data codes); there is no independent
    reference implementation. The REDCap conventions relied on (dictionary columns, choice
    syntax, labelled headers, missing data codes) are cited in
    ``coaching_trials/io/_redcap_dictionary.py``.

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
    if values not in ("auto", "labels", "raw"):
        raise one_of("values", values, ("auto", "labels", "raw"))
    path = Path(path)
    if isinstance(missing_codes, str):
        missing_codes = redcap_missing_codes(missing_codes)
    codes = _missing_codes(missing_codes)
    frame, report, dec = _read_text_table(
        path, "csv", encoding=None, sep=None, decimal=None, skiprows=None, kwargs=kwargs
    )
    if rename:
        frame = frame.rename(columns=dict(rename))
    audit: list[dict[str, Any]] = []
    frame = _drop_rows(frame, "read_redcap", audit)
    _format_audit("read_redcap", report, audit)
    dd = read_redcap_dictionary(dictionary) if dictionary is not None else None
    if dd is not None:
        frame = _apply_dictionary(frame, dd, values, codes, path, audit)
    if record_id not in frame.columns:
        raise ValueError(
            f"{str(path)!r} has no record id column {record_id!r}; columns found: "
            f"{format_values(frame.columns, limit=8)}. Pass `record_id=` if it is named "
            "differently."
        )
    _check_new_names(path, frame.columns, {subject: record_id, wave: "redcap_event_name"})
    frame = _finish(
        frame,
        path=path,
        fmt="redcap",
        ids=[record_id],
        codes=codes,
        numeric=(),
        decimal=dec,
        audit=audit,
        report=report,
    )
    policy_attrs = {k: frame.attrs[k] for k in ("format", "missing")}
    if dd is not None and codes:
        frame, records, more = checkbox_missing(frame, dd, codes, "read_redcap")
        audit.extend(more)
        policy_attrs["missing"] = chain_missing(policy_attrs["missing"], records)
    log = ProblemLog(f"REDCap export {path.name}")
    frame = _repeating_rows(frame, repeating, path, audit)
    frame = _events_to_waves(frame, events, wave, log, audit)
    boxes = _checkbox_columns(frame, checkboxes, log)
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
