"""Building a delayed-intervention trial: check the design, copy the inputs, count who is in.

:func:`build_trial` does the work of :class:`DelayedInterventionTrial`'s constructor and returns
the trial's state (the private attributes) as a dict: the responses with an ordered wave
column, one row per randomized participant (given or derived from the responses), the sessions
column and the design audit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from coaching_trials._audit import audit_frame
from coaching_trials._errors import format_values
from coaching_trials.design._validate import as_name_tuple, check_design_options, validate_design

__all__ = ["build_trial"]


def build_trial(
    responses: pd.DataFrame,
    participants: pd.DataFrame | None,
    sessions: str | pd.DataFrame | None,
    *,
    subject: str,
    arm: str,
    wave: str,
    immediate: str,
    delayed: str,
    baseline_wave: str,
    endpoint_wave: str,
    followup_waves: Sequence[str] | str,
) -> dict[str, Any]:
    """The state of a trial (``{"_responses": ..., ...}``) after every design check."""
    if not isinstance(responses, pd.DataFrame):
        raise TypeError(f"`responses` must be a pandas DataFrame; got {type(responses).__name__}.")
    if participants is not None and not isinstance(participants, pd.DataFrame):
        raise TypeError(
            f"`participants` must be a pandas DataFrame or None; got {type(participants).__name__}."
        )
    followups = as_name_tuple(followup_waves, "followup_waves")
    design = dict(
        subject=subject,
        arm=arm,
        wave=wave,
        immediate=immediate,
        delayed=delayed,
        baseline_wave=baseline_wave,
        endpoint_wave=endpoint_wave,
        followup_waves=followups,
    )
    check_design_options(**design)
    order = validate_design(
        responses,
        participants,
        **design,
        sessions=(
            sessions
            if isinstance(sessions, str)
            else "sessions_attended"
            if sessions is None
            else None
        ),
    )
    resp = responses.copy(deep=True)
    resp[wave] = pd.Categorical(resp[wave].astype("string"), categories=list(order), ordered=True)
    resp[arm] = resp[arm].astype("string")
    audit: list[dict[str, Any]] = []
    part = _participants(resp, participants, subject=subject, arm=arm, audit=audit)
    sessions_col = _resolve_sessions(sessions, part, subject, audit)
    if isinstance(sessions, pd.DataFrame):
        part = part.copy()
        counts = sessions.groupby(subject).size()
        part[sessions_col] = part[subject].map(counts).fillna(0).astype("int64")

    unknown_arm = part[arm].isna()
    if unknown_arm.any():  # participants with no arm anywhere
        raise ValueError(
            f"participant(s) {format_values(part.loc[unknown_arm, subject])} have no arm in "
            "`participants` nor in `responses`."
        )
    audit.insert(
        0,
        dict(
            step="design",
            reason="input",
            n_rows=len(resp),
            detail=(
                f"{len(resp)} response rows; {len(part)} randomized participants "
                f"({int((part[arm] == immediate).sum())} {immediate}, "
                f"{int((part[arm] == delayed).sum())} {delayed}); waves {list(order)}"
            ),
        ),
    )
    return {
        "_responses": resp,
        "_participants": part,
        "_subject": subject,
        "_arm": arm,
        "_wave": wave,
        "_immediate": immediate,
        "_delayed": delayed,
        "_baseline": baseline_wave,
        "_endpoint": endpoint_wave,
        "_followups": tuple(w for w in order if w in followups),
        "_waves": order,
        "_sessions": sessions_col,
        "_audit": audit_frame(audit),
    }


def _participants(
    resp: pd.DataFrame,
    participants: pd.DataFrame | None,
    *,
    subject: str,
    arm: str,
    audit: list[dict[str, Any]],
) -> pd.DataFrame:
    """One row per randomized participant: ``participants`` (copied, arms filled in from the
    responses) or else derived from the responses; sorted by id."""
    resp_arms = resp.drop_duplicates(subject)[[subject, arm]].set_index(subject)[arm]
    if participants is None:
        part = resp_arms.reset_index()
    else:
        part = participants.copy(deep=True)
        if arm in part.columns:
            part[arm] = part[arm].astype("string").fillna(part[subject].map(resp_arms))
        else:
            part[arm] = part[subject].map(resp_arms).astype("string")
        no_rows = ~part[subject].isin(resp[subject])
        if no_rows.any():
            audit.append(
                dict(
                    step="design",
                    reason="randomized participant without any response row",
                    n_rows=int(no_rows.sum()),
                    detail=f"ids {format_values(part.loc[no_rows, subject])}",
                )
            )
    return part.sort_values(subject, kind="stable").reset_index(drop=True)


def _resolve_sessions(
    sessions: str | pd.DataFrame | None,
    part: pd.DataFrame,
    subject: str,
    audit: list[dict[str, Any]],
) -> str | None:
    """The participants' sessions column: given, counted from a session log, or default."""
    if sessions is None:
        return "sessions_attended" if "sessions_attended" in part.columns else None
    if isinstance(sessions, str):
        if sessions not in part.columns:
            raise ValueError(
                f"`sessions` names column {sessions!r}, which is not in `participants` "
                f"(columns: {format_values(part.columns, 12)})."
            )
        return sessions
    if isinstance(sessions, pd.DataFrame):
        if subject not in sessions.columns:
            raise ValueError(
                f"the session log `sessions` has no {subject!r} column "
                f"(columns: {format_values(sessions.columns, 12)})."
            )
        unknown = ~sessions[subject].isin(part[subject])
        if unknown.any():
            raise ValueError(
                f"the session log `sessions` has {int(unknown.sum())} row(s) for unknown "
                f"participant(s) {format_values(sessions.loc[unknown, subject].unique())}."
            )
        audit.append(
            dict(
                step="design",
                reason="sessions counted from the session log",
                n_rows=len(sessions),
                detail="participants without a logged session counted as 0 sessions",
            )
        )
        return "sessions_attended"
    raise TypeError(
        f"`sessions` must be a column name, a session-log DataFrame or None; got "
        f"{type(sessions).__name__}."
    )
