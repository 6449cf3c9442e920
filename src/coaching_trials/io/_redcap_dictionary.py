"""REDCap's data dictionary, and labelled exports mapped back to codes with it.

REDCap facts this module relies on, each from public documentation (checked 2026-12):

- The data dictionary is a CSV with one row per field and (up to) 18 columns, among them
  ``Variable / Field Name``, ``Form Name``, ``Field Type``, ``Field Label`` and ``Choices,
  Calculations, OR Slider Labels`` (Sage-Bionetworks redcapdd, ``get_dd_cols``:
  https://rdrr.io/github/Sage-Bionetworks/redcapdd/man/get_dd_cols.html). The same metadata
  through the API uses ``field_name``, ``form_name``, ``field_type``, ``field_label`` and
  ``select_choices_or_calculations`` (REDCapCAST, ``redcapcast_meta``:
  https://rdrr.io/cran/REDCapCAST/man/redcapcast_meta.html). Both spellings are accepted.
- The first field of the first form is the record identifier (Vanderbilt's "Creating a Data
  Dictionary in REDCap", column A, Variable/Field Name).
- For dropdown, radio and checkbox fields the choices column is a ``|``-separated list of
  ``code, label`` pairs, e.g. ``1, Yes | 2, No | 3, Unknown`` (linkml-redcap,
  ``choices_calculations_slider_labels``:
  https://linkml.io/linkml-redcap/reference/data_dictionary/choices_calculations_slider_labels/).
  ``yesno`` and ``truefalse`` fields are built-in Yes/No and True/False buttons stored as 1/0
  (linkml-redcap, ``FieldType``).
- In an export with labelled headers a checkbox column is headed
  ``<field label> (choice=<choice label>)`` (vubiostat/redcapAPI issue #301 and PR #303;
  redcap-tools/PyCap issue #19); in raw headers it is ``<field name>___<code>``. With labels
  as values a checkbox cell is ``Checked`` or ``Unchecked`` instead of 1/0 (redcap-tools/PyCap
  issue #46).
- Missing data codes are a project setting, entered like choices, one ``code, label`` per line
  (e.g. ``-999, Not asked`` or ``UNK, Unknown``; codes hold letters, numbers, dots, dashes and
  underscores); a chosen code is saved as the literal value of the field, and for a checkbox
  field it is exported as one more checkbox column with 1 for the code chosen (UW-Madison KB
  108107 "REDCap: Missing Data Codes"; Utah CTSI "Missing Data Codes"). They are not in the
  data dictionary, so the caller declares them (``missing_codes=``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import FileFormatError, ProblemLog, format_values
from coaching_trials.io.missing import MissingCodes

__all__ = ["RedcapDictionary", "RedcapField", "read_redcap_dictionary", "redcap_missing_codes"]

#: dictionary column -> accepted spellings (the CSV download, then the API's metadata names)
_COLUMNS = {
    "name": ("variable / field name", "field_name"),
    "form": ("form name", "form_name"),
    "type": ("field type", "field_type"),
    "label": ("field label", "field_label"),
    "choices": ("choices, calculations, or slider labels", "select_choices_or_calculations"),
}
_CHOICE_TYPES = {"radio", "dropdown", "checkbox"}
_BUILT_IN = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}
_CHECKBOX_LABELS = {"checked": "1", "unchecked": "0"}
_CHECKBOX_COLUMN = re.compile(r"^(?P<field>.+?)___(?P<code>[^_].*)$")


@dataclass(frozen=True)
class RedcapField:
    """One row of the data dictionary: name, form, type, label and choices (code -> label)."""

    name: str
    form: str
    type: str
    label: str
    choices: Mapping[str, str] = field(default_factory=dict)

    def choices_text(self) -> str:
        """The choices as REDCap writes them: ``1, Never | 2, Rarely``."""
        return " | ".join(f"{code}, {label}" for code, label in self.choices.items())


@dataclass(frozen=True)
class RedcapDictionary:
    """A REDCap project's data dictionary: its fields in order (the record id first)."""

    fields: Mapping[str, RedcapField]

    @property
    def record_id(self) -> str:
        """The record id field (the dictionary's first field)."""
        return next(iter(self.fields))

    def to_frame(self) -> pd.DataFrame:
        """``name, form, type, label, choices`` (choices as REDCap writes them)."""
        rows = [
            {"name": f.name, "form": f.form, "type": f.type, "label": f.label,
             "choices": f.choices_text()}
            for f in self.fields.values()
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=["name", "form", "type", "label", "choices"])


