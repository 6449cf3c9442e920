"""Compute and release what a trial's shared outputs may show (compute -> release).

:func:`publish_trial` computes every table that the report, the shareable tables and the
figures will show, hands all of them at once to the release step, checks them for identifiers,
and returns the :class:`~coaching_trials.release.Release` together with the plain-text facts the
renderers need (labels, design, options). Renderers receive only this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from coaching_trials.release import Release, release
from coaching_trials.release.identifiers import check_baseline_variables
from coaching_trials.release.linkage import collapse_flow_reasons, exclusions_table

__all__ = ["Published", "publish_trial", "shared_tables"]


@dataclass(frozen=True)
class Published:
    """The released tables and the facts a renderer may print (no data, no ids)."""

    release: Release
    meta: Mapping[str, Any]
    full: Mapping[str, pd.DataFrame]


def shared_tables(
    trial: Any,
    *,
    outcomes: Sequence[str],
    primary: str,
    method: str,
    adjust: str | None,
    conf_level: float,
    covariates: Sequence[str] = (),
    baseline_variables: Sequence[str] | None = None,
    nonrandomized: bool = True,
    min_cell: int = 5,
    comparison: Any = None,
    baseline: Any = None,
) -> dict[str, pd.DataFrame]:
    """Every table a trial's report and shareable files print (before release)."""
    from coaching_trials.plots.trajectories import trajectory_table

    outs = list(outcomes)
    if comparison is None:
        comparison = trial.compare(
            outs,
            method=method,
            adjust=adjust,
            primary=primary,
            conf_level=conf_level,
            covariates=tuple(covariates),
        )
    if baseline is None:
        baseline = trial.baseline_table(baseline_variables)
    d = trial.design
    tables: dict[str, pd.DataFrame] = {
        "flow": collapse_flow_reasons(trial.flow(primary), min_cell),
        "baseline": baseline.table.drop(columns=["median", "q1", "q3"], errors="ignore"),
        "effects": comparison.effects,
        "standardized": comparison.standardized,
        "descriptives": comparison.descriptives,
        "exclusions": exclusions_table(trial, outs, covariates),
    }
    traj = []
    for o in outs:
        t = trajectory_table(
            trial.responses,
            outcome=o,
            arm=d["arm"],
            wave=d["wave"],
            subject=d["subject"],
            conf_level=conf_level,
            arm_order=list(trial.arms),
        )
        t = t[["arm", "wave", "n", "mean", "conf_low", "conf_high"]].copy()
        t.insert(0, "outcome", o)
        t["arm"] = t["arm"].astype(str)
        t["wave"] = t["wave"].astype(str)
        traj.append(t)
    tables["trajectories"] = pd.concat(traj, ignore_index=True)
    if nonrandomized and d["followup_waves"]:
        parts = [
            trial.delayed_arm_prepost(outs, conf_level=conf_level),
            trial.pooled_prepost(outs, conf_level=conf_level),
            trial.durability(outs, conf_level=conf_level),
        ]
        tables["nonrandomized"] = pd.concat([p.effects for p in parts], ignore_index=True)
    return tables


def publish_trial(
    trial: Any,
    tables: Mapping[str, pd.DataFrame],
    *,
    primary: str,
    method: str = "ancova",
    covariates: Sequence[str] = (),
    responders: Sequence[Mapping[str, Any]] = (),
    policy: Any = "suppress",
    min_cell: int = 5,
    declared: Sequence[str] | None = None,
) -> Release:
    """Check identifiers, then release ``tables`` jointly (see :func:`coaching_trials.release`)."""
    if "baseline" in tables:
        variables = list(pd.unique(tables["baseline"]["variable"]))
        check_baseline_variables(trial, variables, declared=declared)
    return release(
        tables,
        trial=trial,
        policy=policy,
        min_cell=min_cell,
        primary=primary,
        method=method,
        covariates=covariates,
        responders=responders,
    )
