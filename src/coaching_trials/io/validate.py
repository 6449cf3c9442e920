"""Validate a long responses frame and report every problem at once.

:func:`validate_responses` runs all checks, collecting problems in one
:class:`~coaching_trials._errors.ProblemLog`, and either raises a single
:class:`~coaching_trials.DataValidationError` listing them all or returns a
:class:`ValidationReport`. The individual ``check_*`` functions take a frame, column names and
a ``ProblemLog`` so that other layers (e.g. the trial design) can reuse them; each returns
``None`` and only appends to the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from coaching_trials._errors import ProblemLog, format_values
from coaching_trials._results import FrameCopies
from coaching_trials._vocab import renamed
from coaching_trials.instruments.items import item_columns, item_name_hint
from coaching_trials.io.missing import convert_numbers, convert_text
from coaching_trials.io.missing import missing_codes as build_missing_codes

__all__ = [
    "ValidationReport",
    "check_duplicates",
    "check_empty_levels",
    "check_instrument_items",
    "check_known_levels",
    "check_missing_values",
    "check_one_arm_per_subject",
    "check_required_columns",
    "check_sessions",
    "validate",
    "validate_responses",
]


class _InstrumentLike(Protocol):
    id: str
    items: tuple[str, ...]
    response_min: float
    response_max: float


def _rows(index: Iterable[Any]) -> str:
    return format_values(list(index))


def _present(df: pd.DataFrame, column: str | None) -> bool:
    return column is not None and column in df.columns


# --------------------------------------------------------------------------------------------
# individual checks
# --------------------------------------------------------------------------------------------


def _separator_hint(columns: Iterable[Any], wanted: str) -> str:
    """A hint when the wanted name sits inside one header cell split by another separator."""
    for col in columns:
        text = str(col)
        for sep, name in ((";", "';'"), ("\t", "'\\t'"), ("|", "'|'")):
            if sep in text and wanted in text.split(sep):
                return (
                    f" The header {text[:60]!r} looks like one cell holding several names "
                    f"separated by {name}: read the file with sep={name}"
                    + (", decimal=','" if sep == ";" else "")
                    + " (coaching_trials.read_survey detects this when sep= is not given)."
                )
    return ""


def check_required_columns(df: pd.DataFrame, columns: Iterable[str], log: ProblemLog) -> None:
    """Record every column of ``columns`` that ``df`` lacks (one problem per column)."""
    for col in dict.fromkeys(columns):
        if col not in df.columns:
            log.add(
                "missing_column",
                f"column {col!r} is missing; expected it among the columns "
                f"(found {format_values(df.columns, limit=8)})." + _separator_hint(df.columns, col),
                column=col,
                expected="column present",
            )


def check_missing_values(df: pd.DataFrame, columns: Iterable[str], log: ProblemLog) -> None:
    """Record missing values (NA/NaN/None or blank text) in key columns such as id, arm, wave."""
    for col in dict.fromkeys(columns):
        if col not in df.columns:
            continue
        values = df[col]
        missing = values.isna()
        if pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values):
            missing |= values.astype("string").str.strip().eq("").fillna(False)
        if missing.any():
            log.add(
                "missing_value",
                f"column {col!r}: {int(missing.sum())} row(s) with a missing value at rows "
                f"{_rows(df.index[missing])}; expected a value on every row.",
                column=col,
                rows=df.index[missing],
                expected="non-missing",
            )


def check_known_levels(
    df: pd.DataFrame, column: str, allowed: Sequence[Any], log: ProblemLog, *, what: str = "value"
) -> None:
    """Record rows whose ``column`` holds a value outside ``allowed`` (missing values ignored)."""
    if column not in df.columns:
        return
    values = df[column]
    allowed = list(allowed)
    unknown = values.notna() & ~values.isin(allowed)
    if unknown.any():
        bad = pd.unique(values[unknown])
        log.add(
            f"unknown_{what}",
            f"column {column!r}: {int(unknown.sum())} row(s) with unknown {what}(s) "
            f"{format_values(bad)} at rows {_rows(df.index[unknown])}; expected one of "
            f"{format_values(allowed, limit=10)}.",
            column=column,
            rows=df.index[unknown],
            values=bad,
            expected=f"one of {allowed}",
        )


def check_empty_levels(
    df: pd.DataFrame, column: str, expected: Sequence[Any], log: ProblemLog, *, what: str = "arm"
) -> None:
    """Record each level of ``expected`` that has no row in ``column`` (e.g. an empty arm)."""
    if column not in df.columns:
        return
    observed = set(pd.unique(df[column].dropna()))
    empty = [level for level in expected if level not in observed]
    if empty:
        log.add(
            f"empty_{what}",
            f"column {column!r}: expected {what}(s) {format_values(empty)} have no rows; "
            f"expected at least one row for each of {format_values(list(expected), limit=10)}.",
            column=column,
            values=empty,
            expected=f"rows for every {what} in {list(expected)}",
        )


def check_duplicates(df: pd.DataFrame, keys: Sequence[str], log: ProblemLog) -> None:
    """Record rows that repeat the same combination of ``keys`` (e.g. participant and wave).

    Rows with a missing key are left to :func:`check_missing_values`.
    """
    keys = list(keys)
    if not keys or any(k not in df.columns for k in keys):
        return
    frame = df[keys]
    complete = frame.notna().all(axis=1)
    dup = frame.duplicated(keep=False) & complete
    if not dup.any():
        return
    combos = frame[dup].drop_duplicates()
    shown = ["/".join(map(str, row)) for row in combos.itertuples(index=False)]
    label = "-".join(keys)
    log.add(
        "duplicate_rows",
        f"{len(combos)} {label} combination(s) occur more than once: {format_values(shown)} at "
        f"rows {_rows(df.index[dup])}; expected one row per {label}.",
        column=keys[0],
        rows=df.index[dup],
        values=shown,
        expected=f"unique {label}",
    )


def check_one_arm_per_subject(df: pd.DataFrame, subject: str, arm: str, log: ProblemLog) -> None:
    """Record participants whose rows name more than one arm."""
    if subject not in df.columns or arm not in df.columns:
        return
    frame = df[[subject, arm]].dropna()
    n_arms = frame.groupby(subject, sort=True, observed=True)[arm].nunique()
    multi = n_arms.index[n_arms > 1]
    if len(multi) == 0:
        return
    bad = frame[frame[subject].isin(multi)]
    arms_by_id = bad.groupby(subject, sort=True, observed=True)[arm].unique()
    detail = [f"{pid} in {sorted(map(str, arms))}" for pid, arms in arms_by_id.items()]
    log.add(
        "subject_in_several_arms",
        f"column {arm!r}: {len(multi)} {subject}(s) appear in more than one arm: "
        f"{format_values(detail)} at rows {_rows(bad.index)}; expected one arm per {subject}.",
        column=arm,
        rows=bad.index,
        values=list(multi),
        expected=f"one {arm} per {subject}",
    )


def _flag_cells(
    log: ProblemLog,
    check: str,
    instrument: _InstrumentLike,
    col: str,
    raw: pd.Series,
    mask: pd.Series,
    what: str,
    expected_text: str,
    expected: str,
) -> None:
    """Add one problem for the item cells under ``mask`` (nothing when none is); ``<bad>`` in
    ``what`` stands for the offending values."""
    if not mask.any():
        return
    bad = pd.unique(raw[mask])
    log.add(
        check,
        f"column {col!r} (instrument {instrument.id!r}): {int(mask.sum())} row(s) with "
        f"{what.replace('<bad>', format_values(bad))} at rows {_rows(raw.index[mask])}; expected "
        f"{expected_text}.",
        column=col,
        rows=raw.index[mask],
        values=bad,
        expected=expected,
    )


def check_instrument_items(
    df: pd.DataFrame,
    instrument: _InstrumentLike,
    log: ProblemLog,
    *,
    missing_codes: Mapping[Any, str] | None = None,
) -> None:
    """Record missing item columns, non-numeric text and out-of-range item responses.

    Non-integer responses are also recorded when the instrument declares
    ``integer_responses=True``. Missing responses (NA, blank cells and the declared
    ``missing_codes``, together with the instrument's own) are allowed here; scoring decides
    what to do with them. Item columns missing from ``df`` get a "did you mean" hint when
    columns differ from the item ids only by zero-padding, case or prefix.
    """
    lo, hi = instrument.response_min, instrument.response_max
    codes = build_missing_codes(getattr(instrument, "missing_codes", None), missing_codes)
    missing = [c for c in instrument.items if c not in df.columns]
    if missing:
        hint = item_name_hint(list(df.columns), list(instrument.items), missing)
        log.add(
            "missing_items",
            f"instrument {instrument.id!r}: {len(missing)} item column(s) missing: "
            f"{format_values(missing, limit=8)}; expected all of "
            f"{format_values(list(instrument.items), limit=3)}." + (f" {hint}" if hint else ""),
            column=missing[0],
            values=missing,
            expected=f"columns {list(instrument.items)}",
        )
    for col in (c for c in instrument.items if c in df.columns):
        raw = df[col]
        if pd.api.types.is_bool_dtype(raw):
            log.add(
                "non_numeric",
                f"column {col!r} (instrument {instrument.id!r}) holds booleans; expected numeric "
                f"responses {lo:g} to {hi:g}.",
                column=col,
                rows=df.index[raw.notna()],
                expected=f"numbers {lo:g}..{hi:g}",
            )
            continue
        if pd.api.types.is_numeric_dtype(raw):
            numbers = convert_numbers(raw, codes).values.astype("float64")
        else:
            source = raw.astype(object) if isinstance(raw.dtype, pd.CategoricalDtype) else raw
            conv = convert_text(source, codes, keep_zero_padded=False)
            if conv.bad is None:
                numbers = conv.values.astype("float64")
            else:
                numbers = pd.to_numeric(conv.values.str.strip(), errors="coerce").astype("float64")
                non_numeric = pd.Series(conv.bad, index=raw.index)
                token = str(pd.unique(raw[non_numeric])[0]).strip()
                _flag_cells(
                    log, "non_numeric", instrument, col, raw, non_numeric,
                    "non-numeric text <bad>",
                    f"numbers {lo:g} to {hi:g} or missing (if {token!r} means missing, declare "
                    f"it: missing_codes={{{token!r}: 'not applicable'}})",
                    f"numbers {lo:g}..{hi:g}",
                )  # fmt: skip
        if getattr(instrument, "integer_responses", False):
            fractional = numbers.notna() & (numbers % 1 != 0)
            _flag_cells(
                log, "non_integer", instrument, col, raw, fractional, "non-integer values <bad>",
                "whole-number responses", "whole numbers",
            )  # fmt: skip
        out = numbers.notna() & ((numbers < lo) | (numbers > hi))
        between = f"{lo:g} <= value <= {hi:g}"
        _flag_cells(
            log, "out_of_range", instrument, col, raw, out,
            f"values <bad> outside {lo:g} to {hi:g}", between, f"{lo:g}..{hi:g}",
        )  # fmt: skip


# --------------------------------------------------------------------------------------------
# report and entry point
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ValidationReport(FrameCopies):
    """The outcome of :func:`validate_responses`.

    Attributes
    ----------
    ok : bool
        True when no problem was found.
    problems : pandas.DataFrame
        One row per problem: ``check`` (reason code), ``column``, ``rows`` (row labels),
        ``values`` (offending values), ``expected``, ``n`` (rows affected) and ``message``.
    n_rows : int
        Number of rows checked.
    """

    ok: bool
    problems: pd.DataFrame
    n_rows: int
    context: str = "responses"

    _title = "Validation report"

    def to_frame(self) -> pd.DataFrame:
        """The problems table (a copy)."""
        return self.problems.copy()

    def raise_if_problems(self) -> None:
        """Raise one :class:`~coaching_trials.DataValidationError` listing every problem."""
        log = ProblemLog(self.context, problems=self.problems.to_dict("records"))
        log.raise_if_any()

    def summary(self) -> str:
        """Plain-text summary: a status line and one line per problem."""
        if self.ok:
            return f"{self._title}: {self.n_rows} row(s) checked, no problems found."
        lines = [f"{self._title}: {len(self.problems)} problem(s) in {self.n_rows} row(s):"]
        lines += [f"  - {m}" for m in self.problems["message"]]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        if self.ok:
            return f"<div><strong>{self._title}</strong>: no problems found.</div>"
        body = self.problems[["check", "column", "n", "expected", "message"]].to_html(index=False)
        return f"<div><strong>{self._title}</strong>{body}</div>"


def _resolve_instrument(instrument: Any) -> _InstrumentLike:
    if isinstance(instrument, str):
        from coaching_trials.instruments.registry import get_instrument

        return get_instrument(instrument)
    if all(hasattr(instrument, a) for a in ("id", "items", "response_min", "response_max")):
        return instrument
    raise TypeError(
        "each entry of `instruments` must be an instrument id (str) or an Instrument; "
        f"got {type(instrument).__name__}."
    )


@renamed(df="data")
def validate_responses(
    data: pd.DataFrame,
    *,
    subject: str | None = "participant_id",
    arm: str | None = "arm",
    wave: str | None = "wave",
    arms: Sequence[Any] | None = None,
    waves: Sequence[Any] | None = None,
    instruments: Sequence[Any] = (),
    required: Sequence[str] = (),
    raise_on_error: bool = True,
    items: str | Mapping[str, str] | None = None,
    missing_codes: Mapping[Any, str] | None = None,
) -> ValidationReport:
    """Check a long responses frame and report every problem at once.

    Checks, all run before anything is reported:

    - required columns (``subject``, ``arm``, ``wave`` and ``required``) are present;
    - ``subject``, ``arm`` and ``wave`` have no missing values;
    - arms and waves are among ``arms`` / ``waves`` (when given);
    - each participant-wave pair occurs once;
    - each participant belongs to one arm;
    - every arm in ``arms`` and every wave in ``waves`` has rows;
    - for each instrument: its item columns exist, hold numbers (not text), lie within
      the instrument's response range and, for instruments with whole-number responses, are
      whole numbers.

    Parameters
    ----------
    data : pandas.DataFrame
        Long responses: one row per participant x wave.
    subject, arm, wave : str or None
        Column names; ``None`` skips the checks that need that column (e.g. ``wave=None``
        for a single-wave frame).
    arms, waves : sequence, optional
        The expected arm labels / wave labels.
    instruments : sequence of str or Instrument, default ()
        Instrument ids (looked up with ``coaching_trials.get_instrument``) or Instrument
        objects whose items to check.
    required : sequence of str, default ()
        Further columns that must be present.
    raise_on_error : bool, default True
        Raise :class:`~coaching_trials.DataValidationError` if any problem is found; with
        ``False`` the report is returned instead.
    items : str or mapping, optional
        The file's item names as a pattern (``"pfi_{n}"`` or a regex capturing the item
        number; see :func:`~coaching_trials.map_items`): one pattern when one instrument is
        checked, or ``{instrument_id: pattern}``.
    missing_codes : mapping, optional
        Declared missing-value codes ``{token_or_number: reason}`` allowed in item cells (on
        top of each instrument's own); any other text is reported with a hint to declare it.

    Returns
    -------
    ValidationReport
        ``ok``, the ``problems`` table and ``raise_if_problems()``.

    Raises
    ------
    DataValidationError
        When ``raise_on_error`` is True and any problem is found; its ``failure_cases`` table
        lists every problem (check, column, rows, values, expected, n).
    TypeError
        If ``data`` is not a DataFrame.

    Notes
    -----
    Each check (duplicates, unknown levels, ranges, text in item columns, missing columns) is
    tested on hand-built frames in ``tests/io/test_io_validate.py``, including that all problems
    of a frame are reported in one error.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({
    ...     "participant_id": ["P001", "P001", "P002", "P002"],
    ...     "arm": ["immediate", "immediate", "delayed", "control"],
    ...     "wave": ["baseline", "month6", "baseline", "baseline"],
    ... })
    >>> report = validate_responses(data, arms=("immediate", "delayed"), raise_on_error=False)
    >>> report.ok
    False
    >>> report.problems["check"].tolist()
    ['unknown_arm', 'duplicate_rows', 'subject_in_several_arms']
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame; got {type(data).__name__}.")
    if isinstance(instruments, str):
        instruments = (instruments,)
    if isinstance(required, str):
        required = (required,)
    resolved = [_resolve_instrument(i) for i in instruments]

    log = ProblemLog("responses")
    keys = [c for c in (subject, wave) if c is not None]
    key_cols = [c for c in (subject, arm, wave) if c is not None]
    check_required_columns(data, [*key_cols, *required], log)
    check_missing_values(data, key_cols, log)
    if arms is not None and _present(data, arm):
        check_known_levels(data, arm, arms, log, what="arm")
    if waves is not None and _present(data, wave):
        check_known_levels(data, wave, waves, log, what="wave")
    if all(k in data.columns for k in keys):
        check_duplicates(data, keys, log)
    if _present(data, subject) and _present(data, arm):
        check_one_arm_per_subject(data, subject, arm, log)
    if arms is not None and _present(data, arm):
        check_empty_levels(data, arm, arms, log, what="arm")
    if waves is not None and _present(data, wave):
        check_empty_levels(data, wave, waves, log, what="wave")
    patterns = _item_patterns(items, resolved)
    for instrument in resolved:
        frame = data
        if instrument.id in patterns:
            mapping = item_columns(
                list(data.columns), list(instrument.items), patterns[instrument.id], log
            )
            frame = data.rename(columns=mapping)
        check_instrument_items(frame, instrument, log, missing_codes=missing_codes)

    problems = log.to_frame()
    report = ValidationReport(ok=not log, problems=problems, n_rows=len(data), context="responses")
    if raise_on_error:
        log.raise_if_any()
    return report


def _item_patterns(items: Any, resolved: Sequence[_InstrumentLike]) -> dict[str, Any]:
    if items is None:
        return {}
    if isinstance(items, Mapping):
        unknown = [k for k in items if k not in {i.id for i in resolved}]
        if unknown:
            raise ValueError(
                f"`items` names instrument(s) {format_values(unknown)} that are not in "
                f"`instruments` ({format_values([i.id for i in resolved])})."
            )
        return dict(items)
    if len(resolved) != 1:
        raise ValueError(
            "`items` as one pattern needs exactly one instrument in `instruments`; with "
            f"{len(resolved)} pass a dict {{instrument_id: pattern}}."
        )
    return {resolved[0].id: items}


def check_sessions(
    participants: pd.DataFrame,
    *,
    attended: str = "sessions_attended",
    planned: int | str,
    subject: str = "participant_id",
) -> list[dict[str, Any]]:
    """Plausibility of sessions attended against the planned number: warn and audit.

    A participant who attended more sessions than planned is not an error (an extra session
    happens) but is unusual enough to be looked at: one
    :class:`~coaching_trials.DataValidationWarning` names them and one audit record per
    reason is returned for the caller's audit table. Values that are not whole numbers >= 0
    are left to the design layer's checks.

    Parameters
    ----------
    participants : pandas.DataFrame
        One row per participant.
    attended : str, default "sessions_attended"
        Column holding the number of sessions attended.
    planned : int or str
        The planned number of sessions, or a column holding it per participant.
    subject : str, default "participant_id"
        Id column, used to name participants in the warning.

    Returns
    -------
    list of dict
        Audit records (``step, reason, n_rows, detail``); empty when all is plausible.

    Examples
    --------
    >>> import warnings
    >>> df = pd.DataFrame({"participant_id": ["P1", "P2"], "sessions_attended": [6, 9]})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     records = check_sessions(df, planned=6)
    >>> records[0]["reason"], records[0]["n_rows"]
    ('sessions attended above planned', 1)
    """
    import warnings

    from coaching_trials._errors import DataValidationWarning

    for col in (attended, *([planned] if isinstance(planned, str) else [])):
        if col not in participants.columns:
            raise ValueError(
                f"column {col!r} is not in `participants`; found "
                f"{format_values(participants.columns, limit=8)}."
            )
    done = pd.to_numeric(participants[attended], errors="coerce")
    plan = (
        pd.to_numeric(participants[planned], errors="coerce")
        if isinstance(planned, str)
        else pd.Series(float(planned), index=participants.index)
    )
    records: list[dict[str, Any]] = []
    above = (done > plan).fillna(False)
    if above.any():
        who = (
            participants.loc[above, subject].tolist()
            if subject in participants.columns
            else participants.index[above].tolist()
        )
        detail = (
            f"{int(above.sum())} participant(s) attended more sessions than planned: "
            + format_values(
                [
                    f"{w}: {d:g} of {p:g}"
                    for w, d, p in zip(who, done[above], plan[above], strict=True)
                ]
            )
        )
        records.append(
            {
                "step": "check_sessions",
                "reason": "sessions attended above planned",
                "n_rows": int(above.sum()),
                "detail": detail,
            }
        )
        warnings.warn(
            f"column {attended!r}: {detail}; check the session log.",
            DataValidationWarning,
            stacklevel=2,
        )
    return records


#: Short name used in DESIGN.md's layer table; the same function as :func:`validate_responses`.
validate = validate_responses
