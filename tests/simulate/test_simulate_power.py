"""Tests for coaching_trials.simulate.power."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.power import TTestIndPower

from coaching_trials.instruments.scoring import score
from coaching_trials.simulate.power import (
    ANALYSES,
    PowerResult,
    _batched_ols,
    _outcome_rule,
    _score,
    power,
)
from coaching_trials.simulate.trial import _OUTCOMES, CONSTRUCTS, simulate_trial

NULL = {c: 0.0 for c in CONSTRUCTS}


def mc_tolerance(p: float, n_sims: int) -> float:
    """Four Monte Carlo standard errors of a proportion."""
    return 4 * np.sqrt(p * (1 - p) / n_sims)


# --- building blocks checked against independent software -----------------------------------


@pytest.mark.parametrize("p", [2, 3])
@pytest.mark.parametrize("missing", [0.0, 0.2])
def test_batched_ols_matches_statsmodels(p: int, missing: float) -> None:
    rng = np.random.default_rng(p * 10 + int(missing * 10))
    s, n = 4, 40
    x = np.concatenate([np.ones((s, n, 1)), rng.normal(size=(s, n, p - 1))], axis=2)
    y = x @ rng.normal(size=p) + rng.normal(size=(s, n))
    valid = rng.random((s, n)) >= missing
    coef, se, df = _batched_ols(y, x, valid)
    for k in range(s):
        fit = sm.OLS(y[k, valid[k]], x[k, valid[k]]).fit()
        np.testing.assert_allclose(coef[k], fit.params, rtol=1e-10)
        np.testing.assert_allclose(se[k], fit.bse, rtol=1e-10)
        assert df[k] == fit.df_resid


def test_batched_ols_flags_unidentified_fits() -> None:
    x = np.ones((1, 5, 2))  # second column identical to the intercept
    coef, se, df = _batched_ols(np.arange(5.0)[None], x, np.ones((1, 5), bool))
    assert np.isnan(coef).all() and np.isnan(se).all() and np.isnan(df).all()


@pytest.mark.parametrize("outcome", sorted(_OUTCOMES))
def test_vectorized_scoring_matches_scoring_engine(outcome: str) -> None:
    """The power module's array scoring agrees with coaching_trials.score on the same data."""
    sim = simulate_trial(n_immediate=60, n_delayed=60, item_missing=0.25, seed=4)
    instrument = outcome.rsplit("_", 1)[0] if not outcome.startswith("uwes") else outcome[:5]
    scored = score(sim.responses, instrument)
    items = sim.responses.iloc[:, 4:].to_numpy(dtype=float)
    ours = _score(items, _outcome_rule(outcome))
    np.testing.assert_allclose(ours, scored[outcome].to_numpy(dtype=float), rtol=1e-12)
    assert np.isnan(ours).any()  # the minimum-answered rule was exercised


# --- operating characteristics ------------------------------------------------------------


@pytest.mark.parametrize("analysis", ANALYSES)
def test_rejection_rate_under_null_is_nominal(analysis: str) -> None:
    res = power(n_sims=1500, effects=NULL, analysis=analysis, seed=21)
    assert res.true_effect == pytest.approx(0.0, abs=1e-12)
    assert abs(res.power - 0.05) < mc_tolerance(0.05, 1500)
    assert res.n_failed == 0


def test_difference_power_matches_t_test_formula() -> None:
    """Without missing data the 'difference' analysis is a two-sample t test: compare the
    simulated power with statsmodels' TTestIndPower at the true standardized effect."""
    big = simulate_trial(
        n_immediate=20000, n_delayed=20000, dropout=0.0, item_missing=0.0, seed=5
    ).responses
    month3 = big[big["wave"] == "month3"]
    burnout = month3[[f"pfi_{j:02d}" for j in range(7, 17)]].mean(axis=1)
    sd = np.sqrt(burnout.groupby(month3["arm"]).var().mean())
    res = power(
        n_immediate=40,
        n_delayed=40,
        analysis="difference",
        dropout=0.0,
        item_missing=0.0,
        n_sims=1500,
        seed=6,
    )
    expected = TTestIndPower().power(
        effect_size=abs(res.true_effect) / sd, nobs1=40, ratio=1.0, alpha=0.05
    )
    assert abs(res.power - expected) < mc_tolerance(expected, 1500) + 0.01


