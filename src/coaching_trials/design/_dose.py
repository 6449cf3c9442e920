"""Responders at the endpoint and the dose-response of sessions attended.

:func:`responders` (randomized: the proportion past a cut-point at the endpoint, by arm) adapts
:func:`coaching_trials.analysis.responders.responders` to the trial; :func:`dose_response`
(observational: change across coaching per session attended) is an OLS slope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from coaching_trials._errors import format_values, one_of
from coaching_trials.design._nonrandomized import first_followup
from coaching_trials.design._prepost import ols_slope
from coaching_trials.design._results import (
    SEP,
    TrialEffects,
    TrialResponders,
    check_conf_level,
    trial_effects,
)
from coaching_trials.design._validate import subscale_info

if TYPE_CHECKING:
    from coaching_trials.design.delayed import DelayedInterventionTrial

__all__ = ["dose_response", "responders"]


def responders(
    trial: DelayedInterventionTrial,
    outcome: str,
    *,
    cutpoint: float,
    direction: str = ">=",
    adjust_baseline: bool = False,
    event_is: str | None = None,
    conf_level: float = 0.95,
) -> TrialResponders:
    """Responders at the endpoint (:meth:`DelayedInterventionTrial.responders`)."""
    from coaching_trials.analysis.responders import responders

    name = trial._outcomes(outcome, "outcome")[0]
    if event_is is None:
        info = subscale_info(name)
        event_is = "good"
        if info is not None and direction in (">=", ">", "<=", "<"):
            high_event = direction in (">=", ">")
            event_is = "good" if (info[1] == "better") == high_event else "bad"
    b, e = trial._baseline, trial._endpoint
    wide = trial.wide(name, waves=[b, e])
    data = pd.DataFrame(
        {
            trial._arm: wide[trial._arm].to_numpy(),
            name: wide[f"{name}{SEP}{e}"].to_numpy(),
            f"{name} at {b}": wide[f"{name}{SEP}{b}"].to_numpy(),
        },
        index=pd.Index(wide[trial._subject].to_numpy(), name=trial._subject),
    )  # indexed by participant so the audit names participants, not row numbers
    res = responders(
        data,
        outcome=name,
        arm=trial._arm,
        treated=trial._immediate,
        cutpoint=cutpoint,
        direction=direction,
        baseline=f"{name} at {b}",
        adjust_baseline=adjust_baseline,
        event_is=event_is,
        conf_level=conf_level,
    )
    values = {f.name: getattr(res, f.name) for f in fields(res)}
    values["event"] = f"{res.event} at {e}"
    return TrialResponders(**values, wave=e)


def dose_response(
    trial: DelayedInterventionTrial,
    outcome: str | Sequence[str],
    *,
    sessions: str | None = None,
    period: str = "pooled",
    adjust_baseline: bool = False,
    conf_level: float = 0.95,
) -> TrialEffects:
    """Dose-response (:meth:`DelayedInterventionTrial.dose_response`)."""
    names = trial._outcomes(outcome, "outcome")
    if period not in ("pooled", "immediate", "delayed"):
        raise one_of("period", period, ("pooled", "immediate", "delayed"))
    conf_level = check_conf_level(conf_level)
    col = sessions if sessions is not None else trial._sessions
    if col is None or col not in trial._participants.columns:
        raise ValueError(
            f"dose_response needs the number of sessions attended per participant: column "
            f"{(col or 'sessions_attended')!r} is not in `participants` (columns: "
            f"{format_values(trial._participants.columns, 12)})."
        )
    x_all = pd.to_numeric(trial._participants[col], errors="coerce").to_numpy(dtype=float)
    b, e, imm, dly = trial._baseline, trial._endpoint, trial._immediate, trial._delayed
    if period != "immediate" and not trial._followups:
        if period == "delayed":
            first_followup(trial, None, "dose_response(period='delayed')")
        period_used = "immediate"
    else:
        period_used = period
    fu = trial._followups[0] if trial._followups else None
    wide = trial.wide(names, waves=[w for w in (b, e, fu) if w is not None])
    is_imm = (wide[trial._arm] == imm).to_numpy()
    include = {"pooled": np.ones(len(wide), bool), "immediate": is_imm, "delayed": ~is_imm}[
        period_used
    ]
    rows, audit = [], []
    for name in names:
        cb = wide[f"{name}{SEP}{b}"].to_numpy(dtype=float)
        ce = wide[f"{name}{SEP}{e}"].to_numpy(dtype=float)
        cf = wide[f"{name}{SEP}{fu}"].to_numpy(dtype=float) if fu else np.full(len(wide), np.nan)
        pre = np.where(is_imm, cb, ce)
        post = np.where(is_imm, ce, cf)
        y = post - pre
        ok = include & np.isfinite(y) & np.isfinite(x_all)
        if adjust_baseline:
            ok &= np.isfinite(pre)
        n_out = int((include & ~ok).sum())
        if n_out:
            audit.append(
                dict(
                    step="dose_response",
                    reason="missing change or sessions attended",
                    n_rows=n_out,
                    detail=f"{name}: {period_used} coaching period",
                )
            )
        res = ols_slope(
            y[ok],
            x_all[ok],
            pre[ok][:, None] if adjust_baseline else None,
            conf_level=conf_level,
        )
        n = res.pop("n")
        span = {
            "pooled": f"{imm}: {b} -> {e}; {dly}: {e} -> {fu}",
            "immediate": f"{imm}: {b} -> {e}",
            "delayed": f"{dly}: {e} -> {fu}",
        }[period_used]
        rows.append(
            dict(
                outcome=name,
                analysis="ols",
                contrast=f"per {col}"
                + (" (adjusted for pre-coaching score)" if adjust_baseline else ""),
                wave=None,
                conf_level=conf_level,
                n_treated=n,
                estimand=(
                    f"non-randomized (observational): change across coaching ({span}) per "
                    "session attended"
                ),
                **res,
            )
        )
    return trial_effects(
        rows,
        audit,
        conf_level=conf_level,
        title="Dose-response: change per session attended (observational)",
    )