def _squash(text: Any) -> str:
    return " ".join(str(text).split())


def _parse_choices(text: str, where: str, log: ProblemLog) -> dict[str, str]:
    choices: dict[str, str] = {}
    for part in str(text).split("|"):
        if not part.strip():
            continue
        code, comma, label = part.partition(",")
        if not comma or not code.strip():
            log.add(
                "dictionary_choices",
                f"{where}: choice {part.strip()!r} is not 'code, label' (REDCap writes choices "
                "as '1, Never | 2, Rarely | ...').",
                values=[part.strip()],
                expected="code, label",
            )
            continue
        choices[code.strip()] = _squash(label)
    return choices


def read_redcap_dictionary(source: str | os.PathLike[str] | pd.DataFrame) -> RedcapDictionary:
    """Read a REDCap data dictionary (the CSV download, or the API's metadata as a frame).

    Parameters
    ----------
    source : path or pandas.DataFrame
        "Project Setup > Data Dictionary > Download the current Data Dictionary" (columns
        ``Variable / Field Name``, ``Form Name``, ``Field Type``, ``Field Label``, ``Choices,
        Calculations, OR Slider Labels``, ...) or a frame with the API names
        (``field_name``, ``form_name``, ``field_type``, ``field_label``,
        ``select_choices_or_calculations``).

    Returns
    -------
    RedcapDictionary

    Raises
    ------
    FileFormatError
        A required column is absent, a field name repeats, or a choice is not ``code, label``
        (every such problem at once, naming the dictionary row).

    Examples
    --------
    >>> import pandas as pd
    >>> dd = read_redcap_dictionary(pd.DataFrame({
    ...     "Variable / Field Name": ["record_id", "pfi_01"],
    ...     "Form Name": ["pfi", "pfi"],
    ...     "Field Type": ["text", "radio"],
    ...     "Field Label": ["Record ID", "I feel happy at work"],
    ...     "Choices, Calculations, OR Slider Labels": ["", "0, Not at all | 1, Very little"],
    ... }))
    >>> dd.record_id, dict(dd.fields["pfi_01"].choices)
    ('record_id', {'0': 'Not at all', '1': 'Very little'})
    """
    if isinstance(source, pd.DataFrame):
        table, name = source.astype(str).replace({"nan": "", "None": ""}), "data dictionary"
    else:
        name = f"data dictionary {str(source)!r}"
        try:
            table = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise FileFormatError(f"{name} could not be read as a CSV file ({exc}).") from exc
    found = {_squash(c).lower(): c for c in table.columns}
    picked = {key: next((found[s] for s in names if s in found), None)
              for key, names in _COLUMNS.items()}  # fmt: skip
    absent = [_COLUMNS[k][0] for k in ("name", "type", "label") if picked[k] is None]
    if absent:
        raise FileFormatError(
            f"{name} has no column(s) {format_values(absent)}; found "
            f"{format_values(list(table.columns), limit=8)}. Download it from REDCap's "
            "Project Setup > Data Dictionary (or pass the API's metadata)."
        )
    log = ProblemLog(name)
    fields: dict[str, RedcapField] = {}
    for row, rec in enumerate(table.to_dict("records"), start=1):
        fname = str(rec[picked["name"]]).strip()
        if not fname:
            continue
        ftype = str(rec[picked["type"]]).strip().lower()
        where = f"{name}, row {row} (field {fname!r})"
        if fname in fields:
            log.add("dictionary_duplicate", f"{where}: the field name repeats.", values=[fname])
            continue
        choices: dict[str, str] = dict(_BUILT_IN.get(ftype, {}))
        if ftype in _CHOICE_TYPES and picked["choices"] is not None:
            choices = _parse_choices(rec[picked["choices"]], where, log)
        fields[fname] = RedcapField(
            name=fname,
            form=str(rec[picked["form"]]).strip() if picked["form"] else "",
            type=ftype,
            label=_squash(rec[picked["label"]]),
            choices=choices,
        )
    if not fields and not log:
        log.add("dictionary_empty", f"{name} lists no fields.")
    if log:
        raise FileFormatError(
            f"{len(log.problems)} problem(s) in {name}: "
            + "; ".join(p["message"] for p in log.problems),
            log.to_frame(),
        )
    return RedcapDictionary(fields)


