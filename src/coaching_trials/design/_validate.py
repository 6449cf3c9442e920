"""Validation of a delayed-intervention design (private helpers of :mod:`design.delayed`).

Every check appends to one :class:`~coaching_trials._errors.ProblemLog`; the caller raises a
single :class:`~coaching_trials._errors.DataValidationError` listing every problem at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import DataValidationError, ProblemLog, did_you_mean, format_values

__all__ = [
    "check_design_options",
    "validate_design",
    "as_name_tuple",
    "PARTICIPANT_WAVE_COLUMNS",
]

#: Columns of ``participants`` that name a wave (checked against the design's waves).
PARTICIPANT_WAVE_COLUMNS = ("withdrawn_before", "last_wave")


def as_name_tuple(value: Any, name: str) -> tuple[str, ...]:
    """Normalise a column / wave list option (a single string or a sequence of strings)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Sequence) or isinstance(value, bytes):
        raise TypeError(
            f"`{name}` must be a string or a sequence of strings; got {type(value).__name__}."
        )
    out = tuple(value)
    bad = [v for v in out if not isinstance(v, str)]
    if bad:
        raise TypeError(f"`{name}` must contain strings only; got {format_values(bad)}.")
    return out


def check_design_options(
    *,
    subject: Any,
    arm: Any,
    wave: Any,
    immediate: Any,
    delayed: Any,
    baseline_wave: Any,
    endpoint_wave: Any,
    followup_waves: tuple[str, ...],
) -> None:
    """Type checks of the design options (raised at once: they are programming errors)."""
    for name, value in (("subject", subject), ("arm", arm), ("wave", wave)):
        if not isinstance(value, str):
            raise TypeError(f"`{name}` must be a column name (str); got {value!r}.")
    for name, value in (("immediate", immediate), ("delayed", delayed)):
        if not isinstance(value, str):
            raise TypeError(f"`{name}` must be an arm label (str); got {value!r}.")
    for name, value in (("baseline_wave", baseline_wave), ("endpoint_wave", endpoint_wave)):
        if not isinstance(value, str):
            raise TypeError(f"`{name}` must be a wave label (str); got {value!r}.")
    if len({subject, arm, wave}) < 3:
        raise ValueError(
            f"`subject`, `arm` and `wave` must be three different columns; got "
            f"{subject!r}, {arm!r}, {wave!r}."
        )
    if immediate == delayed:
        raise ValueError(
            f"`immediate` and `delayed` must name two different arms; both are {immediate!r}."
        )


def _ids_arms(frame: pd.DataFrame, subject: str, arm: str, ids: Sequence[Any]) -> list[str]:
    sub = frame[frame[subject].isin(list(ids))]
    arms = sub.groupby(subject, sort=True, observed=True)[arm].agg(
        lambda s: "/".join(sorted(map(str, s.dropna().unique())))
    )
    return [f"{i}: {a}" for i, a in arms.items()]


