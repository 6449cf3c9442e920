"""Tie every count of a delayed-intervention trial's published tables to its participants.

Each known table has a linker that recomputes, from the trial's own data, the set of
randomized participants behind each printed count, and checks that the set has exactly the
printed size (a :class:`~coaching_trials.release._model.LinkageError` otherwise: the release
refuses what it cannot vouch for). Statistics are tied to the counts they describe.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials.release._model import LinkageError, Publication

__all__ = [
    "LINKED_TABLES",
    "OTHER_REASONS",
    "TrialMasks",
    "collapse_flow_reasons",
    "exclusions_table",
    "link_trial_tables",
]

_EFFECT_STATS = (
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
    "p_adjusted",
)


class TrialMasks:
    """Boolean masks over the randomized participants of a trial (in ``participants`` order)."""

    def __init__(self, trial: Any) -> None:
        d = trial.design
        self.trial = trial
        self.subject, self.arm, self.wave = d["subject"], d["arm"], d["wave"]
        self.imm, self.dly = trial.arms
        self.baseline, self.endpoint = d["baseline_wave"], d["endpoint_wave"]
        self.followups = tuple(d["followup_waves"])
        part = trial.participants
        self.ids = part[self.subject].astype(str).to_numpy()
        arm_of = part[self.arm].astype("string").to_numpy()
        self.arms = {
            self.imm: arm_of == self.imm,
            self.dly: arm_of == self.dly,
            "overall": np.ones(len(self.ids), dtype=bool),
        }
        self._obs: dict[tuple[str | None, str], np.ndarray] = {}
        self._rows: dict[str, tuple[pd.DataFrame, np.ndarray]] = {}
        self._wide: dict[str, pd.DataFrame] = {}
        self._base: pd.DataFrame | None = None

    def group(self, label: Any) -> np.ndarray:
        key = str(label)
        if key not in self.arms:
            raise LinkageError(f"arm {label!r} is not an arm of the trial (nor 'overall').")
        return self.arms[key]

    def _at_wave(self, wave: str) -> tuple[pd.DataFrame, np.ndarray]:
        """The responses at ``wave`` and the participant index (in ``ids``) of each row."""
        if wave not in self._rows:
            resp = self.trial.responses
            at = resp[resp[self.wave].astype("string").to_numpy() == wave]
            where = pd.Index(self.ids).get_indexer(at[self.subject].astype(str).to_numpy())
            self._rows[wave] = (at, where)
        return self._rows[wave]

    def observed(self, outcome: str | None, wave: str) -> np.ndarray:
        """Participants with a row at ``wave`` (and a non-missing ``outcome``)."""
        key = (outcome, str(wave))
        if key not in self._obs:
            at, where = self._at_wave(str(wave))
            keep = where >= 0
            if outcome is not None:
                keep &= pd.to_numeric(at[outcome], errors="coerce").notna().to_numpy()
            mask = np.zeros(len(self.ids), dtype=bool)
            mask[where[keep]] = True
            self._obs[key] = mask
        return self._obs[key]

    def value(self, outcome: str, wave: str) -> np.ndarray:
        if outcome not in self._wide:
            self._wide[outcome] = self.trial.wide(outcome)
        col = f"{outcome}__{wave}"
        return self._wide[outcome][col].to_numpy(dtype=float)

    def baseline_frame(self) -> pd.DataFrame:
        if self._base is None:
            resp = self.trial.responses
            base = resp[resp[self.wave].astype("string") == str(self.baseline)]
            self._base = base.set_index(base[self.subject].astype(str))
        return self._base

    def variable(self, name: str) -> pd.Series:
        part = self.trial.participants
        if name in part.columns:
            return part[name].reset_index(drop=True)
        base = self.baseline_frame()
        if name in base.columns:
            return base[name].reindex(self.ids).reset_index(drop=True)
        raise LinkageError(f"baseline variable {name!r} is not in the trial's data.")

    def covariates_ok(self, covariates: Sequence[str]) -> np.ndarray:
        ok = np.ones(len(self.ids), dtype=bool)
        for cov in covariates:
            ok &= self.variable(cov).notna().to_numpy()
        return ok


# ---------------------------------------------------------------------------------------------
# compute side: a table the report prints that no estimator returns as such
# ---------------------------------------------------------------------------------------------
def exclusions_table(
    trial: Any, outcomes: Sequence[str], covariates: Sequence[str] = ()
) -> pd.DataFrame:
    """Randomized participants not in the endpoint comparison, per outcome, arm and reason."""
    m = TrialMasks(trial)
    cov_ok = m.covariates_ok(covariates)
    rows = []
    for o in outcomes:
        base, end = m.observed(o, m.baseline), m.observed(o, m.endpoint)
        for a in (m.imm, m.dly):
            g = m.group(a)
            for reason, mask in (
                (f"no {m.endpoint} score", g & ~end),
                (f"no {m.baseline} score ({m.endpoint} observed)", g & end & ~base),
                ("a covariate missing", g & end & base & ~cov_ok),
            ):
                if mask.any():
                    rows.append(dict(outcome=o, arm=a, reason=reason, n=int(mask.sum())))
    return pd.DataFrame(rows, columns=["outcome", "arm", "reason", "n"]).astype({"n": "int64"})


OTHER_REASONS = "other reasons"


def collapse_flow_reasons(flow: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """The flow with rare loss reasons merged into ``"other reasons"`` (per wave).

    A reason with fewer than ``min_cell`` people in any arm at a wave is merged, in every arm,
    so that the breakdown a reader sees does not single out a few people; the merged row keeps
    the total. Rows stay in the order of the flow.
    """
    flow = flow.reset_index(drop=True)
    lost = flow["stage"] == "not assessed"
    arms = [a for a in pd.unique(flow["arm"]) if a != "overall"]
    rare: set[tuple[Any, Any]] = set()
    for (wave, reason), part in flow[lost].groupby(["wave", "reason"], sort=False):
        counts = part.set_index("arm")["n"].reindex(arms).fillna(0)
        if (counts < min_cell).any():
            rare.add((wave, reason))
    if not rare:
        return flow
    out = flow.copy()
    key = list(zip(out["wave"], out["reason"], strict=True))
    merge = lost & pd.Series([k in rare for k in key], index=out.index)
    out.loc[merge, "reason"] = OTHER_REASONS
    first = out[merge].groupby(["arm", "wave"], sort=False).head(1).index
    sums = out[merge].groupby(["arm", "wave"], sort=False)["n"].sum()
    keep = ~merge | out.index.isin(first)
    out = out[keep].copy()
    for idx in first:
        out.at[idx, "n"] = int(sums[(out.at[idx, "arm"], out.at[idx, "wave"])])
    return out.reset_index(drop=True).astype({"n": "int64"})


# ---------------------------------------------------------------------------------------------
# linkers
# ---------------------------------------------------------------------------------------------
def _flow(pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]) -> None:
    table = pub.tables[name]
    primary = ctx.get("primary")
    why = ctx.get("reasons")
    for i, r in table.iterrows():
        g = m.group(r["arm"])
        gq = pub.quantity(g)
        stage, wave, reason = r["stage"], r["wave"], r["reason"]
        if stage == "randomized":
            mask = g
        elif stage == "assessed":
            mask = g & m.observed(primary, wave)
        elif stage == "not assessed":
            lost = g & ~m.observed(primary, wave)
            row_there = m.observed(None, wave)
            label = np.where(row_there, f"{primary} missing", why).astype(str)
            if reason == OTHER_REASONS:
                named = table.loc[
                    (table["stage"] == "not assessed") & (table["wave"] == wave), "reason"
                ]
                mask = lost & ~np.isin(label, [str(x) for x in named if x != OTHER_REASONS])
            else:
                mask = lost & (label == str(reason))
        elif stage == "analysed":
            mask = g & m.observed(primary, m.baseline) & m.observed(primary, m.endpoint)
        elif stage == "not analysed":
            end, base = m.observed(primary, m.endpoint), m.observed(primary, m.baseline)
            if reason == f"no data at {m.endpoint}":
                mask = g & ~end
            elif reason == f"no data at {m.baseline} only":
                mask = g & end & ~base
            else:
                raise LinkageError(f"flow: unknown reason {reason!r}.")
        else:
            raise LinkageError(f"flow: unknown stage {stage!r}.")
        weight = {"randomized": 100, "assessed": 90, "analysed": 90}.get(stage, 1)
        pub.count(name, i, "n", mask, groups=[gq], weight=weight)


def _baseline(pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]) -> None:
    table = pub.tables[name]
    per_var: dict[str, dict[str, dict[str, int]]] = {}
    for i, r in table.iterrows():
        var, g_label = r["variable"], r["arm"]
        g = m.group(g_label)
        gq = pub.quantity(g)
        s = m.variable(var)
        notna = s.notna().to_numpy()
        nq = pub.count(name, i, "n", g & notna, groups=[gq], weight=20)
        pub.count(name, i, "n_missing", g & ~notna, groups=[gq], weight=2)
        info = per_var.setdefault(f"{var}\x00{r['level']}", {})
        if r["kind"] == "continuous":
            pub.stat(
                name,
                i,
                ("mean", "sd", "median", "q1", "q3"),
                needs=[nq],
                family=f"baseline:{var}",
                mask=g & notna,
            )
            info[str(g_label)] = {"n": nq}
        else:
            level = np.array([str(v) for v in s.to_numpy(dtype=object)], dtype=object)
            cq = pub.count(name, i, "count", g & notna & (level == str(r["level"])), groups=[gq])
            pub.stat(name, i, ("percent",), needs=[cq, nq], percent_of=(cq, nq, 100.0))
            info[str(g_label)] = {"n": nq, "count": cq}
    for i, r in table.iterrows():
        info = per_var[f"{r['variable']}\x00{r['level']}"]
        needs = [q for a in (m.imm, m.dly) for q in info.get(a, {}).values()]
        pub.stat(name, i, ("smd",), needs=needs)


def _descriptives(pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]) -> None:
    table = pub.tables[name]
    for i, r in table.iterrows():
        o, g = r["outcome"], m.group(r["arm"])
        gq = pub.quantity(g)
        base, end = m.observed(o, m.baseline), m.observed(o, m.endpoint)
        for prefix, mask, wave in (
            ("baseline", g & base, m.baseline),
            ("endpoint", g & end, m.endpoint),
        ):
            q = pub.count(name, i, f"{prefix}_n", mask, groups=[gq], weight=40)
            pub.stat(
                name,
                i,
                (f"{prefix}_mean", f"{prefix}_sd"),
                needs=[q],
                family=f"value:{o}:{wave}",
                mask=mask,
            )
        both = g & base & end
        q = pub.count(name, i, "percent_change_n", both, groups=[gq], weight=40)
        for col, wave in (
            ("paired_baseline_mean", m.baseline),
            ("paired_endpoint_mean", m.endpoint),
        ):
            pub.stat(name, i, (col,), needs=[q], family=f"value:{o}:{wave}", mask=both)
        paired = [c for c in table.columns if c.startswith("percent_change")]
        pub.stat(name, i, tuple(c for c in paired if c != "percent_change_n"), needs=[q])


def _by_wave(pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]) -> None:
    """``summary`` and ``trajectories``: n and statistics per outcome x wave x arm."""
    table = pub.tables[name]
    for i, r in table.iterrows():
        g = m.group(r["arm"])
        mask = g & m.observed(r["outcome"], r["wave"])
        q = pub.count(name, i, "n", mask, groups=[pub.quantity(g)], weight=30)
        pub.stat(
            name,
            i,
            ("mean", "sd", "conf_low", "conf_high"),
            needs=[q],
            family=f"value:{r['outcome']}:{r['wave']}",
            mask=mask,
        )


def _analysed(m: TrialMasks, outcome: str, ctx: Mapping[str, Any]) -> np.ndarray:
    base, end = m.observed(outcome, m.baseline), m.observed(outcome, m.endpoint)
    method = ctx.get("method", "ancova")
    if method == "mmrm":
        # every participant with a baseline score and at least one post-baseline score
        post = np.zeros(len(m.ids), dtype=bool)
        for w in (m.endpoint, *m.followups):
            post |= m.observed(outcome, w)
        return base & post & m.covariates_ok(ctx.get("covariates", ()))
    return base & end & m.covariates_ok(ctx.get("covariates", ()))


def _effects(pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]) -> None:
    table = pub.tables[name]
    keys: dict[str, list[int]] = {}
    for i, r in table.iterrows():
        ok = _analysed(m, r["outcome"], ctx)
        if ctx.get("method") == "mmrm" and pd.notna(r.get("wave")):
            ok = ok & m.observed(r["outcome"], r["wave"])
        needs = []
        for col, arm in (("n_treated", m.imm), ("n_control", m.dly)):
            g = m.group(arm)
            weight = 90 if r["outcome"] == ctx.get("primary") else 60
            needs.append(pub.count(name, i, col, g & ok, groups=[pub.quantity(g)], weight=weight))
        pub.stat(name, i, _EFFECT_STATS, needs=needs)
        pub.stat(name, i, ("df",), needs=needs, reveals_count=True)
        keys.setdefault(r["outcome"], needs)
    ctx["_effect_needs"].update(keys)


def _standardized(pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]) -> None:
    needs = ctx["_effect_needs"]
    for i, r in pub.tables[name].iterrows():
        if r["outcome"] not in needs:
            raise LinkageError(
                f"standardized: outcome {r['outcome']!r} has no row in the effects table."
            )
        pub.stat(name, i, ("estimate", "conf_low", "conf_high"), needs=needs[r["outcome"]])


def _exclusions(pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]) -> None:
    cov_ok = m.covariates_ok(ctx.get("covariates", ()))
    for i, r in pub.tables[name].iterrows():
        g = m.group(r["arm"])
        base, end = m.observed(r["outcome"], m.baseline), m.observed(r["outcome"], m.endpoint)
        masks = {
            f"no {m.endpoint} score": g & ~end,
            f"no {m.baseline} score ({m.endpoint} observed)": g & end & ~base,
            "a covariate missing": g & end & base & ~cov_ok,
        }
        if r["reason"] not in masks:
            raise LinkageError(f"exclusions: unknown reason {r['reason']!r}.")
        pub.count(name, i, "n", masks[r["reason"]], groups=[pub.quantity(g)], weight=1)


_PAIR = re.compile(r"\(([^()]*?) -> ([^()]*?)\)")


def _nonrandomized(pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]) -> None:
    for i, r in pub.tables[name].iterrows():
        o, text = r["outcome"], str(r["estimand"])

        def obs(w: Any, o: str = o) -> np.ndarray:
            return m.observed(o, w)

        if "pooled pre/post" in text:
            fu = ctx.get("followup") or (m.followups[0] if m.followups else None)
            mask = (m.group(m.imm) & obs(m.baseline) & obs(m.endpoint)) | (
                m.group(m.dly) & obs(m.endpoint) & obs(fu)
            )
            group = m.group("overall")
        else:
            arm = m.imm if "durability" in text else m.dly
            waves = {w.strip() for pair in _PAIR.findall(text) for w in pair}
            waves.add(str(r["wave"])) if pd.notna(r["wave"]) else None
            known = {str(w) for w in (m.baseline, m.endpoint, *m.followups)}
            if not waves or not waves <= known:
                raise LinkageError(f"nonrandomized: cannot read the waves of {text!r}.")
            group = m.group(arm)
            mask = group.copy()
            for w in waves:
                mask &= obs(w)
        q = pub.count(name, i, "n_treated", mask, groups=[pub.quantity(group)], weight=20)
        pub.stat(name, i, _EFFECT_STATS, needs=[q])
        pub.stat(name, i, ("df",), needs=[q], reveals_count=True)


def _event_masks(
    m: TrialMasks, event: str, ctx: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    for spec in ctx.get("responders", ()):
        for cut in spec["cutpoint"]:
            o, direction = spec["outcome"], spec["direction"]
            if event != f"{o} {direction} {cut:g} at {m.endpoint}":
                continue
            base, end = m.value(o, m.baseline), m.value(o, m.endpoint)
            ok = np.isfinite(base) & np.isfinite(end)
            ops: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
                ">=": np.greater_equal,
                ">": np.greater,
                "<=": np.less_equal,
                "<": np.less,
            }
            with np.errstate(invalid="ignore"):
                hit = ok & ops[direction](end, cut)
            return ok, hit
    raise LinkageError(f"responders: no responder definition gives the event {event!r}.")


def _responder_proportions(
    pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]
) -> None:
    needs: dict[str, list[int]] = {}
    for i, r in pub.tables[name].iterrows():
        g = m.group(r["arm"])
        gq = pub.quantity(g)
        ok, hit = _event_masks(m, r["event"], ctx)
        nq = pub.count(name, i, "n", g & ok, groups=[gq])
        eq = pub.count(name, i, "events", g & hit, groups=[gq])
        pub.stat(name, i, ("proportion",), needs=[nq, eq], percent_of=(eq, nq, 1.0))
        pub.stat(name, i, ("conf_low", "conf_high"), needs=[nq, eq], reveals_count=True)
        needs.setdefault(r["event"], []).extend([nq, eq])
    ctx["_responder_needs"].update(needs)


def _responders(pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]) -> None:
    for i, r in pub.tables[name].iterrows():
        match = re.search(r"proportion with (.+ at \S+)", str(r["estimand"]))
        if match is None:
            raise LinkageError(f"responders: cannot read the event of {r['estimand']!r}.")
        event = match.group(1).split(" (")[0]
        ok, hit = _event_masks(m, event, ctx)
        needs = []
        for col, arm in (("n_treated", m.imm), ("n_control", m.dly)):
            g = m.group(arm)
            needs.append(pub.count(name, i, col, g & ok, groups=[pub.quantity(g)]))
            needs.append(pub.quantity(g & hit))
        pub.stat(name, i, _EFFECT_STATS, needs=needs)
        pub.stat(name, i, ("df",), needs=needs, reveals_count=True)


def _reliability(pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]) -> None:
    from coaching_trials.instruments.registry import get_instrument

    resp = m.trial.responses
    overall = pub.quantity(m.group("overall"))
    for i, r in pub.tables[name].iterrows():
        items = list(get_instrument(r["instrument"]).subscales[r["subscale"]].items)
        at = resp[resp[m.wave].astype("string") == str(r["wave"])]
        answered = at[items].notna()
        complete = at.loc[answered.all(axis=1), m.subject].astype(str).to_numpy()
        partial = at.loc[~answered.all(axis=1), m.subject].astype(str).to_numpy()
        nq = pub.count(name, i, "n", np.isin(m.ids, complete), groups=[overall])
        pub.count(name, i, "n_excluded", np.isin(m.ids, partial), groups=[overall], weight=1)
        stats = [c for c in pub.tables[name].columns if c.startswith(("alpha", "omega"))]
        pub.stat(name, i, stats, needs=[nq])


def _stat_columns(frame: pd.DataFrame, keys: Sequence[str]) -> tuple[str, ...]:
    return tuple(c for c in frame.columns if c not in keys)


def _benefit(pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]) -> None:
    """Posterior summaries of a randomized effect: statistics of that effect's counts."""
    needs = ctx["_effect_needs"]
    table = pub.tables[name]
    cols = _stat_columns(table, ("outcome", "wave", "prior", "cred_level", "mid"))
    for i, r in table.iterrows():
        if r["outcome"] not in needs:
            raise LinkageError(f"benefit: outcome {r['outcome']!r} has no effects row.")
        pub.stat(name, i, cols, needs=needs[r["outcome"]])