def redcap_missing_codes(text: str) -> dict[str, str]:
    """REDCap's "Missing Data Codes" setting (``code, label`` per line or ``|``) as a dict.

    Examples
    --------
    >>> redcap_missing_codes("UNK, Unknown\\nNASK, Not asked | -999, Refused")
    {'UNK': 'Unknown', 'NASK': 'Not asked', '-999': 'Refused'}
    """
    log = ProblemLog("missing data codes")
    codes = _parse_choices(str(text).replace("\n", "|"), "`missing_codes`", log)
    if log:
        raise ValueError(
            "`missing_codes` as text must be REDCap's Missing Data Codes setting, one "
            f"'code, label' per line (e.g. 'UNK, Unknown'); {log.problems[0]['message']}"
        )
    return codes


# --------------------------------------------------------------------------------------------
# headers
# --------------------------------------------------------------------------------------------


def _header_candidates(dictionary: RedcapDictionary) -> dict[str, list[str]]:
    """Labelled header -> field (or checkbox column) names, in dictionary order."""
    out: dict[str, list[str]] = {}
    for f in dictionary.fields.values():
        if f.type == "checkbox":
            for code, label in f.choices.items():
                out.setdefault(f"{f.label} (choice={label})", []).append(f"{f.name}___{code}")
        elif f.type != "descriptive":
            out.setdefault(f.label, []).append(f.name)
    return out


def header_names(
    columns: Sequence[Any], dictionary: RedcapDictionary
) -> tuple[dict[Any, str], list[Any]]:
    """Map labelled headers to field names: (renames, headers not in the dictionary).

    Headers whose label several fields share are taken in dictionary order (REDCap exports
    fields in that order; pandas names the repeats ``label.1``, ``label.2``).
    """
    candidates = _header_candidates(dictionary)
    renames: dict[Any, str] = {}
    unknown: list[Any] = []
    for col in columns:
        text = _squash(col)
        if text in dictionary.fields or text.startswith("redcap_"):
            continue  # already a field name, or REDCap's own column named by `rename=`
        names, k = candidates.get(text), 0
        if names is None:
            base, dot, number = text.rpartition(".")
            if dot and number.isdigit() and base in candidates:
                names, k = candidates[base], int(number)
        if names is not None and k < len(names):
            renames[col] = names[k]
        else:
            unknown.append(col)
    return renames, unknown


# --------------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------------


@dataclass
class _Target:
    """A column to map: its field, the code -> label choices, and whether it is a checkbox."""

    column: Any
    field: RedcapField
    checkbox: bool


def _targets(columns: Sequence[Any], dictionary: RedcapDictionary) -> list[_Target]:
    out = []
    for col in columns:
        name = str(col)
        f = dictionary.fields.get(name)
        if f is not None and f.choices and f.type != "checkbox":
            out.append(_Target(col, f, False))
            continue
        box = _CHECKBOX_COLUMN.match(name)
        if box and box["field"] in dictionary.fields:
            out.append(_Target(col, dictionary.fields[box["field"]], True))
    return out


def _missing_tokens(codes: MissingCodes) -> list[str]:
    return [*codes.text, *(str(v).strip() for v in codes.labels.values())]


def _cells(frame: pd.DataFrame, col: Any) -> pd.Series:
    return frame[col].astype("string").str.strip()


def detect_labels(frame: pd.DataFrame, targets: Sequence[_Target]) -> bool:
    """True when some choice cell is a choice label and not a code (a labelled export)."""
    for t in targets:
        if t.checkbox:
            labels = set(_CHECKBOX_LABELS)
            cells = _cells(frame, t.column).str.lower()
        else:
            labels = set(t.field.choices.values()) - set(t.field.choices)
            cells = _cells(frame, t.column)
        if labels and cells.isin(list(labels)).any():
            return True
    return False


