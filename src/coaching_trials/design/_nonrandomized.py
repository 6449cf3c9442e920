"""The non-randomized estimands of the delayed-intervention trial: pre/post and durability.

Every row here is a paired t on within-person differences (:func:`~._prepost.paired_t`) and is
labelled ``non-randomized`` in its ``estimand``: the delayed arm before/after its own coaching
(:func:`delayed_arm_prepost`), both arms aligned to the start of their coaching
(:func:`pooled_prepost`) and the immediate arm after coaching ends (:func:`durability`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coaching_trials.design._prepost import paired_t
from coaching_trials.design._results import SEP, TrialEffects, check_conf_level, trial_effects

if TYPE_CHECKING:
    from coaching_trials.design.delayed import DelayedInterventionTrial

__all__ = ["delayed_arm_prepost", "durability", "first_followup", "pooled_prepost"]


def first_followup(trial: DelayedInterventionTrial, followup: str | None, method: str) -> str:
    """The follow-up wave ``followup`` (default: the first), checked against the design."""
    if not trial._followups:
        raise ValueError(
            f"{method} needs a post-crossover wave, but the design declares no follow-up wave "
            f"after the endpoint {trial._endpoint!r} (followup_waves=()); pass "
            "followup_waves=(...) when creating the trial."
        )
    if followup is None:
        return trial._followups[0]
    if followup not in trial._followups:
        raise ValueError(
            f"`followup` must be one of the follow-up waves {list(trial._followups)}; "
            f"got {followup!r}."
        )
    return followup


def _prepare(
    trial: DelayedInterventionTrial,
    outcomes: str | Sequence[str],
    followup: str | None,
    conf_level: float,
    method: str,
) -> tuple[tuple[str, ...], str, float, pd.DataFrame]:
    """(outcomes, follow-up wave, conf_level, wide scores at baseline, endpoint, follow-up)."""
    names = trial._outcomes(outcomes)
    fu = first_followup(trial, followup, method)
    conf_level = check_conf_level(conf_level)
    wide = trial.wide(names, waves=[trial._baseline, trial._endpoint, fu])
    return names, fu, conf_level, wide


def _paired_rows(
    trial: DelayedInterventionTrial,
    wide: pd.DataFrame,
    *,
    name: str,
    arm_label: str | None,
    post: str | np.ndarray,
    pre: str | np.ndarray,
    contrast: str,
    wave: str | None,
    estimand: str,
    conf_level: float,
    audit: list[dict[str, Any]],
    step: str,
) -> dict[str, Any]:
    """One paired-t effects row of ``post - pre`` in ``arm_label`` (all when None)."""
    m = (
        np.ones(len(wide), dtype=bool)
        if arm_label is None
        else (wide[trial._arm] == arm_label).to_numpy()
    )
    x_post = wide[post].to_numpy(dtype=float) if isinstance(post, str) else post
    x_pre = wide[pre].to_numpy(dtype=float) if isinstance(pre, str) else pre
    d = (x_post - x_pre)[m]
    ok = np.isfinite(d)
    if (~ok).any():
        audit.append(
            dict(
                step=step,
                reason="missing a wave of the contrast",
                n_rows=int((~ok).sum()),
                detail=f"{name}: {contrast}",
            )
        )
    res = paired_t(d[ok], conf_level=conf_level)
    n = res.pop("n")
    return dict(
        outcome=name,
        analysis="paired_t",
        contrast=contrast,
        wave=wave,
        conf_level=conf_level,
        n_treated=n,
        estimand=estimand,
        **res,
    )


def delayed_arm_prepost(
    trial: DelayedInterventionTrial,
    outcomes: str | Sequence[str],
    *,
    followup: str | None = None,
    conf_level: float = 0.95,
) -> TrialEffects:
    """Delayed arm before/after (:meth:`DelayedInterventionTrial.delayed_arm_prepost`)."""
    names, fu, conf_level, wide = _prepare(
        trial, outcomes, followup, conf_level, "delayed_arm_prepost"
    )
    b, e, dly = trial._baseline, trial._endpoint, trial._delayed
    rows, audit = [], []
    for name in names:
        cb, ce, cf = (f"{name}{SEP}{w}" for w in (b, e, fu))
        rows.append(
            _paired_rows(
                trial,
                wide,
                name=name,
                arm_label=dly,
                post=cf,
                pre=ce,
                contrast=f"{fu} - {e}",
                wave=fu,
                estimand=f"non-randomized: {dly} arm pre/post coaching ({e} -> {fu})",
                conf_level=conf_level,
                audit=audit,
                step="delayed_arm_prepost",
            )
        )
        after = wide[cf].to_numpy(dtype=float) - wide[ce].to_numpy(dtype=float)
        waiting = wide[ce].to_numpy(dtype=float) - wide[cb].to_numpy(dtype=float)
        rows.append(
            _paired_rows(
                trial,
                wide,
                name=name,
                arm_label=dly,
                post=after,
                pre=waiting,
                contrast=f"({fu} - {e}) - ({e} - {b})",
                wave=fu,
                estimand=(
                    f"non-randomized: {dly} arm change after coaching ({e} -> {fu}) minus "
                    f"change while waiting ({b} -> {e})"
                ),
                conf_level=conf_level,
                audit=audit,
                step="delayed_arm_prepost",
            )
        )
    return trial_effects(
        rows,
        audit,
        conf_level=conf_level,
        title="Delayed arm before/after coaching (non-randomized)",
    )


def pooled_prepost(
    trial: DelayedInterventionTrial,
    outcomes: str | Sequence[str],
    *,
    followup: str | None = None,
    conf_level: float = 0.95,
) -> TrialEffects:
    """Pooled pre/post coaching (:meth:`DelayedInterventionTrial.pooled_prepost`)."""
    names, fu, conf_level, wide = _prepare(trial, outcomes, followup, conf_level, "pooled_prepost")
    b, e, imm, dly = trial._baseline, trial._endpoint, trial._immediate, trial._delayed
    is_imm = (wide[trial._arm] == imm).to_numpy()
    rows, audit = [], []
    for name in names:
        cb, ce, cf = (wide[f"{name}{SEP}{w}"].to_numpy(dtype=float) for w in (b, e, fu))
        pre = np.where(is_imm, cb, ce)
        post = np.where(is_imm, ce, cf)
        rows.append(
            _paired_rows(
                trial,
                wide,
                name=name,
                arm_label=None,
                post=post,
                pre=pre,
                contrast="post - pre coaching",
                wave=None,
                estimand=(
                    f"non-randomized: pooled pre/post aligned to coaching start ({imm}: {b} -> "
                    f"{e}; {dly}: {e} -> {fu})"
                ),
                conf_level=conf_level,
                audit=audit,
                step="pooled_prepost",
            )
        )
    return trial_effects(
        rows,
        audit,
        conf_level=conf_level,
        title="Pooled pre/post coaching, both arms (non-randomized)",
    )


def durability(
    trial: DelayedInterventionTrial, outcomes: str | Sequence[str], *, conf_level: float = 0.95
) -> TrialEffects:
    """Durability (:meth:`DelayedInterventionTrial.durability`)."""
    names = trial._outcomes(outcomes)
    first_followup(trial, None, "durability")
    conf_level = check_conf_level(conf_level)
    e, imm = trial._endpoint, trial._immediate
    wide = trial.wide(names, waves=[e, *trial._followups])
    rows, audit = [], []
    for name in names:
        for fu in trial._followups:
            rows.append(
                _paired_rows(
                    trial,
                    wide,
                    name=name,
                    arm_label=imm,
                    post=f"{name}{SEP}{fu}",
                    pre=f"{name}{SEP}{e}",
                    contrast=f"{fu} - {e}",
                    wave=fu,
                    estimand=(f"non-randomized: {imm} arm durability after coaching ({e} -> {fu})"),
                    conf_level=conf_level,
                    audit=audit,
                    step="durability",
                )
            )
    return trial_effects(
        rows,
        audit,
        conf_level=conf_level,
        title="Durability in the immediate arm (non-randomized)",
    )
