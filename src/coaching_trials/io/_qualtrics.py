"""`read_qualtrics`: Qualtrics CSV exports (three header rows, or the legacy two)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from coaching_trials._errors import FileFormatError, format_values
from coaching_trials.io._read_common import (
    _audit_record,
    _check_new_names,
    _finish,
    _missing_codes,
)

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


def _header_rows(
    raw: pd.DataFrame, path: Path
) -> tuple[pd.DataFrame, int, dict[str, str], list[dict[str, Any]]]:
    """Recognise the extra header rows: (frame, how many, import ids, audit of a legacy file)."""
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
    return raw, n_header, import_ids, legacy_audit


def _drop_responses(
    frame: pd.DataFrame,
    line: pd.Series,
    drop_previews: bool,
    drop_spam: bool,
    audit: list[dict[str, Any]],
) -> tuple[pd.DataFrame, pd.Series]:
    """Remove preview, test and spam responses, each reason counted in ``audit``."""
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

    return frame, line


def _refuse_blank_ids(
    frame: pd.DataFrame, line: pd.Series, path: Path, subject_from: str, n_header: int
) -> None:
    """A kept response without a participant id cannot be linked: one error naming them."""
    blank = frame[subject_from].isna() | (frame[subject_from].astype("string").str.strip() == "")
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
    raw, n_header, import_ids, legacy_audit = _header_rows(raw, path)
    columns = [str(c) for c in raw.columns]
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
        frame, line = _drop_responses(frame, line, drop_previews, drop_spam, audit)
    if subject_from != "ResponseId":
        _refuse_blank_ids(frame, line, path, subject_from, n_header)

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