def _business(pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]) -> None:
    """The business case rests on the responders' risk difference: it goes with any of them."""
    needs = [q for qs in ctx["_responder_needs"].values() for q in qs]
    table = pub.tables[name]
    keys = ("quantity", "unit", "conf_level", "input", "source")
    cols = _stat_columns(table, keys)
    for i in range(len(table)):
        if "input" in table.columns and not str(table["source"].iat[i]).startswith("trial"):
            continue  # a published input with its source: no participant behind it
        pub.stat(name, i, cols, needs=needs)


def _evidence(pub: Publication, name: str, m: TrialMasks, ctx: Mapping[str, Any]) -> None:
    """This trial's row and the pooled row are statistics of this trial's effect."""
    from coaching_trials.report.publish import OUR_TRIAL

    needs = ctx["_effect_needs"]
    table = pub.tables[name]
    cols = _stat_columns(table, ("outcome", "study", "scale"))
    for i, r in table.iterrows():
        if r["study"] == OUR_TRIAL or str(r["study"]).startswith("pooled"):
            pub.stat(name, i, cols, needs=needs.get(r["outcome"], []))


#: Tables the release step can link, in the order they are linked.
LINKED_TABLES: Mapping[str, Callable[..., None]] = {
    "flow": _flow,
    "baseline": _baseline,
    "effects": _effects,
    "standardized": _standardized,
    "descriptives": _descriptives,
    "exclusions": _exclusions,
    "summary": _by_wave,
    "trajectories": _by_wave,
    "nonrandomized": _nonrandomized,
    "responder_proportions": _responder_proportions,
    "responders": _responders,
    "reliability": _reliability,
    "benefit": _benefit,
    "business_case": _business,
    "business_assumptions": _business,
    "evidence": _evidence,
}


