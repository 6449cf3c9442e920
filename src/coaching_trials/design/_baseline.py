"""Table 1 of the delayed-intervention trial: which variables, from where, in which order.

:func:`baseline_table` is :meth:`DelayedInterventionTrial.baseline_table`: it picks the
variables (``participants`` columns, then numeric baseline responses), checks the declared level
orders (:func:`_check_levels`) and hands the frame to :func:`~._tables.baseline_summary`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from coaching_trials._errors import ProblemLog, format_values, one_of
from coaching_trials.design._results import BaselineTable
from coaching_trials.design._tables import baseline_summary
from coaching_trials.design._validate import as_name_tuple, is_item_column

if TYPE_CHECKING:
    from coaching_trials.design.delayed import DelayedInterventionTrial

__all__ = ["baseline_table"]

_ADMIN_COLUMNS = (
    "sessions_attended",
    "coach_id",
    "withdrawal_reason",
    "withdrawn_before",
    "last_wave",
    "randomization_date",
)


def baseline_table(
    trial: DelayedInterventionTrial,
    variables: Sequence[str] | None = None,
    *,
    continuous: str = "mean_sd",
    smd: bool = True,
    categorical: Sequence[str] = (),
    levels: Mapping[str, Sequence[Any]] | None = None,
    digits: int = 2,
) -> BaselineTable:
    """Table 1 (:meth:`DelayedInterventionTrial.baseline_table`)."""
    if continuous not in ("mean_sd", "median_iqr"):
        raise one_of("continuous", continuous, ("mean_sd", "median_iqr"))
    s, a = trial._subject, trial._arm
    part = trial._participants
    base = trial._responses[trial._responses[trial._wave] == trial._baseline].set_index(s)
    if variables is None:
        pvars = [
            c
            for c in part.columns
            if c not in (s, a, trial._sessions, *_ADMIN_COLUMNS)
            and not c.endswith("_date")
            and not pd.api.types.is_datetime64_any_dtype(part[c])
        ]
        rvars = [
            c
            for c in base.columns
            if c not in (a, trial._wave, *pvars)
            and pd.api.types.is_numeric_dtype(base[c])
            and not pd.api.types.is_bool_dtype(base[c])
            and not is_item_column(c)
        ]
        variables = [*pvars, *rvars]
    else:
        variables = list(as_name_tuple(variables, "variables"))
    log = ProblemLog("baseline_table variables")
    frame = part[[s, a]].copy()
    for v in variables:
        if v in (s, a):
            log.add("bad_variable", f"variable {v!r} is a design column.", column=v)
        elif v in part.columns:
            frame[v] = part[v]  # same index; keeps a Categorical's level order
        elif v in base.columns:
            frame[v] = base[v].reindex(frame[s]).set_axis(frame.index)
        else:
            log.add(
                "missing_column",
                f"variable {v!r} is neither a column of `participants` nor of the responses.",
                column=v,
                expected="a participants column or a responses column",
            )
    log.raise_if_any()
    level_order = _check_levels(levels, frame, variables, subject=s)
    table, formatted = baseline_summary(
        frame,
        variables,
        arm=a,
        arms=trial.arms,
        continuous=continuous,
        smd=smd,
        categorical=tuple(categorical),
        levels=level_order,
        digits=digits,
    )
    return BaselineTable(table=table, formatted=formatted, continuous=continuous)


def _check_levels(
    levels: Mapping[str, Sequence[Any]] | None,
    frame: pd.DataFrame,
    variables: Sequence[str],
    *,
    subject: str,
) -> dict[str, tuple[Any, ...]]:
    """Validate ``baseline_table(levels=...)``; every problem is reported at once."""
    if levels is None:
        return {}
    if not isinstance(levels, Mapping):
        raise TypeError(
            f"`levels` must be a mapping of variable name to a sequence of levels, e.g. "
            f"{{'age_band': ['<40', '40-49']}}; got {type(levels).__name__}."
        )
    log = ProblemLog("baseline_table levels")
    out: dict[str, tuple[Any, ...]] = {}
    for var, order in levels.items():
        if var not in variables:
            log.add(
                "unknown_variable",
                f"`levels` names variable {var!r}, which is not a variable of the table "
                f"(variables: {format_values(variables, 12)}).",
                column=str(var),
                values=[var],
                expected="a variable of the baseline table",
            )
            continue
        if isinstance(order, (str, bytes)) or not isinstance(order, Sequence):
            log.add(
                "bad_levels",
                f"`levels[{var!r}]` must be a list of levels; got {order!r}.",
                column=var,
                values=[repr(order)],
                expected="a list of levels",
            )
            continue
        order = tuple(order)
        dupl = [lv for lv in dict.fromkeys(order) if order.count(lv) > 1]
        if dupl:
            log.add(
                "duplicate_level",
                f"`levels[{var!r}]` lists level(s) {format_values(dupl)} more than once.",
                column=var,
                values=dupl,
                expected="each level once",
            )
        observed = pd.Series(frame[var].dropna().unique(), dtype=object)
        unlisted = observed[~observed.isin(list(order))]
        if len(unlisted):
            vals = sorted(unlisted.tolist(), key=lambda v: (str(type(v)), v))
            who = frame.loc[frame[var].isin(vals).to_numpy(), subject]
            log.add(
                "unlisted_level",
                f"column {var!r} has value(s) {format_values(vals)} that are not in "
                f"`levels[{var!r}]` {list(order)} (participant(s) {format_values(who)}); "
                "list every level.",
                column=var,
                values=vals,
                expected=f"one of {list(order)}",
            )
        out[var] = order
    log.raise_if_any()
    return out
