"""Tests for coaching_trials.simulate.trial.simulate_trial."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coaching_trials.simulate.trial import (
    CONSTRUCTS,
    KISER2024_EFFECTS,
    SimulatedTrial,
    simulate_trial,
)

ITEM_RANGES = {
    "pfi": (16, 0, 4),
    "svs": (4, 0, 4),
    "uwes": (9, 0, 6),
    "qol": (1, 0, 10),
    "iwpr": (1, 0, 10),
}

# outcome -> (item columns, aggregation) used to score by hand in the tests (independent of
# the package's scoring engine): prorated item mean, or prorated sum for svs_total.
HAND_SCORES = {
    "pfi_pf": ([f"pfi_{j:02d}" for j in range(1, 7)], "mean"),
    "pfi_we": ([f"pfi_{j:02d}" for j in range(7, 11)], "mean"),
    "pfi_id": ([f"pfi_{j:02d}" for j in range(11, 17)], "mean"),
    "pfi_burnout": ([f"pfi_{j:02d}" for j in range(7, 17)], "mean"),
    "svs_total": ([f"svs_{j:02d}" for j in range(1, 5)], "sum"),
    "uwes9_vigor": (["uwes_01", "uwes_02", "uwes_05"], "mean"),
    "uwes9_total": ([f"uwes_{j:02d}" for j in range(1, 10)], "mean"),
    "uwes3_total": (["uwes_01", "uwes_03", "uwes_08"], "mean"),
    "qol_score": (["qol_01"], "mean"),
    "iwpr_score": (["iwpr_01"], "mean"),
}


def hand_score(frame: pd.DataFrame, outcome: str) -> pd.Series:
    cols, aggregation = HAND_SCORES[outcome]
    score = frame[cols].mean(axis=1)
    return score * len(cols) if aggregation == "sum" else score


@pytest.fixture(scope="module")
def default_trial() -> SimulatedTrial:
    return simulate_trial(seed=2024)


@pytest.fixture(scope="module")
def large_trial() -> SimulatedTrial:
    """5000 per arm, no dropout: for checking the truth against the data."""
    return simulate_trial(n_immediate=5000, n_delayed=5000, dropout=0.0, seed=7)


# --- reproducibility ---------------------------------------------------------------------


def test_same_seed_gives_identical_frames() -> None:
    a, b = simulate_trial(seed=11), simulate_trial(seed=11)
    pd.testing.assert_frame_equal(a.responses, b.responses)
    pd.testing.assert_frame_equal(a.participants, b.participants)
    assert a.truth.coach_effects == b.truth.coach_effects


def test_different_seed_gives_different_data() -> None:
    a, b = simulate_trial(seed=11), simulate_trial(seed=12)
    assert not a.responses.equals(b.responses)
    assert not a.participants["arm"].equals(b.participants["arm"])


def test_generator_seed_is_accepted_and_reproducible() -> None:
    a = simulate_trial(seed=np.random.default_rng(3))
    b = simulate_trial(seed=np.random.default_rng(3))
    pd.testing.assert_frame_equal(a.responses, b.responses)
    assert a.truth.seed is None


# --- shape and contract --------------------------------------------------------------------


def test_default_shape(default_trial: SimulatedTrial) -> None:
    p, r = default_trial.participants, default_trial.responses
    assert len(p) == 138
    assert p["participant_id"].is_unique
    assert p["arm"].value_counts().to_dict() == {"delayed": 71, "immediate": 67}
    assert r["wave"].cat.categories.tolist() == ["baseline", "month3", "month6"]
    assert r["wave"].cat.ordered
    # everyone answers at baseline; later waves lose people
    counts = r.groupby("wave", observed=True).size()
    assert counts["baseline"] == 138
    assert counts["baseline"] >= counts["month3"] >= counts["month6"]
    assert not r.duplicated(["participant_id", "wave"]).any()


def test_responses_sorted_and_consistent_with_participants(default_trial: SimulatedTrial) -> None:
    p, r = default_trial.participants, default_trial.responses
    keys = list(zip(r["participant_id"], r["wave"].cat.codes, strict=True))
    assert keys == sorted(keys)
    arms = r.merge(p[["participant_id", "arm"]], on="participant_id", suffixes=("", "_p"))
    assert (arms["arm"] == arms["arm_p"]).all()
    last = r.groupby("participant_id")["wave"].max()
    assert (last.astype(str) == p.set_index("participant_id")["last_wave"].astype(str)).all()


def test_item_columns_follow_contract(default_trial: SimulatedTrial) -> None:
    expected = (
        [f"pfi_{j:02d}" for j in range(1, 17)]
        + [f"svs_{j:02d}" for j in range(1, 5)]
        + [f"uwes_{j:02d}" for j in range(1, 10)]
        + ["qol_01", "iwpr_01"]
    )
    assert default_trial.responses.columns.tolist() == [
        "participant_id",
        "arm",
        "wave",
        "wave_date",
        *expected,
    ]


@pytest.mark.parametrize("prefix", sorted(ITEM_RANGES))
def test_items_in_range_and_integer(default_trial: SimulatedTrial, prefix: str) -> None:
    n_items, low, high = ITEM_RANGES[prefix]
    cols = [c for c in default_trial.responses.columns if c.startswith(prefix + "_")]
    assert len(cols) == n_items
    values = default_trial.responses[cols].to_numpy(dtype=float)
    observed = values[~np.isnan(values)]
    assert observed.min() >= low and observed.max() <= high
    np.testing.assert_array_equal(observed, np.round(observed))
    # the whole range is used, not just the middle
    assert observed.min() == low or prefix in ("qol",)
    assert observed.max() == high or prefix in ("iwpr",)


def test_does_not_share_state_between_calls() -> None:
    a = simulate_trial(seed=5)
    a.responses.loc[0, "pfi_01"] = 99
    b = simulate_trial(seed=5)
    assert b.responses.loc[0, "pfi_01"] != 99


def test_result_is_frozen(default_trial: SimulatedTrial) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        default_trial.responses = pd.DataFrame()  # type: ignore[misc]
    with pytest.raises(TypeError):
        default_trial.truth.effects["pfi_we"] = 0.0  # type: ignore[index]


# --- missingness -----------------------------------------------------------------------------


def test_dropout_higher_in_delayed_arm() -> None:
    p = simulate_trial(n_immediate=3000, n_delayed=3000, seed=8).participants
    rate = p["withdrawn_before"].notna().groupby(p["arm"]).mean()
    assert rate["delayed"] > rate["immediate"] + 0.05


def test_dropout_is_monotone_and_reasons_only_for_withdrawn(default_trial: SimulatedTrial) -> None:
    p, r = default_trial.participants, default_trial.responses
    n_rows = r.groupby("participant_id").size()
    last_code = p.set_index("participant_id")["last_wave"].cat.codes
    assert (n_rows == last_code + 1).all()  # no gaps: rows are waves 0..last
    withdrawn = p["withdrawn_before"].notna()
    assert withdrawn.sum() > 0
    assert p.loc[~withdrawn, "withdrawal_reason"].isna().all()
    assert p.loc[withdrawn, "withdrawal_reason"].notna().any()


def test_dropout_depends_on_burnout_when_requested() -> None:
    sim = simulate_trial(
        n_immediate=3000, n_delayed=3000, dropout=0.2, dropout_odds_ratio=3.0, seed=9
    )
    base = sim.responses[sim.responses["wave"] == "baseline"].set_index("participant_id")
    burnout = hand_score(base, "pfi_burnout")
    gone = sim.participants.set_index("participant_id")["withdrawn_before"] == "month3"
    assert burnout[gone].mean() > burnout[~gone].mean() + 0.2


@pytest.mark.parametrize("rate", [0.0, 0.02, 0.10])
def test_item_missingness_rate(rate: float) -> None:
    r = simulate_trial(n_immediate=1000, n_delayed=1000, item_missing=rate, seed=10).responses
    items = r.iloc[:, 4:].to_numpy(dtype=float)
    share = np.isnan(items).mean()
    se = np.sqrt(max(rate * (1 - rate), 1e-12) / items.size)
    assert abs(share - rate) <= 4 * se


# --- coaching, sessions and coaches -----------------------------------------------------------


def test_sessions_and_coaches(default_trial: SimulatedTrial) -> None:
    p = default_trial.participants
    assert p["sessions_attended"].between(0, 6).all()
    started = p["coach_id"].notna()
    # delayed participants who left before the crossover were never coached
    never = (p["arm"] == "delayed") & (p["withdrawn_before"] == "month3")
    assert not started[never].any()
    assert (p.loc[never, "sessions_attended"] == 0).all()
    assert started[p["arm"] == "immediate"].all()
    completers = p["withdrawn_before"].isna()
    assert (p.loc[completers, "sessions_attended"] >= 4).mean() > 0.7
    assert set(p.loc[started, "coach_id"]) <= set(default_trial.truth.coach_effects)


def test_two_waves_delayed_arm_never_coached() -> None:
    sim = simulate_trial(waves=("pre", "post"), seed=1)
    p = sim.participants
    assert (p.loc[p["arm"] == "delayed", "sessions_attended"] == 0).all()
    assert sim.responses["wave"].cat.categories.tolist() == ["pre", "post"]


@pytest.mark.parametrize(
    ("outcome", "wave"),
    [
        ("pfi_burnout", "month3"),
        ("pfi_burnout", "month6"),
        ("pfi_id", "month3"),
        ("pfi_pf", "month3"),
        ("svs_total", "month3"),
        ("uwes9_total", "month3"),
        ("uwes3_total", "month6"),
        ("qol_score", "month3"),
        ("iwpr_score", "month3"),
        ("pfi_we", "baseline"),
    ],
)
def test_mean_difference_recovers_truth(
    large_trial: SimulatedTrial, outcome: str, wave: str
) -> None:
    r = large_trial.responses[large_trial.responses["wave"] == wave]
    score = hand_score(r, outcome)
    groups = score.groupby(r["arm"])
    means, var, n = groups.mean(), groups.var(), groups.count()
    diff = means["immediate"] - means["delayed"]
    se = np.sqrt((var / n).sum())
    truth = large_trial.truth.expected_difference(outcome, wave)
    assert abs(diff - truth) < 4 * se


@pytest.mark.parametrize("outcome", sorted(HAND_SCORES))
def test_expected_scores_match_large_sample(large_trial: SimulatedTrial, outcome: str) -> None:
    """The closed-form population means agree with the simulated data (arm x wave)."""
    r = large_trial.responses.assign(score=lambda d: hand_score(d, outcome))
    observed = r.groupby(["arm", "wave"], observed=True)["score"].agg(["mean", "sem"])
    e = large_trial.truth.expected_scores()
    e = e[e["outcome"] == outcome].set_index(["arm", "wave"])["expected"]
    joined = observed.join(e)
    assert (abs(joined["mean"] - joined["expected"]) < 4 * joined["sem"]).all()


def test_default_effects_resemble_kiser_2024() -> None:
    """Percent change over 3 months, Kiser et al., JAMA Netw Open 2024 (PMC11015346), Table/text:
    burnout -21.6% vs +2.5%, interpersonal disengagement -30.1% vs +4.1%, professional
    fulfillment +10.7% vs no change, work engagement +6.3% vs -2.2%."""
    e = simulate_trial(n_immediate=2, n_delayed=2, seed=0).truth.expected_scores()
    e = e.set_index(["outcome", "arm", "wave"])["expected"]

    def pct(outcome: str, arm: str) -> float:
        return 100 * (e[(outcome, arm, "month3")] / e[(outcome, arm, "baseline")] - 1)

    published = {
        "pfi_burnout": (-21.6, 2.5),
        "pfi_id": (-30.1, 4.1),
        "pfi_pf": (10.7, 0.0),
        "uwes9_total": (6.3, -2.2),
    }
    for outcome, (coached, control) in published.items():
        assert abs(pct(outcome, "immediate") - coached) < 2.0, outcome
        assert abs(pct(outcome, "delayed") - control) < 2.0, outcome
    assert 1.3 <= e[("pfi_burnout", "immediate", "baseline")] <= 1.5
    # self-valuation increases in both arms
    assert pct("svs_total", "immediate") > 0 and pct("svs_total", "delayed") > 0


def test_null_effects_give_no_difference() -> None:
    truth = simulate_trial(
        n_immediate=2, n_delayed=2, effects={c: 0.0 for c in CONSTRUCTS}, seed=0
    ).truth
    for outcome in HAND_SCORES:
        assert truth.expected_difference(outcome, "month3") == pytest.approx(0.0, abs=1e-12)


def test_effects_override_only_given_keys() -> None:
    truth = simulate_trial(n_immediate=2, n_delayed=2, effects={"pfi_we": -1.0}, seed=0).truth
    assert truth.effects["pfi_we"] == -1.0
    assert truth.effects["pfi_id"] == KISER2024_EFFECTS["pfi_id"]


def test_truth_table_lists_every_construct(default_trial: SimulatedTrial) -> None:
    table = default_trial.truth.to_frame()
    assert table["construct"].tolist() == list(CONSTRUCTS)
    assert len(default_trial.truth.coach_effects) == 8


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_immediate": 0}, ValueError, "n_immediate"),
        ({"n_delayed": 2.5}, TypeError, "n_delayed"),
        ({"n_coaches": 0}, ValueError, "n_coaches"),
        ({"waves": ("baseline",)}, ValueError, "at least two"),
        ({"waves": "baseline"}, TypeError, "waves"),
        ({"waves": ("a", "a")}, ValueError, "unique"),
        ({"effects": {"burnout": 1.0}}, ValueError, "must be one of"),
        ({"effects": [1.0]}, TypeError, "effects"),
        ({"dropout": 1.2}, ValueError, "dropout"),
        ({"dropout": {"immediate": 0.1}}, ValueError, "both arms"),
        ({"dropout": {"immediate": 0.1, "control": 0.1}}, ValueError, "must be one of"),
        ({"item_missing": -0.1}, ValueError, "item_missing"),
        ({"item_missing": "a"}, TypeError, "item_missing"),
        ({"dropout_odds_ratio": 0.0}, ValueError, "dropout_odds_ratio"),
        ({"persistence": 1.5}, ValueError, "persistence"),
        ({"seed": "x"}, TypeError, "seed"),
    ],
)
def test_invalid_arguments(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        simulate_trial(**kwargs)


def test_expected_difference_rejects_unknown_names(default_trial: SimulatedTrial) -> None:
    with pytest.raises(ValueError, match="must be one of"):
        default_trial.truth.expected_difference("burnout", "month3")
    with pytest.raises(ValueError, match="must be one of"):
        default_trial.truth.expected_difference("pfi_burnout", "month12")


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    n_immediate=st.integers(1, 30),
    n_delayed=st.integers(1, 30),
    n_waves=st.integers(2, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_counts_and_ranges(
    n_immediate: int, n_delayed: int, n_waves: int, seed: int
) -> None:
    waves = tuple(f"w{k}" for k in range(n_waves))
    sim = simulate_trial(n_immediate=n_immediate, n_delayed=n_delayed, waves=waves, seed=seed)
    p, r = sim.participants, sim.responses
    assert (p["arm"] == "immediate").sum() == n_immediate
    assert (p["arm"] == "delayed").sum() == n_delayed
    assert (r["wave"] == "w0").sum() == n_immediate + n_delayed
    assert len(r) <= (n_immediate + n_delayed) * n_waves
    for prefix, (_, low, high) in ITEM_RANGES.items():
        cols = [c for c in r.columns if c.startswith(prefix + "_")]
        values = r[cols].to_numpy(dtype=float)
        assert np.nanmin(values, initial=low) >= low and np.nanmax(values, initial=high) <= high
