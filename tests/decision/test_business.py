"""business_case: the worked example of Shanafelt, Goh & Sinsky (2017), Monte Carlo, tornado."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials.decision._common import read_data_toml

matplotlib.use("Agg")

# Shanafelt T, Goh J, Sinsky C. The business case for investing in physician well-being.
# JAMA Intern Med 2017;177(12):1826-1832, return-on-investment example (hypothetical
# organisation): 450 physicians; burnout reduced from 50% to 40% (10 points) by a $1 million/y
# intervention ($2222 per physician); turnover attributable to burnout 2.5% falls by 0.5%
# ("a 20% reduction"); $500 000 per replacement -> savings $1.125 million per year, ROI 12.5%.
# Burned-out physicians are assumed about twice as likely to leave (worksheet footnote d).
# Under our model the 2.5% attributable turnover at 50% burnout and RR 2 is an annual turnover
# of 7.5% (5% among physicians without burnout): p * r0 * (RR - 1) = 0.5 * 0.05 * 1 = 0.025.
EXAMPLE = read_data_toml("business_sources.toml")["worked_example"]["shanafelt2017"]


def _example(**overrides):
    args = dict(
        n_physicians=EXAMPLE["physicians"],
        cost_per_participant=EXAMPLE["program_cost_per_year"] / EXAMPLE["physicians"],
        burnout_prevalence=EXAMPLE["burnout_before"],
        turnover_rate=0.075,
        turnover_rr=2.0,
        replacement_cost=EXAMPLE["replacement_cost"],
        seed=3,
    )
    args.update(overrides)
    return ct.business_case(EXAMPLE["burnout_after"] - EXAMPLE["burnout_before"], **args)


def test_reproduces_the_published_worked_example():
    out = _example().to_frame().set_index("quantity")["estimate"]
    assert out["attributable_turnover"] == pytest.approx(EXAMPLE["attributable_turnover"])
    # turnover falls by 0.5% of the 450 physicians: 2.25 departures avoided per year
    assert out["turnover_avoided"] == pytest.approx(
        EXAMPLE["turnover_reduction"] * EXAMPLE["physicians"]
    )
    assert out["savings"] == pytest.approx(EXAMPLE["savings_per_year"])
    assert out["program_cost"] == pytest.approx(EXAMPLE["program_cost_per_year"])
    assert out["roi"] == pytest.approx(EXAMPLE["roi"])
    assert out["net_benefit"] == pytest.approx(125_000)
    assert EXAMPLE["program_cost_per_physician"] == round(
        EXAMPLE["program_cost_per_year"] / EXAMPLE["physicians"]
    )


def test_hand_computation_with_the_default_sources():
    # defaults: 54% burnout, 7% turnover (Shanafelt 2017), RR 2.1 (Hamidi 2018), $500,000
    res = ct.business_case(-0.2, n_physicians=100, cost_per_participant=1000, seed=1)
    r0 = 0.07 / (1 + 0.54 * 1.1)
    avoided = 100 * 0.2 * r0 * 1.1
    out = res.to_frame().set_index("quantity")["estimate"]
    assert out["turnover_avoided"] == pytest.approx(avoided, rel=1e-12)
    assert out["savings"] == pytest.approx(avoided * 500_000, rel=1e-12)
    assert out["break_even_cost"] == pytest.approx(avoided * 500_000 / 100, rel=1e-12)
    assert out["roi"] == pytest.approx((avoided * 500_000 - 100_000) / 100_000, rel=1e-12)


def test_monte_carlo_interval_collapses_when_every_input_is_fixed():
    tab = _example(seed=11).to_frame()
    assert (tab["conf_low"] == tab["estimate"]).all()
    assert (tab["conf_high"] == tab["estimate"]).all()
    assert _example().tornado.empty


def test_monte_carlo_interval_brackets_the_point_and_is_reproducible():
    kw = dict(effect_se=0.04, n_physicians=300, cost_per_participant=2500, horizon_years=2)
    a = ct.business_case(-0.12, seed=7, **kw).to_frame()
    b = ct.business_case(-0.12, seed=7, **kw).to_frame()
    pd.testing.assert_frame_equal(a, b)
    c = ct.business_case(-0.12, seed=8, **kw).to_frame()
    assert not a["conf_low"].equals(c["conf_low"])
    uncertain = a[a["quantity"] != "program_cost"]
    assert (uncertain["conf_low"] < uncertain["estimate"]).all()
    assert (uncertain["estimate"] < uncertain["conf_high"]).all()


def test_tornado_orders_inputs_by_swing_on_a_constructed_case():
    # Net benefit is linear in -effect, in the replacement cost, and increasing in RR.
    # Ranges chosen so that the swings are, by hand:
    #   effect -0.10 +- 0.05 (se chosen so the 95% range is +-0.05): avoided 100*[0.05, 0.15]*0.05
    #   replacement cost 400k..600k at effect 0.10 -> 100*0.1*0.05*[400k, 600k]
    #   prevalence fixed, turnover fixed; RR pinned to 2 (no swing).
    from scipy import stats

    z = stats.norm.ppf(0.975)
    res = ct.business_case(
        -0.10,
        effect_se=0.05 / z,
        n_physicians=100,
        cost_per_participant=0,
        burnout_prevalence=0.5,
        turnover_rate=0.075,  # r0 = 0.05, excess = 0.05
        turnover_rr=2.0,
        replacement_cost=(500_000, 400_000, 600_000),
        seed=2,
    )
    torn = res.tornado
    assert torn["input"].tolist() == ["effect", "replacement_cost"]
    swing_effect = 100 * 0.10 * 0.05 * 500_000  # 0.05 -> 0.15 reduction: 250,000
    swing_cost = 100 * 0.10 * 0.05 * 200_000  # 100,000
    assert torn["swing"].tolist() == pytest.approx([swing_effect, swing_cost])
    assert torn.loc[1, "net_benefit_low"] == pytest.approx(100 * 0.1 * 0.05 * 400_000)
    ax = ct.plot_tornado(res)
    assert ax.ct_data["input"].tolist() == ["effect", "replacement_cost"]
    assert ax.ct_data["y"].tolist() == [0.0, 1.0]
    import matplotlib.pyplot as plt

    plt.close("all")


def test_every_default_carries_its_source_and_is_verified():
    res = ct.business_case(-0.1, n_physicians=50, cost_per_participant=2000, seed=0)
    tab = res.assumptions.set_index("input")
    for name in ("burnout_prevalence", "turnover_rate", "turnover_rr", "replacement_cost"):
        assert tab.loc[name, "verified"], name
        assert "doi:" in tab.loc[name, "source"], name
        assert tab.loc[name, "location"], name
    src = ct.business_sources()
    defaults = src[src["kind"] == "default"]
    assert defaults["verified"].all()
    # unverified numbers never become defaults
    assert not src.loc[~src["verified"], "kind"].eq("default").any()


def test_user_values_replace_defaults_and_are_marked_given():
    res = ct.business_case(
        -0.1, n_physicians=50, cost_per_participant=2000, turnover_rr=(1.57, 1.02, 2.40), seed=0
    )
    row = res.assumptions.set_index("input").loc["turnover_rr"]
    assert (row["value"], row["low"], row["high"]) == (1.57, 1.02, 2.40)
    assert row["source"] == "given" and row["distribution"] == "lognormal"


def test_accepts_a_responders_risk_difference_row():
    effects = pd.DataFrame(
        {
            "outcome": ["pfi_burnout_high"] * 2,
            "analysis": ["risk_difference", "risk_ratio"],
            "estimate": [-0.15, 0.7],
            "std_error": [0.06, np.nan],
            "estimand": ["randomized: coaching vs control"] * 2,
        }
    )
    res = ct.business_case(effects, n_physicians=100, cost_per_participant=1000, seed=0)
    row = res.assumptions.set_index("input").loc["effect"]
    assert row["value"] == -0.15 and row["distribution"] == "normal"
    assert "risk_difference" in row["source"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_physicians": 0}, "n_physicians"),
        ({"cost_per_participant": -1}, "cost_per_participant"),
        ({"turnover_rate": 1.5}, "turnover_rate"),
        ({"turnover_rr": (2.0, 2.5, 3.0)}, "low <= value <= high"),
        ({"n_draws": 10}, "n_draws"),
        ({"horizon_years": 0}, "horizon_years"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"n_physicians": 10, "cost_per_participant": 100, **kwargs}
    with pytest.raises(ValueError, match=match):
        ct.business_case(-0.1, **args)


def test_required_arguments_have_no_default():
    with pytest.raises(TypeError, match="cost_per_participant"):
        ct.business_case(-0.1, n_physicians=10)


def test_summary_and_paragraph_are_plain_language():
    res = ct.business_case(
        -0.1, effect_se=0.04, n_physicians=200, cost_per_participant=3000, seed=1
    )
    text = res.paragraph
    assert "200 physicians" in text and "per participant" in text and "-$" in text
    assert "conservative" in text
    assert "Assumptions" in res.summary()
    assert "<strong>" in res._repr_html_()


def test_accepts_a_trial_responders_result_and_refuses_a_good_event():
    ex = ct.load_example("delayed_intervention")
    trial = ct.DelayedInterventionTrial(
        ct.score(ex.responses, "pfi"),
        participants=ex.participants,
        immediate="immediate",
        delayed="delayed",
        baseline_wave="baseline",
        endpoint_wave="month3",
    )
    burnout = trial.responders("pfi_burnout", cutpoint=1.33)
    res = ct.business_case(burnout, n_physicians=400, cost_per_participant=2500, seed=1)
    row = res.assumptions.set_index("input").loc["effect"]
    assert row["value"] == burnout.estimate
    assert row["high"] - row["low"] == pytest.approx(2 * 1.959963984540054 * burnout.std_error)
    fulfilled = trial.responders("pfi_pf", cutpoint=3.0)
    assert fulfilled.event_is == "good"
    with pytest.raises(ValueError, match="good outcome"):
        ct.business_case(fulfilled, n_physicians=400, cost_per_participant=2500)


def test_result_is_frozen_and_tables_are_copies():
    res = ct.business_case(-0.1, n_physicians=50, cost_per_participant=2000, seed=0)
    with pytest.raises(AttributeError):
        res.seed = 1
    table = res.assumptions
    table.loc[0, "value"] = 99.0
    assert res.assumptions.loc[0, "value"] == -0.1