def validate_design(
    responses: pd.DataFrame,
    participants: pd.DataFrame | None,
    *,
    subject: str,
    arm: str,
    wave: str,
    immediate: str,
    delayed: str,
    baseline_wave: str,
    endpoint_wave: str,
    followup_waves: tuple[str, ...],
    sessions: str | None = None,
) -> tuple[str, ...]:
    """Check the design; return the wave order; raise one DataValidationError for all problems.

    ``sessions`` is the ``participants`` column holding the number of sessions attended (checked
    to hold non-negative whole numbers or missing values); the wave columns of ``participants``
    (:data:`PARTICIPANT_WAVE_COLUMNS`) must name waves of the design.

    Returns
    -------
    tuple of str
        The waves in time order. With an ordered Categorical wave column: its categories that
        are declared or observed (so interim waves such as an extra pre-coaching wave of the
        delayed arm are allowed); otherwise baseline, endpoint, follow-ups as declared, and any
        other wave in the data is an error.
    """
    log = ProblemLog("the delayed-intervention design")
    missing_cols = [c for c in (subject, arm, wave) if c not in responses.columns]
    if missing_cols:
        for col in missing_cols:
            log.add(
                "missing_column",
                f"column {col!r} is not in `responses` "
                f"(columns: {format_values(responses.columns, 12)}).",
                column=col,
                expected="a column of responses",
            )
        log.raise_if_any()

    arms = (immediate, delayed)

    order, known = _wave_order(
        responses,
        log,
        wave=wave,
        baseline_wave=baseline_wave,
        endpoint_wave=endpoint_wave,
        followup_waves=followup_waves,
    )
    _check_missing_keys(responses, (subject, arm, wave), log)
    arm_str = responses[arm].astype("string")
    wave_str = responses[wave].astype("string")
    _check_arms(
        responses, participants, arm_str, log, arm=arm, immediate=immediate, delayed=delayed
    )
    _check_waves(
        responses,
        wave_str,
        known,
        log,
        wave=wave,
        baseline_wave=baseline_wave,
        endpoint_wave=endpoint_wave,
        followup_waves=followup_waves,
    )
    _check_rows(responses, log, subject=subject, arm=arm, wave=wave)

    # --- delayed arm must be observed after crossover ------------------------------------------
    if followup_waves:
        post = (arm_str == delayed) & wave_str.isin(followup_waves)
        if not bool(post.any()) and bool((arm_str == delayed).any()):
            log.add(
                "no_post_crossover_wave",
                f"the delayed arm {delayed!r} has no rows at any follow-up wave "
                f"{list(followup_waves)}, so its change after coaching cannot be estimated.",
                column=wave,
                values=list(followup_waves),
                expected="delayed-arm rows at a post-crossover wave",
            )

    # --- participants table ---------------------------------------------------------------------
    if participants is not None:
        _validate_participants(
            responses, participants, subject=subject, arm=arm, arms=arms, log=log
        )
        # waves a participant can be withdrawn before: the design's, or every category of an
        # ordered wave column (a wave may be declared there without being analysed)
        wave_names = list(order)
        wave_col = responses[wave]
        if isinstance(wave_col.dtype, pd.CategoricalDtype) and wave_col.cat.ordered:
            wave_names = list(dict.fromkeys([*map(str, wave_col.cat.categories), *order]))
        _validate_participant_waves(participants, subject=subject, known=wave_names, log=log)
        if sessions is not None and sessions in participants.columns:
            _validate_sessions(participants, subject=subject, column=sessions, log=log)

    log.raise_if_any()
    return order