def labels_to_codes(
    frame: pd.DataFrame,
    targets: Sequence[_Target],
    codes: MissingCodes,
    *,
    labelled: bool,
    log: ProblemLog,
) -> pd.DataFrame:
    """Choice labels -> codes (``labelled``) or codes checked against the choices (raw).

    A declared missing code (or, in a labelled export, its label) passes through as the code;
    any other cell that is not a choice of its field is a problem naming column, rows, cells
    and the field's choices.
    """
    frame = frame.copy()
    by_reason = {reason: token for token, reason in codes.text.items()}
    for t in targets:
        cells = _cells(frame, t.column)
        if t.checkbox:
            table = _CHECKBOX_LABELS if labelled else {"1": "1", "0": "0"}
            mapped = cells.str.lower().map(table)
            shown = "Checked/Unchecked" if labelled else "1/0"
        else:
            if labelled:
                table = {label: code for code, label in t.field.choices.items()}
            else:
                table = {code: code for code in t.field.choices}
            mapped = cells.str.replace(r"\s+", " ", regex=True).map(table)
            shown = t.field.choices_text()
        missing_label = cells.map(by_reason) if labelled and not t.checkbox else None
        keep = cells.isna() | (cells == "") | cells.isin(_missing_tokens(codes))
        mapped = mapped.astype(object)
        if missing_label is not None:
            mapped = mapped.where(mapped.notna(), missing_label.astype(object))
        bad = ~keep & mapped.isna()
        if bad.any():
            what = "label(s)" if labelled else "code(s)"
            values = list(pd.unique(cells[bad]))
            log.add(
                "redcap_choice",
                f"column {str(t.column)!r}: {int(bad.sum())} cell(s) with {what} "
                f"{format_values(values)} at rows {format_values(frame.index[bad])} are not "
                f"choices of field {t.field.name!r} in the data dictionary ({shown}); expected "
                "a choice, blank or a declared missing code (missing_codes=).",
                column=str(t.column),
                rows=frame.index[bad],
                values=values,
                expected=shown,
            )
            continue
        frame[t.column] = pd.array(
            np.where(keep.to_numpy(bool), cells.fillna("").to_numpy(object), mapped.to_numpy()),
            dtype="str",
        )
    return frame


def checkbox_missing(
    frame: pd.DataFrame, dictionary: RedcapDictionary, codes: MissingCodes, step: str
) -> tuple[pd.DataFrame, list[dict[str, Any]], list[dict[str, Any]]]:
    """A checkbox column for a missing data code (``field___unk``) -> the field's boxes missing.

    Returns the frame without those columns, the missing records (``attrs["missing"]``) and
    the audit records (one ``declared missing: <reason>`` per code, rows counted once).
    """
    tokens = {str(tok).casefold(): (tok, reason) for tok, reason in codes.text.items()}
    records: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    drop = []
    for col in frame.columns:
        match = _CHECKBOX_COLUMN.match(str(col))
        f = dictionary.fields.get(match["field"]) if match else None
        if f is None or f.type != "checkbox":
            continue
        code = match["code"].casefold()
        if code in {c.casefold() for c in f.choices} or code not in tokens:
            continue
        token, reason = tokens[code]
        checked = frame[col].astype("string").str.strip().str.lower().isin(["1", "checked"])
        checked = checked.fillna(False).to_numpy(bool)
        drop.append(col)
        if not checked.any():
            continue
        boxes = [f"{f.name}___{c}" for c in f.choices if f"{f.name}___{c}" in frame.columns]
        rows = frame.index[checked]
        for box in boxes:
            frame[box] = frame[box].astype("float64" if frame[box].dtype != "str" else "str")
            frame.loc[checked, box] = np.nan
            records.append({"column": box, "token": token, "reason": reason, "rows": tuple(rows)})
        audit.append(
            {
                "step": step,
                "reason": f"declared missing: {reason}",
                "n_rows": int(checked.sum()),
                "detail": f"checkbox field {f.name!r}: missing data code {token!r} checked; "
                f"its {len(boxes)} box(es) set missing",
            }
        )
    if drop:
        frame = frame.drop(columns=drop)
    return frame, records, audit
