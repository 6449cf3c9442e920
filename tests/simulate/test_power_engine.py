"""The power generator (simulate/_engine.py) against the item-level generator, closed forms,
coaching_trials.mmrm and analytic ANCOVA power."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from coaching_trials.analysis.mmrm import mmrm
from coaching_trials.instruments.scoring import score
from coaching_trials.simulate import _engine
from coaching_trials.simulate.power import build_model, power
from coaching_trials.simulate.trial import _configure, simulate_trial

DESIGN = {
    "waves": ("baseline", "month3", "month6"),
    "effects": None,
    "dropout": None,
    "dropout_odds_ratio": 1.5,
    "item_missing": 0.02,
    "n_coaches": 8,
    "persistence": 0.9,
}


def model_of(n: int = 67, outcome: str = "pfi_burnout", wave: str = "month3", **kw):
    analysis = kw.pop("analysis", "ancova")
    icc = kw.pop("icc", 0.0)
    measurement = kw.pop("measurement", "items")
    config = _configure(n_immediate=n, n_delayed=n, **(DESIGN | kw))
    return build_model(
        config, outcome=outcome, wave=wave, analysis=analysis, icc=icc, measurement=measurement
    )


def instrument_of(outcome: str) -> str:
    return outcome[:5] if outcome.startswith("uwes") else outcome.rsplit("_", 1)[0]


# --- the power generator draws the scored outcome the item-level generator draws ----------------


@pytest.mark.parametrize("outcome", ["pfi_burnout", "svs_total", "uwes3_total", "qol_score"])
def test_scored_outcome_has_the_item_level_distribution(outcome: str) -> None:
    n = 12000
    sim = simulate_trial(n_immediate=n, n_delayed=n, seed=11)
    scored = score(sim.responses, instrument_of(outcome))
    wide = scored.pivot(index="participant_id", columns="wave", values=outcome)
    arm = sim.participants.set_index("participant_id")["arm"].reindex(wide.index)

    model = model_of(n, outcome, "month6")
    draws = _engine.draw_scores(np.random.default_rng(3), model, 1)
    ours = draws.scores[0]
    for a, label in enumerate(["immediate", "delayed"]):
        theirs = wide[arm == label].to_numpy()
        mine = ours[draws.treated == (1 - a)]
        for w in range(3):
            t, m = theirs[:, w], mine[:, w]
            t, m = t[~np.isnan(t)], m[~np.isnan(m)]
            se = np.sqrt(t.var() / t.size + m.var() / m.size)
            assert abs(t.mean() - m.mean()) < 4.5 * se, (label, w)
            assert m.std() == pytest.approx(t.std(), rel=0.05)
            # dropout: the share still in the study
            kept_t = np.mean(~np.isnan(theirs[:, w]))
            kept_m = np.mean(~np.isnan(mine[:, w]))
            assert abs(kept_t - kept_m) < 0.015
        # baseline-to-month3 correlation
        pair_t = theirs[~np.isnan(theirs[:, :2]).any(axis=1), :2]
        pair_m = mine[~np.isnan(mine[:, :2]).any(axis=1), :2]
        r_t, r_m = np.corrcoef(pair_t.T)[0, 1], np.corrcoef(pair_m.T)[0, 1]
        assert abs(r_t - r_m) < 0.04


@pytest.mark.parametrize("outcome", ["pfi_burnout", "pfi_pf", "svs_total", "uwes9_vigor"])
@pytest.mark.parametrize("wave", ["month3", "month6"])
def test_expected_difference_matches_trial_truth(outcome: str, wave: str) -> None:
    truth = simulate_trial(n_immediate=5, n_delayed=5, seed=1).truth
    model = model_of(5, outcome, wave)
    assert _engine.expected_difference(model) == pytest.approx(
        truth.expected_difference(outcome, wave), abs=1e-12
    )


@pytest.mark.parametrize("outcome", ["pfi_burnout", "pfi_id", "svs_total", "iwpr_score"])
@pytest.mark.parametrize("measurement", ["items", "latent"])
def test_outcome_sd_matches_a_large_sample(outcome: str, measurement: str) -> None:
    model = model_of(100000, outcome, measurement=measurement, item_missing=0.0, dropout=0.0)
    draws = _engine.draw_scores(np.random.default_rng(5), model, 1)
    baseline = draws.scores[0, :, 0]
    se = baseline.std() / np.sqrt(2 * baseline.size)  # SE of an SD (normal approximation)
    assert _engine.outcome_sd(model) == pytest.approx(baseline.std(), abs=5 * se)


def test_icc_adds_a_coach_component_to_coached_participants() -> None:
    model = model_of(
        3000,
        "pfi_pf",
        "month3",
        icc=0.3,
        dropout=0.0,
        measurement="latent",
        effects={"pfi_pf": 0.0},
        n_coaches=400,
    )
    draws = _engine.draw_scores(np.random.default_rng(8), model, 1)
    plain = replace(model, icc=0.0)
    base = _engine.draw_scores(np.random.default_rng(8), plain, 1)
    coached = draws.treated == 1
    v_icc, v_0 = draws.scores[0, coached, 1].var(), base.scores[0, coached, 1].var()
    latent = 0.80**2  # pfi_pf latent SD
    assert v_icc - v_0 == pytest.approx(latent * 0.3 / 0.7, rel=0.15)
    # the not-yet-coached arm is untouched
    assert draws.scores[0, ~coached, 1].var() == pytest.approx(
        base.scores[0, ~coached, 1].var(), rel=0.1
    )


# --- effects in the outcome's points --------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "effect"), [("pfi_burnout", -0.3), ("svs_total", 1.5), ("qol_score", 0.8)]
)
def test_effect_in_points_is_the_true_difference_simulated(outcome: str, effect: float) -> None:
    res = power(outcome=outcome, effect=effect, n_sims=400, seed=4, dropout_odds_ratio=1.0)
    assert res.true_effect == pytest.approx(effect, abs=1e-9)
    assert abs(res.mean_estimate - effect) < 4 * res.empirical_se / np.sqrt(400)
    std = power(outcome=outcome, standardized_effect=0.4, n_sims=20, seed=4)
    assert std.standardized_effect == pytest.approx(0.4, abs=1e-9)
    assert std.true_effect == pytest.approx(0.4 * std.outcome_sd, abs=1e-9)


def test_unreachable_effect_is_refused() -> None:
    with pytest.raises(ValueError, match="response range allows"):
        power(effect=-5.0, n_sims=10)
    with pytest.raises(ValueError, match="not both"):
        power(effect=-0.2, standardized_effect=-0.3, n_sims=10)


@pytest.mark.parametrize("analysis", ["ancova", "mmrm", "change"])
@pytest.mark.parametrize("measurement", ["items", "latent"])
def test_power_at_zero_effect_is_alpha(analysis: str, measurement: str) -> None:
    res = power(
        effect=0.0, analysis=analysis, measurement=measurement, n_sims=3000, wave="month6", seed=31
    )
    assert res.true_effect == pytest.approx(0.0, abs=1e-12)
    assert abs(res.power - 0.05) < 4 * np.sqrt(0.05 * 0.95 / 3000)


# --- batched MMRM against coaching_trials.mmrm ----------------------------------------------


def test_batched_mmrm_matches_mmrm() -> None:
    model = model_of(80, "pfi_burnout", "month6", analysis="mmrm", dropout=0.15)
    draws = _engine.draw_scores(np.random.default_rng(12), model, 3)
    est, se, df = _engine.estimate(draws, model)
    for s in range(3):
        y = draws.scores[s]
        n = y.shape[0]
        long = pd.DataFrame(
            {
                "id": np.repeat(np.arange(n), 2),
                "arm": np.repeat(np.where(draws.treated == 1, "immediate", "delayed"), 2),
                "visit": np.tile(["month3", "month6"], n),
                "base": np.repeat(y[:, 0], 2),
                "y": y[:, 1:].ravel(),
            }
        ).dropna()
        kw = dict(
            outcome="y",
            arm="arm",
            visit="visit",
            subject="id",
            treated="immediate",
            baseline="base",
        )
        ml = mmrm(long, reml=False, **kw).to_frame().set_index("wave")
        reml = mmrm(long, **kw).to_frame().set_index("wave")
        # maximum likelihood: the factored likelihood gives the same estimate
        assert est[s] == pytest.approx(ml.loc["month6", "estimate"], abs=1e-5)
        assert se[s] == pytest.approx(reml.loc["month6", "std_error"], rel=0.03)


# --- analytic ANCOVA power: noncentral t with residual variance sigma^2 (1 - rho^2) ---------


def analytic_ancova_power(model, effect: float) -> float:
    """Latent pfi_pf score at month3 without dropout, from the truth parameters."""
    truth = simulate_trial(n_immediate=2, n_delayed=2, seed=0).truth
    sd, rel = truth.sds["pfi_pf"], truth.reliabilities["pfi_pf"]
    noise = sd**2 * (1 - rel) / rel / 6  # mean of six items
    sigma2 = sd**2 + noise
    rho = sd**2 * (truth.icc + (1 - truth.icc) * truth.ar) / sigma2
    latent_effect = model.effect_of("pfi_pf")
    heterogeneity = latent_effect**2 * (truth.effect_sd_person**2 + truth.effect_sd_coach**2)
    n = model.n_immediate
    # (1 + 1/(N - 4)): the expected cost of estimating the baseline slope (normal covariate)
    v = (sigma2 * (1 - rho**2) * 2 / n + heterogeneity / n) * (1 + 1 / (2 * n - 4))
    df = 2 * n - 3
    q = stats.t.ppf(0.975, df)
    ncp = effect / np.sqrt(v)
    return float(stats.nct.sf(q, df, ncp) + stats.nct.cdf(-q, df, ncp))


@pytest.mark.parametrize("n", [25, 60, 120])
@pytest.mark.parametrize("d", [0.25, 0.45])
def test_ancova_power_matches_the_analytic_formula(n: int, d: float) -> None:
    res = power(
        n_immediate=n,
        n_delayed=n,
        outcome="pfi_pf",
        standardized_effect=d,
        measurement="latent",
        dropout=0.0,
        n_sims=10000,
        seed=n,
    )
    model = model_of(
        n,
        "pfi_pf",
        measurement="latent",
        dropout=0.0,
        effects={"pfi_pf": res.latent_effects["pfi_pf"]},
    )
    expected = analytic_ancova_power(model, res.true_effect)
    assert abs(res.power - expected) < 0.02, (res.power, expected)


COACHES = 2000


@pytest.fixture(scope="module")
def item_level_residual_variances() -> tuple[float, float]:
    """ANCOVA residual variance per arm on a large simulate_trial sample (the independent,
    item-level generator), PFI burnout at month3, no dropout or item missingness."""
    big = simulate_trial(n_immediate=50000, n_delayed=50000, dropout=0.0, item_missing=0.0,
                         n_coaches=COACHES, seed=17)  # fmt: skip
    wide = score(big.responses, "pfi").pivot(
        index="participant_id", columns="wave", values="pfi_burnout"
    )
    arm = big.participants.set_index("participant_id")["arm"].reindex(wide.index)
    y0, y1 = wide["baseline"].to_numpy(), wide["month3"].to_numpy()
    treated = (arm == "immediate").to_numpy(float)
    x = np.column_stack([np.ones_like(y0), treated, y0])
    coef = np.linalg.lstsq(x, y1, rcond=None)[0]
    resid = y1 - x @ coef
    return float(resid[treated == 1].var()), float(resid[treated == 0].var())


@pytest.mark.parametrize("n", [40, 90])
def test_item_level_ancova_power_matches_noncentral_t(
    n: int, item_level_residual_variances: tuple[float, float]
) -> None:
    """Items mode against the analytic noncentral-t power with the residual variances of the
    item-level generator.

    Many coaches make the coach component of the effect an individual-level one: with few
    coaches the mean of their effect multipliers varies between trials (a cluster effect the
    within-trial residual variance does not see; with 8 coaches it costs ~2 points here).
    """
    v1, v0 = item_level_residual_variances
    res = power(n_immediate=n, n_delayed=n, dropout=0.0, item_missing=0.0, n_sims=8000,
                n_coaches=COACHES, seed=n)  # fmt: skip
    df = 2 * n - 3
    q = stats.t.ppf(0.975, df)
    ncp = res.true_effect / np.sqrt((v1 / n + v0 / n) * (1 + 1 / (2 * n - 4)))
    expected = stats.nct.sf(q, df, ncp) + stats.nct.cdf(-q, df, ncp)
    assert abs(res.power - expected) < 0.02, (res.power, expected)