def _wave_order(
    responses: pd.DataFrame,
    log: ProblemLog,
    *,
    wave: str,
    baseline_wave: str,
    endpoint_wave: str,
    followup_waves: tuple[str, ...],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Check the wave declarations; return (the waves in time order, the waves allowed)."""
    design_waves = (baseline_wave, endpoint_wave, *followup_waves)
    if endpoint_wave == baseline_wave:
        log.add(
            "endpoint_not_after_baseline",
            f"endpoint_wave equals baseline_wave ({endpoint_wave!r}); the endpoint must be a "
            "later wave than the baseline.",
            column=wave,
            values=[endpoint_wave],
            expected="endpoint_wave after baseline_wave",
        )
    declared = [baseline_wave, *([endpoint_wave] if endpoint_wave != baseline_wave else [])]
    declared += list(followup_waves)
    dupl_waves = sorted({w for w in declared if declared.count(w) > 1})
    if dupl_waves:
        log.add(
            "duplicate_wave_declaration",
            f"wave(s) {format_values(dupl_waves)} are declared more than once among "
            f"baseline_wave, endpoint_wave and followup_waves {design_waves!r}.",
            column=wave,
            values=dupl_waves,
            expected="each wave declared once",
        )
    wave_col = responses[wave]
    known: tuple[str, ...] = tuple(dict.fromkeys(design_waves))
    if isinstance(wave_col.dtype, pd.CategoricalDtype) and wave_col.cat.ordered:
        cats = [str(c) for c in wave_col.cat.categories]
        not_in_cats = [w for w in dict.fromkeys(design_waves) if w not in cats]
        if not_in_cats:
            log.add(
                "wave_not_in_categories",
                f"design wave(s) {format_values(not_in_cats)} are not categories of the ordered "
                f"wave column {wave!r} (categories: {format_values(cats, 12)}).",
                column=wave,
                values=not_in_cats,
                expected=f"one of {cats}",
            )
            order = tuple(dict.fromkeys(design_waves))
        else:
            pos = {w: cats.index(w) for w in design_waves}
            if endpoint_wave != baseline_wave and pos[endpoint_wave] < pos[baseline_wave]:
                log.add(
                    "endpoint_not_after_baseline",
                    f"endpoint_wave {endpoint_wave!r} comes before baseline_wave {baseline_wave!r} "
                    f"in the ordered wave column {wave!r} (order: {cats}).",
                    column=wave,
                    values=[endpoint_wave],
                    expected="endpoint_wave after baseline_wave",
                )
            early = [w for w in followup_waves if pos[w] <= pos[endpoint_wave]]
            early = [w for w in early if w not in (baseline_wave, endpoint_wave)]
            if early:
                log.add(
                    "followup_not_after_endpoint",
                    f"followup wave(s) {format_values(early)} do not come after endpoint_wave "
                    f"{endpoint_wave!r} in the ordered wave column {wave!r} (order: {cats}).",
                    column=wave,
                    values=early,
                    expected="follow-up waves after the endpoint",
                )
            observed = set(wave_col.dropna().astype("string"))
            order = tuple(c for c in cats if c in design_waves or c in observed)
            known = order
    else:
        order = tuple(dict.fromkeys(design_waves))
    return order, known


def _check_missing_keys(responses: pd.DataFrame, columns: tuple[str, ...], log: ProblemLog) -> None:
    """Rows without a participant id, arm or wave."""
    for col in columns:
        na = responses[col].isna().to_numpy()
        if na.any():
            rows = responses.index[na]
            log.add(
                "missing_value",
                f"column {col!r} is missing in {int(na.sum())} row(s) {format_values(rows)}.",
                column=col,
                rows=rows,
                expected="a value in every row",
            )


def _check_arms(
    responses: pd.DataFrame,
    participants: pd.DataFrame | None,
    arm_str: pd.Series,
    log: ProblemLog,
    *,
    arm: str,
    immediate: str,
    delayed: str,
) -> None:
    """Arms that are not the design's, and design arms without participants."""
    arms = (immediate, delayed)
    vals, rows = _unknown(responses, arm_str, arms)
    if vals:
        log.add(
            "unknown_arm",
            f"column {arm!r} has value(s) {format_values(vals)} in row(s) {format_values(rows)}; "
            f"expected the design arms {immediate!r} (immediate) or {delayed!r} (delayed).",
            column=arm,
            rows=rows,
            values=vals,
            expected=f"one of {list(arms)}",
        )
    for label, role in ((immediate, "immediate"), (delayed, "delayed")):
        present = bool((arm_str == label).any())
        if participants is not None and arm in participants.columns:
            present = present or bool((participants[arm].astype("string") == label).any())
        if not present:
            log.add(
                "empty_arm",
                f"the {role} arm {label!r} has no participants (arms found in {arm!r}: "
                f"{format_values(sorted(arm_str.dropna().unique()))})."
                + did_you_mean(label, arm_str.dropna().unique()),
                column=arm,
                values=[label],
                expected=f"at least one participant in arm {label!r}",
            )


def _unknown(
    responses: pd.DataFrame, values: pd.Series, allowed: Sequence[str]
) -> tuple[list[str], pd.Index]:
    """The values outside ``allowed`` (sorted) and the labels of the rows holding them."""
    unknown = values.notna() & ~values.isin(allowed)
    return sorted(values[unknown].unique()), responses.index[unknown.to_numpy()]


def _check_waves(
    responses: pd.DataFrame,
    wave_str: pd.Series,
    known: tuple[str, ...],
    log: ProblemLog,
    *,
    wave: str,
    baseline_wave: str,
    endpoint_wave: str,
    followup_waves: tuple[str, ...],
) -> None:
    """Waves that are not the design's, and design waves without rows."""
    design_waves = (baseline_wave, endpoint_wave, *followup_waves)
    vals, rows = _unknown(responses, wave_str, known)
    if vals:
        log.add(
            "unknown_wave",
            f"column {wave!r} has wave(s) {format_values(vals)} in row(s) {format_values(rows)} "
            "that "
            f"are not in the design (baseline {baseline_wave!r}, endpoint {endpoint_wave!r}, "
            f"followups {list(followup_waves)}); declare them or filter them out.",
            column=wave,
            rows=rows,
            values=vals,
            expected=f"one of {list(known)}",
        )
    for w in dict.fromkeys(design_waves):
        if not bool((wave_str == w).any()):
            log.add(
                "wave_without_data",
                f"design wave {w!r} has no rows in column {wave!r}.",
                column=wave,
                values=[w],
                expected="at least one response row at every design wave",
            )


def _check_rows(
    responses: pd.DataFrame, log: ProblemLog, *, subject: str, arm: str, wave: str
) -> None:
    """Duplicate participant-wave rows and participants in two arms."""
    dup = responses.duplicated([subject, wave], keep=False).to_numpy()
    if dup.any():
        rows = responses.index[dup]
        pairs = responses.loc[dup, [subject, wave]].drop_duplicates()
        labels = [
            f"{s} @ {w}" for s, w in zip(pairs[subject], pairs[wave].astype("string"), strict=True)
        ]
        log.add(
            "duplicate_subject_wave",
            f"{len(pairs)} participant-wave pair(s) occur more than once: {format_values(labels)} "
            f"(rows {format_values(rows)}); expected one row per participant and wave.",
            column=subject,
            rows=rows,
            values=labels,
            expected="one row per participant and wave",
        )

    # --- each participant in one arm ----------------------------------------------------------
    n_arms = responses.groupby(subject, sort=True, observed=True)[arm].nunique()
    two = n_arms.index[n_arms.to_numpy() > 1]
    if len(two):
        labels = _ids_arms(responses, subject, arm, two)
        rows = responses.index[responses[subject].isin(list(two)).to_numpy()]
        log.add(
            "subject_in_two_arms",
            f"{len(two)} participant(s) appear in more than one arm: {format_values(labels)}; "
            "expected each participant in exactly one arm.",
            column=arm,
            rows=rows,
            values=labels,
            expected="each participant in exactly one arm",
        )


def _validate_participants(
    responses: pd.DataFrame,
    participants: pd.DataFrame,
    *,
    subject: str,
    arm: str,
    arms: tuple[str, str],
    log: ProblemLog,
) -> None:
    if subject not in participants.columns:
        log.add(
            "missing_column",
            f"column {subject!r} is not in `participants` "
            f"(columns: {format_values(participants.columns, 12)}).",
            column=subject,
            expected="the subject id column in participants",
        )
        return
    na = participants[subject].isna().to_numpy()
    if na.any():
        log.add(
            "missing_value",
            f"`participants` column {subject!r} is missing in row(s) "
            f"{format_values(participants.index[na])}.",
            column=subject,
            rows=participants.index[na],
            expected="an id in every row",
        )
    dup = participants[subject].duplicated(keep=False).to_numpy() & ~na
    if dup.any():
        ids = sorted(map(str, participants.loc[dup, subject].unique()))
        log.add(
            "duplicate_participant",
            f"`participants` has more than one row for id(s) {format_values(ids)}.",
            column=subject,
            rows=participants.index[dup],
            values=ids,
            expected="one row per participant",
        )
    ids_resp = pd.Index(responses[subject].dropna().unique())
    ids_part = pd.Index(participants[subject].dropna().unique())
    absent = ids_resp.difference(ids_part)
    if len(absent):
        log.add(
            "unknown_participant",
            f"{len(absent)} participant(s) of `responses` are not in `participants`: "
            f"{format_values(sorted(map(str, absent)))}.",
            column=subject,
            values=list(absent),
            expected="every responding participant listed in participants",
        )
    if arm in participants.columns:
        part_arm = participants[arm].astype("string")
        unknown = part_arm.notna() & ~part_arm.isin(arms)
        if unknown.any():
            vals = sorted(part_arm[unknown].unique())
            log.add(
                "unknown_arm",
                f"`participants` column {arm!r} has value(s) {format_values(vals)} in row(s) "
                f"{format_values(participants.index[unknown.to_numpy()])}; expected {list(arms)}.",
                column=arm,
                rows=participants.index[unknown.to_numpy()],
                values=vals,
                expected=f"one of {list(arms)}",
            )
        p_map = (
            participants.loc[~participants[subject].duplicated(), [subject, arm]]
            .dropna()
            .set_index(subject)[arm]
            .astype("string")
        )
        r = responses[[subject, arm]].dropna().drop_duplicates()
        other = r[subject].map(p_map)
        mism = other.notna() & (r[arm].astype("string") != other)
        if mism.any():
            labels = [
                f"{s}: responses {a!r} vs participants {b!r}"
                for s, a, b in zip(r.loc[mism, subject], r.loc[mism, arm], other[mism], strict=True)
            ]
            log.add(
                "arm_mismatch",
                f"{int(mism.sum())} participant(s) have a different arm in `responses` and "
                f"`participants`: {format_values(labels)}.",
                column=arm,
                values=labels,
                expected="the same arm in responses and participants",
            )
    else:
        if not np.all(participants[subject].isin(ids_resp)):
            log.add(
                "missing_column",
                f"`participants` has no {arm!r} column, so participants without responses "
                "cannot be "
                "assigned to an arm.",
                column=arm,
                expected="an arm column in participants",
            )


def _row_labels(participants: pd.DataFrame, subject: str, mask: np.ndarray) -> list[str]:
    """``"<id> (row <label>)"`` for the flagged rows of ``participants`` (the id when present)."""
    ids = (
        participants[subject].astype("string").to_numpy(dtype=object)
        if subject in participants.columns
        else np.full(len(participants), None, dtype=object)
    )
    return [
        f"{i} (row {r!r})" if i is not None and not pd.isna(i) else f"row {r!r}"
        for i, r in zip(ids[mask], participants.index[mask], strict=True)
    ]


def _validate_participant_waves(
    participants: pd.DataFrame,
    *,
    subject: str,
    known: Sequence[str],
    log: ProblemLog,
) -> None:
    """Every value of a wave column of ``participants`` (e.g. ``withdrawn_before``) is a design
    wave; missing values are allowed (not withdrawn / not recorded)."""
    for col in PARTICIPANT_WAVE_COLUMNS:
        if col not in participants.columns:
            continue
        vals = participants[col].astype("string")
        bad = (vals.notna() & ~vals.isin(list(known))).to_numpy()
        if not bad.any():
            continue
        found = sorted(vals[bad].unique())
        rows = participants.index[bad]
        log.add(
            "unknown_wave",
            f"`participants` column {col!r} has wave(s) {format_values(found)} that are not "
            f"waves of the design, for participant(s) "
            f"{format_values(_row_labels(participants, subject, bad))}; expected one of "
            f"{list(known)} or a missing value.",
            column=col,
            rows=rows,
            values=found,
            expected=f"one of {list(known)} or missing",
        )


def _validate_sessions(
    participants: pd.DataFrame, *, subject: str, column: str, log: ProblemLog
) -> None:
    """The sessions-attended column holds whole numbers >= 0 (or missing values)."""
    raw = participants[column]
    if pd.api.types.is_bool_dtype(raw):
        log.add(
            "not_numeric",
            f"`participants` column {column!r} (sessions attended) is boolean; expected the "
            "number of sessions attended (a whole number >= 0).",
            column=column,
            values=[str(raw.dtype)],
            expected="whole numbers >= 0 or missing",
        )
        return
    if pd.api.types.is_numeric_dtype(raw):
        num = raw.astype("float64").to_numpy()
        text_bad = np.zeros(len(raw), dtype=bool)
    else:
        stripped = raw.astype("string").str.strip()
        blank = (stripped == "").fillna(False).to_numpy(dtype=bool)
        num = pd.to_numeric(stripped.mask(blank), errors="coerce").astype("float64").to_numpy()
        text_bad = stripped.notna().to_numpy(dtype=bool) & ~blank & np.isnan(num)
    if text_bad.any():
        found = sorted(map(str, raw[text_bad].unique()))
        log.add(
            "not_numeric",
            f"`participants` column {column!r} (sessions attended) has non-numeric value(s) "
            f"{format_values(found)} for participant(s) "
            f"{format_values(_row_labels(participants, subject, text_bad))}; expected a whole "
            "number >= 0 or a missing value.",
            column=column,
            rows=participants.index[text_bad],
            values=found,
            expected="whole numbers >= 0 or missing",
        )
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(num)
        count_bad = ~np.isnan(num) & (~finite | (num < 0) | (num != np.round(num)))
    if count_bad.any():
        found = [float(v) if not float(v).is_integer() else int(v) for v in num[count_bad]]
        found = [v for v in dict.fromkeys(found)]
        log.add(
            "invalid_count",
            f"`participants` column {column!r} (sessions attended) has value(s) "
            f"{format_values(found)} that are not whole numbers >= 0, for participant(s) "
            f"{format_values(_row_labels(participants, subject, count_bad))}.",
            column=column,
            rows=participants.index[count_bad],
            values=found,
            expected="whole numbers >= 0 or missing",
        )


def subscale_info(column: str) -> tuple[str, str] | None:
    """``(instrument_id, higher_is)`` when ``column`` is a scored subscale column, else None."""
    from coaching_trials.instruments.registry import _registry

    for inst_id, inst in _registry().items():
        for sub_id, col in inst.subscale_columns().items():
            if col == column:
                return inst_id, inst.subscales[sub_id].higher_is
    return None


def is_item_column(name: str) -> bool:
    """Whether ``name`` looks like an item column (ends in ``_<digits>``, e.g. ``pfi_01``)."""
    head, _, tail = str(name).rpartition("_")
    return bool(head) and tail.isdigit()


def raise_missing_outcomes(responses: pd.DataFrame, names: Sequence[str], *, what: str) -> None:
    """Raise one error naming every requested column that is absent or not numeric."""
    log = ProblemLog(f"the requested {what}")
    numeric = [
        c
        for c in responses.columns
        if pd.api.types.is_numeric_dtype(responses[c])
        and not pd.api.types.is_bool_dtype(responses[c])
    ]
    scored = [c for c in numeric if not is_item_column(c)]
    for name in names:
        if name not in responses.columns:
            info = subscale_info(name)
            hint = (
                f"it is a score of instrument {info[0]!r}: score the items first with "
                f"ct.score(responses, {info[0]!r}) and build the trial from the result"
                if info is not None
                else "score the items first (e.g. ct.score(responses, 'pfi'))"
            )
            have = (
                f"scored columns present: {format_values(scored, 8)}"
                if scored
                else "no scored column is present (only item or design columns)"
            )
            log.add(
                "missing_column",
                f"{what.removesuffix('s')} {name!r} is not a column of the trial's "
                f"responses; {hint}; {have}.",
                column=name,
                values=[name],
                expected="a scored numeric column of responses",
            )
        elif not pd.api.types.is_numeric_dtype(responses[name]) or pd.api.types.is_bool_dtype(
            responses[name]
        ):
            log.add(
                "not_numeric",
                f"column {name!r} has dtype {responses[name].dtype}; a numeric score is expected.",
                column=name,
                values=[str(responses[name].dtype)],
                expected="a numeric column",
            )
    log.raise_if_any()


__all__ += ["raise_missing_outcomes", "subscale_info", "DataValidationError"]
