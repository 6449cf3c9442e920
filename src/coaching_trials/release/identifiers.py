"""Identifiers never leave: type checks of Table 1 variables and a scan of every released cell.

Direct identifiers (names, MRNs, e-mail addresses, phone numbers, dates of birth) and free text
are never summarised (``shared/DISCLOSURE.md``). Two guards:

- :func:`check_baseline_variables`, before anything is computed or written: a Table 1 variable
  that is free text (many distinct strings), unique per person (an MRN-like number), a date, or
  holds e-mail / phone-like values is refused with an error naming the column and the fix.
- :func:`scan_released`, on the released tables: any text cell or column name that holds a
  participant id (numeric or not), an e-mail address, a phone number or a long digit run
  stops the release.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import DataValidationError, format_values

__all__ = ["IdentifierError", "check_baseline_variables", "scan_released"]

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<!\w)\+?\(?\d{2,4}\)?[\s.-]\d{3,4}[\s.-]?\d{3,4}(?!\w)")
DIGIT_RUN = re.compile(r"(?<!\d)\d{6,}(?!\d)")
DATE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})(\s|T|$)")
#: Free text: more distinct values than this share of the people answering (and at least 12).
FREE_TEXT_SHARE = 0.5


class IdentifierError(DataValidationError):
    """Identifying data would reach a shared output; nothing was written."""


def _patterns(values: Iterable[str]) -> list[str]:
    found = []
    for v in values:
        for name, rx in (("e-mail", EMAIL), ("phone number", PHONE), ("long number", DIGIT_RUN)):
            if rx.search(v):
                found.append(f"{name} {v!r}")
                break
    return found


def check_baseline_variables(
    trial: Any, variables: Sequence[str], *, declared: Sequence[str] | None = None
) -> None:
    """Refuse Table 1 variables that could identify people (every problem at once).

    ``declared``: variables the analyst listed by name (``analysis.baseline_variables``);
    they skip the free-text and uniqueness checks but never the e-mail/phone/date checks.
    """
    from coaching_trials.release.linkage import TrialMasks

    masks = TrialMasks(trial)
    declared_set = set(declared or ())
    problems: list[dict[str, Any]] = []
    for var in variables:
        s = masks.variable(var)
        present = s.dropna()
        n = len(present)
        why = ""
        if pd.api.types.is_datetime64_any_dtype(s):
            why = "holds dates (a date of birth or visit date can identify a person)"
        elif not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            text = present.astype(str)
            hits = _patterns(text.unique())
            if hits:
                why = f"holds identifying values ({format_values(hits, 2)})"
            elif len(text) and text.str.match(DATE).mean() > 0.5:
                why = "holds dates (a date of birth or visit date can identify a person)"
            elif var not in declared_set and n and text.nunique() > max(12, FREE_TEXT_SHARE * n):
                why = f"is free text ({text.nunique()} distinct values among {n} people)"
        elif var not in declared_set and n >= 5:
            x = pd.to_numeric(present, errors="coerce").to_numpy(float)
            whole = np.all(np.isfinite(x) & (x == np.round(x)))
            if whole and present.nunique() == n and np.nanmin(np.abs(x)) >= 10_000:
                why = "is unique per person with 5 or more digits (looks like a record number)"
        if why:
            problems.append(
                dict(
                    check="identifier",
                    column=var,
                    rows="",
                    values="",
                    expected="a declared, non-identifying characteristic",
                    n=n,
                    reason=why,
                )
            )
    if problems:
        lines = [f"  - column {p['column']!r} {p['reason']}" for p in problems]
        raise IdentifierError(
            "Table 1 would summarise column(s) that can identify participants; nothing was "
            "written:\n"
            + "\n".join(lines)
            + "\nDrop the column from the participants file, or list the variables to show "
            "by name (`analysis.baseline_variables = [...]` in the config, or "
            "`baseline_variables=` in Python).",
            pd.DataFrame(problems).drop(columns="reason"),
        )


def _text_cells(tables: Mapping[str, pd.DataFrame]) -> Iterable[tuple[str, str, str]]:
    for name, frame in tables.items():
        for col in frame.columns:
            yield name, "(column name)", str(col)
        for col in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[col]):
                continue
            for v in pd.unique(frame[col].dropna()):
                if isinstance(v, str):
                    yield name, str(col), v


def scan_released(tables: Mapping[str, pd.DataFrame], ids: Sequence[Any]) -> None:
    """Raise :class:`IdentifierError` if a released text cell holds an identifier.

    Participant ids are matched as whole words (ids of one or two digits cannot be told from
    numbers and are not searched; ids with a letter are searched from two characters).
    """
    words_ids = {
        str(i)
        for i in ids
        if isinstance(i, str) and (len(i) >= 3 or (len(i) >= 2 and re.search(r"[A-Za-z]", i)))
    }
    found: list[str] = []
    for name, col, text in _text_cells(tables):
        tokens = set(re.findall(r"[\w.@+-]+", text)) | set(re.findall(r"\w+", text))
        hit = words_ids & tokens
        if hit:
            found.append(f"{name}.{col}: participant id {sorted(hit)[0]!r}")
            continue
        pats = _patterns([text])
        if pats:
            found.append(f"{name}.{col}: {pats[0]}")
    if found:
        raise IdentifierError(
            "a released table would show identifying text; nothing was written:\n"
            + "\n".join(f"  - {f}" for f in found[:10])
            + "\nRename the category, label or column that carries it."
        )
