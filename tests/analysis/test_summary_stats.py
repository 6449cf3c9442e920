"""from_summary against published numbers (Dyrbye 2019) and the t formulas evaluated in R."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import coaching_trials as ct
from coaching_trials._results import EFFECT_COLUMNS

TOL = 1e-6
HEADLINE = ("estimate", "std_error", "df", "statistic", "p_value", "conf_low", "conf_high")
# Dyrbye LN, Shanafelt TD, Gill PR, Satele DV, West CP. Effect of a professional coaching
# intervention on the well-being and distress of physicians: a pilot randomized clinical trial.
# JAMA Intern Med 2019;179(10):1406-1414. doi:10.1001/jamainternmed.2019.2425 (abstract):
# MBI emotional exhaustion change -5.2 (SD 8.7) coaching vs +1.5 (SD 7.7) control, P < .001;
# overall QOL change +1.2 (SD 2.5) vs +0.1 (SD 1.7), P = .005; 88 physicians randomized.
DYRBYE = {
    "dyrbye_ee": {"change_mean": (-5.2, 1.5), "change_sd": (8.7, 7.7)},
    "dyrbye_qol": {"change_mean": (1.2, 0.1), "change_sd": (2.5, 1.7)},
}


@pytest.mark.parametrize("method", ["pooled", "welch"])
@pytest.mark.parametrize("n", [(44, 44), (40, 38)])
@pytest.mark.parametrize("outcome", list(DYRBYE))
def test_matches_r_two_sample_t_from_summaries(golden, outcome, n, method):
    ref = golden("summary")[f"{outcome}_{n[0]}_{n[1]}_{method}"]
    res = ct.from_summary(n=n, **DYRBYE[outcome], method=method)
    for name in HEADLINE:
        assert getattr(res, name) == pytest.approx(ref[name], rel=TOL), name
    g = golden("summary")[f"{outcome}_{n[0]}_{n[1]}_g"]
    row = res.effect_sizes.set_index("kind").loc["hedges_g"]
    assert row["estimate"] == pytest.approx(g["hedges_g"], rel=TOL)
    assert row["conf_low"] == pytest.approx(g["hedges_g_low"], rel=TOL)
    assert row["conf_high"] == pytest.approx(g["hedges_g_high"], rel=TOL)


@pytest.mark.parametrize("n", [(44, 44), (40, 40), (36, 36)])
def test_dyrbye_emotional_exhaustion_p_below_001(n):
    # Published: P < .001. Holds for 44/44 and with up to 8 losses per arm (36/36).
    assert ct.from_summary(n=n, **DYRBYE["dyrbye_ee"]).p_value < 0.001


def test_dyrbye_qol_p_005_is_not_reproducible_by_a_t_test():
    """Published P = .005 for QOL cannot come from a two-sample t test on the summaries.

    With at most 44 per arm, even the most favourable rounding of the published means (+-0.05)
    and SDs (-0.05) gives P > .005 (about .008 at best; .018 with the values as printed), so the
    paper's test (ITT handling, or another test) differs; a t test on rounded summaries
    reproduces the direction and P < .05 only.
    """
    res = ct.from_summary(n=(44, 44), **DYRBYE["dyrbye_qol"])
    assert 0.005 < res.p_value < 0.05
    best = min(
        ct.from_summary(
            n=(44, 44),
            change_mean=(1.2 + dm1, 0.1 - dm0),
            change_sd=(2.5 - 0.05, 1.7 - 0.05),
            method=method,
        ).p_value
        for dm1, dm0, method in itertools.product((0.0, 0.05), (0.0, 0.05), ("pooled", "welch"))
    )
    assert 0.005 < best < 0.01


def test_derived_change_sd_and_morris_match_r(golden):
    ref = golden("summary")["derived"]
    res = ct.from_summary(
        n=(40, 42),
        baseline_mean=(30, 29),
        baseline_sd=(10, 11),
        followup_mean=(24, 30),
        followup_sd=(9, 12),
        correlation=0.6,
    )
    assert res.change_sd == pytest.approx(
        (ref["change_sd_treated"], ref["change_sd_control"]), rel=TOL
    )
    for name in ("estimate", "std_error", "p_value"):
        assert getattr(res, name) == pytest.approx(ref[name], rel=TOL)
    row = res.effect_sizes.set_index("kind").loc["d_ppc2"]
    for name, key in (
        ("estimate", "ppc"),
        ("std_error", "ppc_se"),
        ("conf_low", "ppc_low"),
        ("conf_high", "ppc_high"),
    ):
        assert row[name] == pytest.approx(ref[key], rel=TOL)


def test_correlation_derived_from_three_sds():
    bs, fs, r = np.array([10.0, 11.0]), np.array([9.0, 12.0]), 0.45
    cs = np.sqrt(bs**2 + fs**2 - 2 * r * bs * fs)
    res = ct.from_summary(
        n=(30, 30),
        change_mean=(-3, 1),
        change_sd=tuple(cs),
        baseline_sd=tuple(bs),
        followup_sd=tuple(fs),
    )
    assert res.correlation == pytest.approx(r, rel=1e-12)
    assert set(res.effect_sizes["kind"]) == {"hedges_g", "d_ppc2"}


def test_to_frame_rows():
    res = ct.from_summary(
        n=(44, 44), **DYRBYE["dyrbye_ee"], outcome="mbi_ee", arms=("coaching", "control")
    )
    frame = res.to_frame()
    assert tuple(frame.columns) == EFFECT_COLUMNS
    assert frame["analysis"].tolist() == ["summary_change", "summary_hedges_g"]
    assert frame.loc[0, "contrast"] == "coaching - control"
    assert (frame["outcome"] == "mbi_ee").all()


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"n": (44,)}, "two finite numbers"),
        ({"n": (1, 44)}, "whole numbers >= 2"),
        ({"change_sd": (-1, 2)}, "must be positive"),
        ({"change_mean": None}, "Give `change_mean`"),
        ({"change_sd": None, "baseline_sd": (1, 1), "followup_sd": (1, 1)}, "Give `change_sd`"),
        ({"correlation": 1.0}, r"\(-1, 1\)"),
        ({"method": "z"}, "`method` must be one of"),
    ],
)
def test_errors(kw, match):
    args = {"n": (44, 44), **DYRBYE["dyrbye_ee"], **kw}
    with pytest.raises(ValueError, match=match):
        ct.from_summary(**args)
