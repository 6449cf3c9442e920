"""probability_of_benefit: posterior summaries against numerical integration of prior x likelihood.

The reference is computed here without the closed form: the unnormalised posterior
prior(theta) * likelihood(theta) is integrated with scipy.integrate.quad, and the posterior
mean, SD and tail probabilities are ratios of those integrals.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import coaching_trials as ct

matplotlib.use("Agg")
TOL = 1e-10


def _integrated(y, s, m0, s0, b, mid):
    """Posterior mean, SD, P(benefit), P(beyond MID), P(harm beyond MID) by quadrature."""

    def dens(t):
        prior = 1.0 if np.isinf(s0) else stats.norm.pdf(t, m0, s0)
        return prior * stats.norm.pdf(y, t, s)

    centre = [y] if np.isinf(s0) else [y, m0]
    lo, hi = min(centre) - 40 * s, max(centre) + 40 * s
    pts = sorted(
        {*centre, 0.0, b * mid, -b * mid}
        & {t for t in [*centre, 0.0, b * mid, -b * mid] if lo < t < hi}
    )

    def q(f, a=lo, c=hi):
        inner = [p for p in pts if a < p < c]
        return integrate.quad(f, a, c, points=inner or None, epsabs=0, epsrel=1e-13, limit=500)[0]

    z = q(dens)
    mean = q(lambda t: t * dens(t)) / z
    var = q(lambda t: (t - mean) ** 2 * dens(t)) / z
    if b > 0:
        p_benefit = q(dens, 0.0, hi) / z
        p_mid = q(dens, mid, hi) / z
        p_harm_mid = q(dens, lo, -mid) / z
    else:
        p_benefit = q(dens, lo, 0.0) / z
        p_mid = q(dens, lo, -mid) / z
        p_harm_mid = q(dens, mid, hi) / z
    return mean, np.sqrt(var), p_benefit, p_mid, p_harm_mid


CASES = [
    # outcome, estimate, SE, prior, large, mid
    ("pfi_burnout", -0.79, 0.24, "skeptical", 1.0, 0.5),
    ("pfi_burnout", -0.79, 0.24, "enthusiastic", 1.0, 0.5),
    ("pfi_burnout", -0.79, 0.24, "weakly_informative", 1.0, 0.5),
    ("pfi_burnout", -0.79, 0.24, "reference", 1.0, 0.5),
    ("pfi_pf", 0.59, 0.29, "skeptical", 0.8, 0.3),
    ("pfi_pf", 0.59, 0.29, "enthusiastic", 0.8, 0.3),
    ("pfi_pf", -0.10, 0.35, "skeptical", 0.8, 0.3),  # estimate in the harmful direction
    ("mbi_ee", -6.7, 1.75, "skeptical", 5.0, 3.0),
    ("mbi_ee", -6.7, 1.75, "weakly_informative", 5.0, 3.0),
]


@pytest.mark.parametrize(("outcome", "y", "s", "prior", "large", "mid"), CASES)
def test_posterior_equals_numerical_integration(outcome, y, s, prior, large, mid):
    res = ct.probability_of_benefit(
        {"outcome": outcome, "estimate": y, "std_error": s}, prior=prior, mid=mid, large=large
    )
    row = res.to_frame().iloc[0]
    b = 1.0 if row["higher_is_better"] else -1.0
    mean, sd, p_benefit, p_mid, p_harm_mid = _integrated(
        y, s, row["prior_mean"], row["prior_sd"], b, mid
    )
    assert row["post_mean"] == pytest.approx(mean, abs=TOL)
    assert row["post_sd"] == pytest.approx(sd, abs=TOL)
    assert row["p_benefit"] == pytest.approx(p_benefit, abs=TOL)
    assert row["p_mid"] == pytest.approx(p_mid, abs=TOL)
    assert row["p_harm_mid"] == pytest.approx(p_harm_mid, abs=TOL)
    assert row["p_harm"] == pytest.approx(1 - p_benefit, abs=TOL)


@pytest.mark.parametrize(
    ("prior", "mean", "tail"),
    [
        # skeptical: centred on 0, P(effect beyond `large` in the direction of benefit) = 5%
        ("skeptical", 0.0, 0.05),
        # enthusiastic: centred on `large` (benefit), P(no benefit) = 5%
        ("enthusiastic", -1.0, 0.05),
    ],
)
def test_named_priors_have_their_stated_tails(prior, mean, tail):
    row = (
        ct.probability_of_benefit(
            {"outcome": "pfi_burnout", "estimate": -0.5, "std_error": 0.2}, prior=prior, large=1.0
        )
        .to_frame()
        .iloc[0]
    )
    assert row["prior_mean"] == mean
    if prior == "skeptical":
        assert stats.norm.cdf(-1.0, 0.0, row["prior_sd"]) == pytest.approx(tail)
    else:
        assert stats.norm.sf(0.0, -1.0, row["prior_sd"]) == pytest.approx(tail)


def test_direction_comes_from_the_registry():
    res = ct.probability_of_benefit(
        pd.DataFrame(
            {
                "outcome": ["pfi_burnout", "pfi_pf", "mbi_pa"],
                "estimate": [-0.5, 0.5, 2.0],
                "std_error": [0.2, 0.2, 1.0],
            }
        ),
        prior="reference",
    ).to_frame()
    assert res["higher_is_better"].tolist() == [False, True, True]
    assert res["direction_source"].str.startswith("registry: ").all()
    assert "lowers pfi_burnout" in res.loc[0, "sentence"]
    assert "raises pfi_pf" in res.loc[1, "sentence"]


def test_direction_override_and_unknown_outcome():
    row = {"outcome": "my_score", "estimate": 1.0, "std_error": 0.5}
    with pytest.raises(ValueError, match="higher_is_better"):
        ct.probability_of_benefit(row)
    a = ct.probability_of_benefit(row, higher_is_better=True, prior="reference").to_frame()
    b = ct.probability_of_benefit(
        row, higher_is_better={"my_score": False}, prior="reference"
    ).to_frame()
    assert a.loc[0, "p_benefit"] == pytest.approx(1 - b.loc[0, "p_benefit"])


def test_reference_prior_reproduces_the_confidence_interval():
    row = {"outcome": "pfi_burnout", "estimate": -0.79, "std_error": 0.24}
    res = ct.probability_of_benefit(row, prior="reference").to_frame().iloc[0]
    z = stats.norm.ppf(0.975)
    assert (res["post_mean"], res["post_sd"]) == (-0.79, 0.24)
    assert res["post_low"] == pytest.approx(-0.79 - z * 0.24)
    # one-sided p-value = 1 - P(benefit) under a flat prior
    assert 1 - res["p_benefit"] == pytest.approx(stats.norm.sf(0.79 / 0.24))


def test_default_large_is_the_80_percent_power_effect_and_is_labelled():
    row = (
        ct.probability_of_benefit({"outcome": "pfi_burnout", "estimate": -0.79, "std_error": 0.24})
        .to_frame()
        .iloc[0]
    )
    assert row["large"] == pytest.approx((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * 0.24)
    assert "80% power" in row["large_source"]


def test_without_mid_the_output_says_so():
    row = (
        ct.probability_of_benefit({"outcome": "pfi_burnout", "estimate": -0.79, "std_error": 0.24})
        .to_frame()
        .iloc[0]
    )
    assert np.isnan(row["mid"]) and np.isnan(row["p_mid"])
    assert "no minimal important difference" in row["note"]
    assert "points" not in row["sentence"]


def test_an_effects_table_gives_one_row_per_effect_and_prior_and_keeps_unusable_rows():
    effects = pd.DataFrame(
        {
            "outcome": ["pfi_burnout", "pfi_burnout"],
            "analysis": ["ancova", "risk_ratio"],
            "estimate": [-0.4, 0.8],
            "std_error": [0.15, np.nan],
            "estimand": ["randomized: a vs b", "randomized: a vs b"],
        }
    )
    res = ct.probability_of_benefit(effects, prior=["skeptical", "reference"], mid=0.2, large=0.5)
    tab = res.to_frame()
    assert len(tab) == 4
    assert tab["prior"].tolist() == ["skeptical", "reference"] * 2
    assert tab.loc[2:, "post_mean"].isna().all()
    assert "not computed" in tab.loc[2, "note"]
    assert len(res.sentences) == 4


def test_custom_priors():
    row = {"outcome": "pfi_burnout", "estimate": -0.79, "std_error": 0.24}
    tab = ct.probability_of_benefit(row, prior={"sceptic A": (0.0, 0.3), "B": (-0.5, 1.0)})
    assert tab.to_frame()["prior"].tolist() == ["sceptic A", "B"]
    one = ct.probability_of_benefit(row, prior=(0.0, 0.3)).to_frame().iloc[0]
    assert one["prior"] == "custom" and one["prior_sd"] == 0.3


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"prior": "optimistic"}, ValueError, "`prior` must be one of"),
        ({"mid": -0.5}, ValueError, "`mid`"),
        ({"large": 0}, ValueError, "`large`"),
        ({"prior": (0.0, -1.0)}, ValueError, "sd"),
        ({"cred_level": 1.5}, ValueError, "conf_level"),
    ],
)
def test_option_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ct.probability_of_benefit(
            {"outcome": "pfi_burnout", "estimate": -1, "std_error": 1}, **kwargs
        )


def test_input_without_standard_error_column_is_refused():
    with pytest.raises(ValueError, match="std_error"):
        ct.probability_of_benefit(pd.DataFrame({"outcome": ["pfi_burnout"], "estimate": [-1.0]}))


def test_accepts_a_result_object():
    res = ct.meta_analysis(
        ct.published_trials("pfi_burnout")
        .assign(study=["Kiser 2024"])
        .pipe(
            lambda d: pd.concat(
                [d, pd.DataFrame([{"study": "Ours", "estimate": -0.4, "std_error": 0.2}])]
            )
        ),
        outcome="pfi_burnout",
    )
    tab = ct.probability_of_benefit(res, prior="reference").to_frame()
    assert tab.loc[0, "estimate"] == res.estimate


def test_posterior_plot_marks_the_mid_on_the_side_of_benefit():
    res = ct.probability_of_benefit(
        pd.DataFrame(
            {
                "outcome": ["pfi_burnout", "pfi_pf"],
                "estimate": [-0.79, 0.59],
                "std_error": [0.24, 0.29],
            }
        ),
        prior=["skeptical", "enthusiastic"],
        mid=0.5,
        large=1.0,
    )
    ax = ct.plot_posterior(res, outcome="pfi_pf")
    assert ax.ct_data["mid_at"].tolist() == [0.5, 0.5]
    assert len(ax.lines) == 4  # two densities, no-effect line, MID line
    ax2 = ct.plot_posterior(res)
    assert (ax2.ct_data["mid_at"] == -0.5).all()
    with pytest.raises(ValueError, match="No computed posterior"):
        ct.plot_posterior(res, outcome="nothing")
    import matplotlib.pyplot as plt

    plt.close("all")


def test_result_is_frozen_and_the_table_is_a_copy():
    res = ct.probability_of_benefit(
        {"outcome": "pfi_burnout", "estimate": -0.79, "std_error": 0.24}, large=1.0
    )
    with pytest.raises(AttributeError):
        res.cred_level = 0.9
    table = res.table
    table.loc[0, "p_benefit"] = 0.0
    assert res.to_frame().loc[0, "p_benefit"] > 0.9
    assert "Probability of benefit" in repr(res) and "<table" in res._repr_html_()