def link_trial_tables(
    trial: Any,
    tables: Mapping[str, pd.DataFrame],
    *,
    primary: str | None = None,
    method: str = "ancova",
    covariates: Sequence[str] = (),
    responders: Sequence[Mapping[str, Any]] = (),
    reason: str = "withdrawal_reason",
) -> Publication:
    """A :class:`Publication` of ``tables`` with every count tied to the trial's participants."""
    unknown = [t for t in tables if t not in LINKED_TABLES]
    if unknown:
        raise ValueError(
            f"the release step cannot link table(s) {unknown}; it knows "
            f"{', '.join(LINKED_TABLES)}. Publish other tables only after aggregating them "
            "into one of these."
        )
    m = TrialMasks(trial)
    part = trial.participants
    why = (
        part[reason].astype("string").fillna("reason not given").to_numpy()
        if reason in part.columns
        else np.full(len(part), "reason not given", dtype=object)
    )
    ctx: dict[str, Any] = {
        "primary": primary,
        "method": method,
        "covariates": tuple(covariates),
        "responders": list(responders),
        "reasons": why,
        "_effect_needs": {},
        "_responder_needs": {},
    }
    pub = Publication(m.ids)
    for tname in LINKED_TABLES:
        if tname in tables:
            pub.add_table(tname, tables[tname])
    for tname, link in LINKED_TABLES.items():
        if tname in tables:
            link(pub, tname, m, ctx)
    return pub
