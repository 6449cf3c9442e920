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

__all__ = ["OUR_TRIAL", "Published", "decision_tables", "publish_trial", "shared_tables"]


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


#: The label of the user's own trial among published trials in the ``evidence`` table.
OUR_TRIAL = "This trial"

_BENEFIT_COLUMNS = (
    "outcome",
    "wave",
    "prior",
    "post_mean",
    "post_sd",
    "post_low",
    "post_high",
    "cred_level",
    "mid",
    "p_benefit",
    "p_mid",
    "p_harm",
    "sentence",
    "note",
)


def decision_tables(
    effects: pd.DataFrame,
    responder_results: Sequence[Any] = (),
    *,
    decision: Mapping[str, Any] | None = None,
    business_case: Mapping[str, Any] | None = None,
    evidence: Mapping[str, Any] | None = None,
    primary: str,
    seed: int = 2024,
    conf_level: float = 0.95,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The decision tables a leadership report may show, and the results behind them.

    ``benefit`` (posterior summaries of each randomized effect under the named priors),
    ``business_case`` and ``business_assumptions`` (the turnover-cost model and every input
    with its source), ``evidence`` (this trial among published trials: each study and the
    pooled random-effects row). Each is built from a public function of
    :mod:`coaching_trials.decision`; they are released with the other tables.
    """
    import coaching_trials as ct

    tables: dict[str, pd.DataFrame] = {}
    results: dict[str, Any] = {}
    randomized = effects[effects["estimand"].astype(str).str.startswith("randomized")]
    if decision is not None:
        benefit = ct.probability_of_benefit(
            randomized,
            prior=list(decision.get("priors", ["skeptical", "reference"])),
            mid=decision.get("mid"),
            large=decision.get("large"),
            cred_level=conf_level,
        )
        frame = benefit.to_frame()
        tables["benefit"] = frame[[c for c in _BENEFIT_COLUMNS if c in frame.columns]]
        results["benefit"] = benefit
    if business_case is not None and responder_results:
        options = dict(business_case)
        index = int(options.pop("responder", 0))
        case = ct.business_case(
            responder_results[index],
            seed=int(options.pop("seed", seed)),
            conf_level=conf_level,
            **options,
        )
        tables["business_case"] = case.to_frame()
        assumptions = case.assumptions
        tables["business_assumptions"] = assumptions[
            [c for c in ("input", "value", "low", "high", "unit", "source") if c in assumptions]
        ]
        results["business_case"] = case
    if evidence is not None:
        outcome = evidence.get("outcome", primary)
        scale = float(evidence.get("scale", 1.0))
        ours = randomized[randomized["outcome"] == outcome].head(1)
        ours = ours.assign(
            study=OUR_TRIAL,
            estimate=ours["estimate"] * scale,
            std_error=ours["std_error"] * scale,
        )
        published = ct.published_trials(outcome)
        meta = ct.meta_analysis(
            pd.concat([published, ours], ignore_index=True),
            method=evidence.get("method", "REML"),
            test=evidence.get("test", "hksj"),
            conf_level=conf_level,
        )
        studies = meta.studies.copy()
        pooled = meta.to_frame().iloc[0]
        row = {
            "study": "pooled (random effects)",
            "estimate": pooled["estimate"],
            "std_error": pooled["std_error"],
            "conf_low": pooled["conf_low"],
            "conf_high": pooled["conf_high"],
            "weight": 100.0,
            "tau2": pooled["tau2"],
            "i2": pooled["i2"],
            "pi_low": pooled["pi_low"],
            "pi_high": pooled["pi_high"],
        }
        table = pd.concat([studies, pd.DataFrame([row])], ignore_index=True)
        table.insert(0, "outcome", outcome)
        table["scale"] = scale
        tables["evidence"] = table
        results["evidence"] = meta
    return tables, results