def test_ancova_is_unbiased_and_covers() -> None:
    res = power(n_sims=1500, dropout_odds_ratio=1.0, seed=8)
    assert abs(res.bias) < 4 * res.empirical_se / np.sqrt(1500)
    assert abs(res.coverage - 0.95) < mc_tolerance(0.95, 1500)
    assert res.mean_std_error == pytest.approx(res.empirical_se, rel=0.1)


def test_power_increases_with_sample_size() -> None:
    small = power(n_immediate=20, n_delayed=20, n_sims=400, seed=3)
    large = power(n_immediate=120, n_delayed=120, n_sims=400, seed=3)
    assert small.power + 0.2 < large.power


def test_one_sided_alternatives() -> None:
    two = power(n_sims=400, n_immediate=30, n_delayed=30, seed=2)
    less = power(n_sims=400, n_immediate=30, n_delayed=30, alternative="less", seed=2)
    greater = power(n_sims=400, n_immediate=30, n_delayed=30, alternative="greater", seed=2)
    assert less.power >= two.power  # burnout falls with coaching: immediate is lower
    assert greater.power < 0.01
    assert np.isinf(less.simulations["conf_low"]).all()


def test_ancova_is_more_powerful_than_difference() -> None:
    kwargs = {"n_sims": 600, "seed": 10, "n_immediate": 50, "n_delayed": 50}
    assert power(analysis="ancova", **kwargs).power > power(analysis="difference", **kwargs).power


# --- result object and reproducibility ----------------------------------------------------------


def test_same_seed_same_result() -> None:
    a, b = power(n_sims=300, seed=9), power(n_sims=300, seed=9)
    pd.testing.assert_frame_equal(a.simulations, b.simulations)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    assert not power(n_sims=300, seed=10).simulations.equals(a.simulations)


def test_chunking_does_not_change_the_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small chunks (many generator calls) give the same operating characteristics."""
    import coaching_trials.simulate.power as module

    monkeypatch.setattr(module, "_MAX_CELLS_PER_CHUNK", 138 * 3 * 31 * 7)
    res = power(n_sims=100, seed=1)
    assert len(res.simulations) == 100 and res.n_failed == 0


def test_result_table_and_rendering() -> None:
    res = power(n_sims=200, seed=1)
    assert isinstance(res, PowerResult)
    frame = res.to_frame()
    assert len(frame) == 1
    assert (
        frame.loc[0, "power_conf_low"] <= frame.loc[0, "power"] <= frame.loc[0, "power_conf_high"]
    )
    assert "power" in res.summary() and "<div>" in res._repr_html_()
    assert list(res.simulations.columns) == [
        "estimate",
        "std_error",
        "df",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
        "reject",
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.power = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"outcome": "burnout"}, ValueError, "must be one of"),
        ({"wave": "baseline"}, ValueError, "must be one of"),
        ({"analysis": "glmm"}, ValueError, "must be one of"),
        ({"alternative": "two_sided"}, ValueError, "must be one of"),
        ({"n_sims": 0}, ValueError, "n_sims"),
        ({"conf_level": 95}, ValueError, "conf_level"),
        ({"n_immediate": 0}, ValueError, "n_immediate"),
        ({"seed": "1"}, TypeError, "seed"),
    ],
)
def test_invalid_arguments(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        power(**({"n_sims": 10} | kwargs))


def test_power_result_tables_cannot_be_edited_in_place() -> None:
    res = power(n_sims=40, seed=5)
    before = res.simulations.copy(deep=True)
    summary = res.summary()
    sims = res.simulations
    sims[sims.columns[0]] = None
    pd.testing.assert_frame_equal(res.simulations, before)
    assert res.summary() == summary


def test_trial_truth_table_cannot_be_edited_in_place() -> None:
    truth = simulate_trial(n_immediate=5, n_delayed=5, seed=2).truth
    before = truth.construct_correlation.copy(deep=True)
    corr = truth.construct_correlation
    corr.iloc[0, 0] = -1.0
    pd.testing.assert_frame_equal(truth.construct_correlation, before)
