"""Attack the release: what can a reader work out from everything it publishes?

The attacker here is written independently of ``coaching_trials.release``: it recomputes, with
plain pandas from the trial's raw data, the set of participants behind each printed count of the
main tables (flow, Table 1, per-arm descriptives, effects, exclusions, trajectories), reads the
printed values from the RELEASED tables, and for every hidden count solves two linear programs
(its own, over the atoms of those sets) for the smallest and largest value consistent with what
was published. It fails when a hidden small count is pinned to fewer than ``min_cell``
possibilities or shown to be below ``min_cell``, when a small count is printed, or when a
hidden group mean is a linear combination of the published means of the same variable
(an overall mean next to the other arm's mean). Cases: the demo trial and hypothesis-generated
small trials (small arms, small categories, dropout in one arm, clusters of two).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import coaching_trials as ct
from coaching_trials.report.publish import publish_trial, shared_tables

HIDDEN = "[hidden]"


# --------------------------------------------------------------------------------------------
# the attacker's own model of the published counts
# --------------------------------------------------------------------------------------------
def _masks(trial):
    d = trial.design
    part = trial.participants.reset_index(drop=True)
    ids = part[d["subject"]].astype(str)
    resp = trial.responses
    arm = part[d["arm"]].astype(str).to_numpy()
    groups = {a: arm == a for a in trial.arms} | {"overall": np.ones(len(ids), bool)}

    def seen(outcome, wave):
        r = resp[resp[d["wave"]].astype(str) == str(wave)]
        if outcome is not None:
            r = r[r[outcome].notna()]
        return ids.isin(r[d["subject"]].astype(str)).to_numpy()

    return part, ids, groups, seen


def _attack_cells(trial, released, primary, reasons_col="withdrawal_reason"):
    """[(table, row, column, mask, printed value or HIDDEN)] for the main count cells."""
    d = trial.design
    part, ids, groups, seen = _masks(trial)
    b, e = d["baseline_wave"], d["endpoint_wave"]
    cells = []
    why = part[reasons_col].astype("string").fillna("reason not given").to_numpy()
    flow = released["flow"]
    for i, r in flow.iterrows():
        g = groups[r["arm"]]
        if r["stage"] == "randomized":
            m = g
        elif r["stage"] == "assessed":
            m = g & seen(primary, r["wave"])
        elif r["stage"] == "analysed":
            m = g & seen(primary, b) & seen(primary, e)
        elif r["stage"] == "not analysed":
            m = g & ~seen(primary, e) if "only" not in r["reason"] else g & seen(primary, e)
            if "only" in r["reason"]:
                m = m & ~seen(primary, b)
        else:  # not assessed, by reason ("other reasons" = all reasons not named)
            lost = g & ~seen(primary, r["wave"])
            label = np.where(seen(None, r["wave"]), f"{primary} missing", why)
            named = flow.loc[
                (flow["stage"] == "not assessed") & (flow["wave"] == r["wave"]), "reason"
            ]
            if r["reason"] == "other reasons":
                m = lost & ~np.isin(label, [x for x in named if x != "other reasons"])
            else:
                m = lost & (label == r["reason"])
        cells.append(("flow", i, "n", m, r["n"]))
    base = released["baseline"]
    at_b = trial.responses[trial.responses[d["wave"]].astype(str) == str(b)]
    at_b = at_b.set_index(at_b[d["subject"]].astype(str))
    for i, r in base.iterrows():
        var = r["variable"]
        s = part[var] if var in part.columns else at_b[var].reindex(ids).reset_index(drop=True)
        g, ok = groups[r["arm"]], s.notna().to_numpy()
        cells.append(("baseline", i, "n", g & ok, r["n"]))
        cells.append(("baseline", i, "n_missing", g & ~ok, r["n_missing"]))
        if r["kind"] == "categorical":
            lv = (s.astype(str) == str(r["level"])).to_numpy() & ok
            cells.append(("baseline", i, "count", g & lv, r["count"]))
    for i, r in released["descriptives"].iterrows():
        g, o = groups[r["arm"]], r["outcome"]
        cells.append(("descriptives", i, "baseline_n", g & seen(o, b), r["baseline_n"]))
        cells.append(("descriptives", i, "endpoint_n", g & seen(o, e), r["endpoint_n"]))
        both = g & seen(o, b) & seen(o, e)
        cells.append(("descriptives", i, "percent_change_n", both, r["percent_change_n"]))
    imm, dly = trial.arms
    for i, r in released["effects"].iterrows():
        both = seen(r["outcome"], b) & seen(r["outcome"], e)
        cells.append(("effects", i, "n_treated", groups[imm] & both, r["n_treated"]))
        cells.append(("effects", i, "n_control", groups[dly] & both, r["n_control"]))
    for i, r in released["exclusions"].iterrows():
        g, o = groups[r["arm"]], r["outcome"]
        if r["reason"].startswith(f"no {e}"):
            m = g & ~seen(o, e)
        else:
            m = g & seen(o, e) & ~seen(o, b)
        cells.append(("exclusions", i, "n", m, r["n"]))
    for i, r in released["trajectories"].iterrows():
        cells.append(("trajectories", i, "n", groups[r["arm"]] & seen(r["outcome"], r["wave"]),
                      r["n"]))  # fmt: skip
    return cells


def _bounds(atoms, published, target, half=0):
    """min and max of target . x over x >= 0 with every published row within ``half`` of its
    printed value (0: exact counts; 2: counts rounded to the nearest 5)."""
    if not published:
        return 0.0, np.inf
    rows = np.array([row for row, _ in published], dtype=float)
    values = np.array([v for _, v in published], dtype=float)
    out = []
    for sign in (1.0, -1.0):
        if half:
            a_ub = np.vstack([rows, -rows])
            b_ub = np.concatenate([values + half, -(values - half)])
            res = linprog(sign * target, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        else:
            res = linprog(sign * target, A_eq=rows, b_eq=values, bounds=(0, None), method="highs")
        assert res.status in (0, 3), res.message  # the published numbers are consistent
        out.append(sign * res.fun if res.status == 0 else np.inf)
    return np.ceil(out[0] - 1e-7), np.floor(out[1] + 1e-7)


def attack(trial, released, primary, min_cell, *, rounding=1, possibilities=None):
    """Every violation the attacker finds (empty when the release is safe).

    ``rounding``: the base counts were rounded to (the attacker knows each printed count only to
    within half of it); ``possibilities``: how many values a hidden small count must keep open
    (default ``min_cell``).
    """
    possibilities = min_cell if possibilities is None else possibilities
    half = (rounding - 1) // 2
    cells = _attack_cells(trial, released, primary)
    masks = np.array([c[3] for c in cells], dtype=bool)
    sig, inverse = np.unique(masks.T, axis=0, return_inverse=True)
    atoms = sig.T.astype(float)  # cell x atom
    problems = []
    published = []
    for (table, row, col, mask, value), a in zip(cells, atoms, strict=True):
        true = int(mask.sum())
        if value == HIDDEN:
            continue
        assert abs(int(value) - true) <= half, (table, row, col, value, true)  # true to rounding
        if rounding > 1:
            assert int(value) % rounding == 0, (table, row, col, value)
        if 0 < true < min_cell:
            problems.append(f"small count printed: {table}[{row}].{col} = {true}")
        published.append((a, int(value)))
    for (table, row, col, mask, value), a in zip(cells, atoms, strict=True):
        if value != HIDDEN:
            continue
        true = int(mask.sum())
        lo, hi = _bounds(atoms, published, a, half)
        assert lo <= true <= hi, (table, row, col, lo, true, hi)
        if rounding > 1:  # redacted: the reader knows it is at most min_cell - 1
            hi = min(hi, min_cell - 1)
            if 0 < true < min_cell and hi - lo + 1 < possibilities:
                problems.append(f"{table}[{row}].{col} = {true} pinned to [{lo:g}, {hi:g}]")
        elif 0 < true < min_cell and (hi - lo + 1 < possibilities or hi < min_cell):
            problems.append(f"{table}[{row}].{col} = {true} pinned to [{lo:g}, {hi:g}]")
    return problems


def mean_leaks(trial, released):
    """Hidden means that are linear combinations of published means of the same variable."""
    d = trial.design
    part, ids, groups, seen = _masks(trial)
    fam: dict[tuple, list[tuple[np.ndarray, bool]]] = {}
    for _, r in released["trajectories"].iterrows():
        m = groups[r["arm"]] & seen(r["outcome"], r["wave"])
        fam.setdefault((r["outcome"], str(r["wave"])), []).append((m, r["mean"] == HIDDEN))
    for _, r in released["descriptives"].iterrows():
        both = seen(r["outcome"], d["baseline_wave"]) & seen(r["outcome"], d["endpoint_wave"])
        for prefix, wave in (("baseline", d["baseline_wave"]), ("endpoint", d["endpoint_wave"])):
            m = groups[r["arm"]] & seen(r["outcome"], wave)
            family = fam.setdefault((r["outcome"], str(wave)), [])
            family.append((m, r[f"{prefix}_mean"] == HIDDEN))
            family.append((groups[r["arm"]] & both, r[f"paired_{prefix}_mean"] == HIDDEN))
    base = released["baseline"]
    at_b = trial.responses[trial.responses[d["wave"]].astype(str) == str(d["baseline_wave"])]
    at_b = at_b.set_index(at_b[d["subject"]].astype(str))
    for _, r in base[base["kind"] == "continuous"].iterrows():
        var = r["variable"]
        s = part[var] if var in part.columns else at_b[var].reindex(ids).reset_index(drop=True)
        fam.setdefault(("t1", var), []).append(
            (groups[r["arm"]] & s.notna().to_numpy(), r["mean"] == HIDDEN)
        )
    leaks = []
    for key, members in fam.items():
        shown = [m for m, h in members if not h and m.any()]
        for m, h in members:
            if not h or not m.any() or not shown:
                continue
            basis = np.array(shown, dtype=float)
            if np.linalg.matrix_rank(np.vstack([basis, m])) == np.linalg.matrix_rank(basis):
                leaks.append(key)
    return leaks


def release_of(trial, *, outcomes, primary="pfi_burnout", min_cell=5, policy="suppress"):
    tables = shared_tables(
        trial,
        outcomes=outcomes,
        primary=primary,
        method="ancova",
        adjust="holm",
        conf_level=0.95,
        min_cell=min_cell,
    )
    rel = publish_trial(trial, tables, primary=primary, policy=policy, min_cell=min_cell)
    return rel


# --------------------------------------------------------------------------------------------
# the demo
# --------------------------------------------------------------------------------------------
DEMO_OUTCOMES = ["pfi_burnout", "pfi_pf", "pfi_id", "iwpr_score", "qol_score"]


@pytest.fixture(scope="module")
def demo_trial():
    ex = ct.load_example("delayed_intervention")
    scored = ex.responses
    for inst in ("pfi", "qol", "iwpr"):
        scored = ct.score(scored, inst)
    return ct.DelayedInterventionTrial(scored, participants=ex.participants, **ex.design)


@pytest.mark.parametrize("min_cell", [5, 11])
def test_demo_release_withstands_the_attack(demo_trial, min_cell):
    rel = release_of(demo_trial, outcomes=DEMO_OUTCOMES, min_cell=min_cell)
    assert attack(demo_trial, rel.tables, "pfi_burnout", min_cell) == []
    assert mean_leaks(demo_trial, rel.tables) == []
    # the leak: qol "missing" hidden in Table 1 while the per-arm baseline n was shown
    desc = rel.tables["descriptives"].set_index(["outcome", "arm"])
    for arm in demo_trial.arms:
        assert desc.loc[("qol_score", arm), "baseline_n"] == HIDDEN


def test_demo_rounding_policy_withstands_the_attack(demo_trial):
    """OpenSAFELY's rule: counts of 7 or fewer hidden, the rest rounded to 5; each hidden count
    keeps at least 5 possible values (the uncertainty of a rounded count)."""
    rel = release_of(demo_trial, outcomes=DEMO_OUTCOMES, policy="round")
    assert attack(demo_trial, rel.tables, "pfi_burnout", 8, rounding=5, possibilities=5) == []
    base = rel.tables["baseline"]
    cat = base[(base["kind"] == "categorical") & (base["count"] != HIDDEN)]
    cat = cat[cat["n"] != HIDDEN]
    # percentages recomputed from the rounded counts, numbers pinning exact counts hidden
    np.testing.assert_allclose(
        cat["percent"].astype(float), 100 * cat["count"].astype(float) / cat["n"].astype(float)
    )
    assert (rel.tables["effects"]["df"] == HIDDEN).all()


def test_the_attacker_catches_the_old_table_by_table_suppression(demo_trial):
    """Without the joint step (each table on its own), the attacker finds the leaks."""
    rel = release_of(demo_trial, outcomes=DEMO_OUTCOMES, min_cell=5)
    naive = {name: frame.copy() for name, frame in rel.tables.items()}
    full = shared_tables(
        demo_trial,
        outcomes=DEMO_OUTCOMES,
        primary="pfi_burnout",
        method="ancova",
        adjust="holm",
        conf_level=0.95,
    )
    # show every count that is not itself small, as per-table suppression did
    for name in ("descriptives", "effects", "trajectories"):
        for col in [c for c in naive[name].columns if c.endswith("n") or c.startswith("n_")]:
            if col in full[name]:
                values = full[name][col]
                naive[name][col] = [
                    v if v >= 5 else HIDDEN for v in values.astype(float).astype(int)
                ]
    assert attack(demo_trial, naive, "pfi_burnout", 5) != []


# --------------------------------------------------------------------------------------------
# small trials
# --------------------------------------------------------------------------------------------
@st.composite
def small_trials(draw):
    n_imm = draw(st.integers(2, 12))
    n_dly = draw(st.integers(2, 12))
    seed = draw(st.integers(0, 10_000))
    dropout = draw(st.sampled_from([0.0, 0.15, 0.4]))
    sim = ct.simulate_trial(
        n_immediate=n_imm,
        n_delayed=n_dly,
        dropout={"immediate": 0.0, "delayed": dropout},
        item_missing=draw(st.sampled_from([0.0, 0.1])),
        n_coaches=max(1, (n_imm + 1) // 2),  # clusters of two
        seed=seed,
    )
    part = sim.participants.copy()
    rng = np.random.default_rng(seed)
    # a small category and a rare one
    part["site"] = rng.choice(["north", "south", "east"], size=len(part), p=[0.7, 0.25, 0.05])
    scored = ct.score(sim.responses, "pfi")
    design = ct.load_example("delayed_intervention").design
    try:
        return ct.DelayedInterventionTrial(scored, participants=part, **design)
    except ct.DataValidationError:  # e.g. a whole arm lost before the follow-up
        reject()


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(trial=small_trials(), min_cell=st.sampled_from([3, 5]))
def test_small_trials_withstand_the_attack(trial, min_cell):
    try:
        rel = release_of(trial, outcomes=["pfi_burnout", "pfi_pf"], min_cell=min_cell)
    except ct.DataValidationError:  # an arm too small to estimate anything: a clear refusal
        reject()
    assert attack(trial, rel.tables, "pfi_burnout", min_cell) == []
    assert mean_leaks(trial, rel.tables) == []
    # a small arm: nothing about it is shown, zeros of its categories included
    base = rel.tables["baseline"]
    for arm in trial.arms:
        n_arm = int((trial.participants[trial.design["arm"]] == arm).sum())
        if n_arm < min_cell:
            rows = base[base["arm"] == arm]
            assert (rows["n"] == HIDDEN).all()
            assert (rows["mean"].isna() | (rows["mean"] == HIDDEN)).all()
            cat = rows[rows["kind"] == "categorical"]
            assert (cat["count"] == HIDDEN).all()
