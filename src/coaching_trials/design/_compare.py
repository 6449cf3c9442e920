"""The randomized comparison at the end of the waiting period.

:func:`compare` is :meth:`DelayedInterventionTrial.compare`: per outcome, the standalone
estimator (ANCOVA, change score, MMRM, or their CR1-clustered forms) on one row per randomized
participant, the exclusions counted per arm, per-arm descriptives with percent change, the
standardized effect size and the multiplicity adjustment of the secondary outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coaching_trials._audit import audit_frame
from coaching_trials._errors import format_values, one_of
from coaching_trials._results import EFFECT_COLUMNS, effects_frame
from coaching_trials.analysis.multiplicity import ADJUST_METHODS
from coaching_trials.design._prepost import ols_cluster
from coaching_trials.design._results import (
    SEP,
    TrialComparison,
    check_conf_level,
    trial_effects,
)
from coaching_trials.design._validate import as_name_tuple

if TYPE_CHECKING:
    from coaching_trials.design.delayed import DelayedInterventionTrial

__all__ = ["compare"]

_METHODS = ("ancova", "change", "mmrm")
_ADJUST = (*ADJUST_METHODS, None)


def compare(
    trial: DelayedInterventionTrial,
    outcomes: str | Sequence[str],
    *,
    method: str = "ancova",
    adjust: str | None = "holm",
    primary: str | None = None,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    partially_nested: bool = True,
    conf_level: float = 0.95,
) -> TrialComparison:
    """The randomized comparison (:meth:`DelayedInterventionTrial.compare`)."""
    names = trial._outcomes(outcomes)
    covs, conf_level = _check_options(
        names, method, adjust, primary, covariates, cluster, partially_nested, conf_level
    )
    s, a = trial._subject, trial._arm
    b, e = trial._baseline, trial._endpoint
    cov_frame = trial._covariate_frame(covs)
    audit: list[dict[str, Any]] = []
    if cluster is not None:
        cov_frame[cluster] = _cluster_labels(trial, cluster, covs, partially_nested, audit)
    post = [w for w in trial._waves if trial._waves.index(b) < trial._waves.index(w)]
    post = post[: post.index(e) + 1]
    wide = trial.wide(names, waves=[b, *post])
    rows: list[dict[str, Any]] = []
    desc: list[dict[str, Any]] = []
    std: list[dict[str, Any]] = []
    fits: dict[str, Any] = {}
    for name in names:
        data = wide[[s, a, f"{name}{SEP}{b}", f"{name}{SEP}{e}"]].merge(cov_frame, on=s, how="left")
        audit.extend(_exclusions(trial, name, data, covs, method))
        if method == "mmrm":
            fit, effect_rows = _fit_mmrm(trial, name, wide, cov_frame, covs, post, conf_level)
        else:
            fit, effect_rows = _fit_wide(trial, name, data, method, covs, cluster, conf_level)
        fits[name] = fit
        for r in effect_rows:
            r.update(outcome=name)
            r["estimand"] = f"randomized: {trial._immediate} vs {trial._delayed} at {r['wave']}"
        rows.extend(effect_rows)
        desc.extend(_descriptives(trial, name, data, conf_level))
        std.append(_standardized(trial, name, data, conf_level))
    effects = effects_frame(rows)
    if adjust is not None:
        effects = _adjust(trial, effects, adjust, primary)
    return TrialComparison(
        effects=effects,
        audit=audit_frame(audit),
        conf_level=conf_level,
        title=f"Randomized comparison at {e} ({method}"
        + (f", CR1 clustered by {cluster})" if cluster is not None else ")"),
        descriptives=pd.DataFrame(desc),
        standardized=pd.DataFrame(std),
        fits=MappingProxyType(fits),
        method=method,
        adjust=adjust,
        primary=primary,
    )


def _check_options(
    names: tuple[str, ...],
    method: str,
    adjust: str | None,
    primary: str | None,
    covariates: Sequence[str],
    cluster: str | None,
    partially_nested: bool,
    conf_level: float,
) -> tuple[tuple[str, ...], float]:
    """The options of :func:`compare` checked; returns (covariates, conf_level)."""
    if method not in _METHODS:
        raise one_of("method", method, _METHODS)
    if adjust not in _ADJUST:
        raise one_of("adjust", adjust, _ADJUST)
    if primary is not None and primary not in names:
        raise ValueError(f"`primary` must be one of the outcomes {list(names)}; got {primary!r}.")
    covs = as_name_tuple(covariates, "covariates")
    conf_level = check_conf_level(conf_level)
    if not isinstance(partially_nested, bool):
        raise TypeError(f"`partially_nested` must be True or False; got {partially_nested!r}.")
    if cluster is not None and method == "mmrm":
        raise ValueError(
            "`cluster` is not supported with method='mmrm' (cluster-robust standard errors "
            "for the MMRM are not implemented); use method='ancova' or 'change' with "
            "`cluster`, or method='mmrm' without it."
        )
    if cluster is not None and method == "change" and covs:
        raise ValueError("`covariates` are not used by method='change'; use 'ancova'.")
    return covs, conf_level


def _exclusions(
    trial: DelayedInterventionTrial,
    name: str,
    data: pd.DataFrame,
    covs: tuple[str, ...],
    method: str,
) -> list[dict[str, Any]]:
    """Audit entries: participants of each arm without the scores or covariates of ``name``."""
    a, b, e = trial._arm, trial._baseline, trial._endpoint
    yb, ye = f"{name}{SEP}{b}", f"{name}{SEP}{e}"
    cov_ok = data[list(covs)].notna().all(axis=1) if covs else pd.Series(True, data.index)
    miss = {
        f"no {e} score": data[ye].isna(),
        f"no {b} score ({e} observed)": data[ye].notna() & data[yb].isna(),
        "missing covariate (scores observed)": data[ye].notna() & data[yb].notna() & ~cov_ok,
    }
    detail = (
        f"not in the {method} analysis of {name}"
        if method != "mmrm"
        else f"no {e} contribution to the mmrm of {name} (other visits still used)"
    )
    audit = []
    for reason, m in miss.items():
        for arm_label in trial.arms:
            k = int((m & (data[a] == arm_label)).sum())
            if k:
                audit.append(
                    dict(
                        step=f"compare[{name}]",
                        reason=f"{reason}, {arm_label}",
                        n_rows=k,
                        detail=detail,
                    )
                )
    return audit


def _descriptives(
    trial: DelayedInterventionTrial, name: str, data: pd.DataFrame, conf_level: float
) -> list[dict[str, Any]]:
    """Per arm: all available data at baseline and endpoint; percent change on paired completes."""
    from coaching_trials.analysis.change import percent_change

    a, imm = trial._arm, trial._immediate
    yb, ye = f"{name}{SEP}{trial._baseline}", f"{name}{SEP}{trial._endpoint}"
    pc = _percent_change_table(
        percent_change(data, outcome=ye, baseline=yb, arm=a, treated=imm, conf_level=conf_level),
        arms=trial.arms,
    )
    desc = []
    for arm_label in trial.arms:
        m = (data[a] == arm_label).to_numpy()
        xb = data.loc[m, yb].dropna().to_numpy()
        xe = data.loc[m, ye].dropna().to_numpy()
        desc.append(
            dict(
                outcome=name,
                arm=arm_label,
                baseline_n=xb.size,
                baseline_mean=xb.mean() if xb.size else np.nan,
                baseline_sd=xb.std(ddof=1) if xb.size > 1 else np.nan,
                endpoint_n=xe.size,
                endpoint_mean=xe.mean() if xe.size else np.nan,
                endpoint_sd=xe.std(ddof=1) if xe.size > 1 else np.nan,
                **pc.get(arm_label, {}),
            )
        )
    return desc


def _standardized(
    trial: DelayedInterventionTrial, name: str, data: pd.DataFrame, conf_level: float
) -> dict[str, Any]:
    """Morris (2008) d_ppc2 of ``name`` with its CI."""
    from coaching_trials.analysis.effect_size import ppc_effect_size

    yb, ye = f"{name}{SEP}{trial._baseline}", f"{name}{SEP}{trial._endpoint}"
    es = ppc_effect_size(
        data,
        outcome=ye,
        baseline=yb,
        arm=trial._arm,
        treated=trial._immediate,
        conf_level=conf_level,
    )
    return dict(
        outcome=name,
        measure="d_ppc2",
        estimate=float(es.estimate),
        conf_low=float(es.conf_low),
        conf_high=float(es.conf_high),
        conf_level=conf_level,
    )


def _fit_wide(
    trial: DelayedInterventionTrial,
    name: str,
    data: pd.DataFrame,
    method: str,
    covs: tuple[str, ...],
    cluster: str | None,
    conf_level: float,
) -> tuple[Any, list[dict[str, Any]]]:
    a, b, e, imm = trial._arm, trial._baseline, trial._endpoint, trial._immediate
    yb, ye = f"{name}{SEP}{b}", f"{name}{SEP}{e}"
    if method == "change" and cluster is not None:
        return _fit_change_clustered(trial, name, data, cluster, conf_level)
    if method == "ancova":
        from coaching_trials.analysis.ancova import ancova

        fit = ancova(
            data,
            outcome=ye,
            arm=a,
            baseline=yb,
            treated=imm,
            covariates=covs,
            cluster=cluster,
            conf_level=conf_level,
        )
    else:
        if covs:
            raise ValueError("`covariates` are not used by method='change'; use 'ancova'.")
        from coaching_trials.analysis.change import change_score

        fit = change_score(
            data,
            outcome=ye,
            baseline=yb,
            arm=a,
            treated=imm,
            method="pooled",
            conf_level=conf_level,
        )
    frame = fit.to_frame()
    rows = [_effect_row(frame.iloc[0], wave=e, analysis=method)]
    if cluster is not None:
        rows[0]["analysis"] = "ancova_cr1"
    return fit, rows


def _fit_change_clustered(
    trial: DelayedInterventionTrial, name: str, data: pd.DataFrame, cluster: str, conf_level: float
) -> tuple[Any, list[dict[str, Any]]]:
    """Difference in mean change (OLS of change on arm) with CR1 standard errors."""
    a, b, e = trial._arm, trial._baseline, trial._endpoint
    imm, dly = trial._immediate, trial._delayed
    change = (data[f"{name}{SEP}{e}"] - data[f"{name}{SEP}{b}"]).to_numpy(dtype=float)
    ok = np.isfinite(change)
    is_imm = (data[a] == imm).to_numpy()
    res = ols_cluster(
        change[ok],
        is_imm[ok].astype(float),
        data[cluster].to_numpy(dtype=object)[ok],
        conf_level=conf_level,
    )
    res.pop("n")
    n_clusters = res.pop("n_clusters")
    row = dict(
        outcome=name,
        analysis="change_score_cr1",
        contrast=f"{imm} - {dly}",
        wave=e,
        conf_level=conf_level,
        n_treated=int((ok & is_imm).sum()),
        n_control=int((ok & ~is_imm).sum()),
        **res,
    )
    fit = trial_effects(
        [dict(row, estimand=f"randomized: {imm} vs {dly} at {e}")],
        [
            dict(
                step="change_score_cr1",
                reason="clusters",
                n_rows=int(ok.sum()),
                detail=f"{n_clusters} clusters of {cluster!r}; df = {n_clusters - 1}",
            )
        ],
        conf_level=conf_level,
        title=f"Change score, CR1 clustered by {cluster} ({name})",
    )
    return fit, [row]


def _cluster_labels(
    trial: DelayedInterventionTrial,
    cluster: Any,
    covs: tuple[str, ...],
    partially_nested: bool,
    audit: list[dict[str, Any]],
) -> pd.Series:
    """Cluster id per participant (participants order); singletons where documented."""
    if not isinstance(cluster, str):
        raise TypeError(f"`cluster` must be a column name (str) or None; got {cluster!r}.")
    if cluster in covs:
        raise ValueError(f"`cluster` {cluster!r} is also listed in `covariates`.")
    s, a = trial._subject, trial._arm
    ids = trial._covariate_frame((cluster,))[cluster].astype("string")
    no_id = ids.isna().to_numpy()
    subj = trial._participants[s].astype("string").to_numpy(dtype=object)
    is_dly = (trial._participants[a] == trial._delayed).to_numpy()
    nested_out = is_dly if partially_nested else np.zeros(len(subj), dtype=bool)
    own = no_id | nested_out
    labels = np.array(
        [f"(own cluster) {i}" if o else str(c) for i, c, o in zip(subj, ids, own, strict=True)],
        dtype=object,
    )
    if partially_nested:
        audit.append(
            dict(
                step="cluster",
                reason=f"partially nested: {trial._delayed} arm participants are their own cluster",
                n_rows=int(is_dly.sum()),
                detail=f"{trial._delayed} arm not coached before {trial._endpoint}; "
                f"{cluster!r} not used in that arm",
            )
        )
    lone = no_id & ~nested_out
    if lone.any():
        audit.append(
            dict(
                step="cluster",
                reason=f"no {cluster!r}: analysed as its own cluster",
                n_rows=int(lone.sum()),
                detail=f"ids {format_values(subj[lone])}",
            )
        )
    n_given = len(set(labels[~own]))
    audit.append(
        dict(
            step="cluster",
            reason=f"CR1 standard errors clustered by {cluster!r}",
            n_rows=len(subj),
            detail=f"{n_given} clusters from {cluster!r} + {int(own.sum())} single-participant "
            "clusters before exclusions; df = analysed clusters - 1",
        )
    )
    return pd.Series(labels, index=trial._participants.index, dtype=object)


def _fit_mmrm(
    trial: DelayedInterventionTrial,
    name: str,
    wide: pd.DataFrame,
    cov_frame: pd.DataFrame,
    covs: tuple[str, ...],
    post: list[str],
    conf_level: float,
) -> tuple[Any, list[dict[str, Any]]]:
    from coaching_trials.analysis.mmrm import mmrm

    s, a, w, b = trial._subject, trial._arm, trial._wave, trial._baseline
    base_col = f"{name}{SEP}{b}"
    long = trial._responses.loc[trial._responses[w].isin(post), [s, w, name]].copy()
    long[w] = pd.Categorical(long[w].astype("string"), categories=post, ordered=True)
    long = long.merge(wide[[s, a, base_col]], on=s, how="left").merge(cov_frame, on=s)
    long = long.sort_values([s, w]).reset_index(drop=True)
    fit = mmrm(
        long,
        outcome=name,
        arm=a,
        wave=w,
        subject=s,
        treated=trial._immediate,
        baseline=base_col,
        covariates=covs,
        conf_level=conf_level,
    )
    frame = fit.to_frame()
    rows = [_effect_row(r, wave=str(r["wave"]), analysis="mmrm") for _, r in frame.iterrows()]
    return fit, rows


def _adjust(
    trial: DelayedInterventionTrial, effects: pd.DataFrame, adjust: str, primary: str | None
) -> pd.DataFrame:
    from coaching_trials.analysis.multiplicity import adjust_effects

    at_end = (effects["wave"] == trial._endpoint).to_numpy()
    adjusted = adjust_effects(
        effects.loc[at_end].reset_index(drop=True), method=adjust, primary=primary
    )
    out = effects.copy()
    out.loc[at_end, "p_adjusted"] = adjusted["p_adjusted"].to_numpy(dtype=float)
    return out


def _effect_row(row: pd.Series, *, wave: str, analysis: str) -> dict[str, Any]:
    out = {c: row[c] for c in EFFECT_COLUMNS if c in row.index}
    out["wave"] = wave
    out["analysis"] = out.get("analysis") or analysis
    if not isinstance(out["analysis"], str):
        out["analysis"] = analysis
    return out


def _percent_change_table(result: Any, *, arms: tuple[str, str]) -> dict[str, dict[str, float]]:
    """Per-arm percent change fields from a ``percent_change`` result (its ``per_arm`` table):
    the paired n, the baseline and endpoint means of those paired participants (the means the
    percent change is computed from, so a printed row reconciles) and the percent change."""
    frame = result.per_arm
    out: dict[str, dict[str, float]] = {}
    for _, r in frame.iterrows():
        label = str(r["arm"])
        if label in arms:
            out[label] = dict(
                percent_change_n=int(r["n"]),
                paired_baseline_mean=float(r["mean_baseline"]),
                paired_endpoint_mean=float(r["mean_outcome"]),
                percent_change=float(r["percent_change"]),
                percent_change_conf_low=float(r["conf_low"]),
                percent_change_conf_high=float(r["conf_high"]),
            )
    return out
