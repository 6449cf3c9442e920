"""Responders against R prop.test, the Newcombe formula and glm(binomial) (reference.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials._results import EFFECT_COLUMNS
from coaching_trials.analysis.responders import nnt_interval, wilson_interval

TOL = 1e-6


def run(frame, cut, **kw):
    return ct.responders(
        frame,
        outcome="followup",
        arm="arm",
        treated="immediate",
        cutpoint=cut,
        baseline="baseline",
        adjust_baseline=True,
        **kw,
    )


@pytest.mark.parametrize("cut", [1.0, 1.5])
@pytest.mark.parametrize("ds", ["a", "b"])
def test_matches_r(trials, golden, ds, cut):
    ref = golden("responders")[f"{ds}_{cut:g}"]
    res = run(trials[ds], cut)
    props = res.proportions.set_index("arm")
    for arm, key in (("immediate", "treated"), ("delayed", "control")):
        assert props.loc[arm, "events"] == ref[f"events_{key}"]
        assert props.loc[arm, "conf_low"] == pytest.approx(ref[f"wilson_low_{key}"], rel=TOL)
        assert props.loc[arm, "conf_high"] == pytest.approx(ref[f"wilson_high_{key}"], rel=TOL)
    assert res.estimate == pytest.approx(ref["rd"], rel=TOL, abs=1e-12)
    assert res.conf_low == pytest.approx(ref["rd_low"], rel=TOL)
    assert res.conf_high == pytest.approx(ref["rd_high"], rel=TOL)
    assert res.p_value == pytest.approx(ref["rd_p"], rel=TOL)
    comp = res.comparisons.set_index("measure")
    for measure, key in (
        ("risk_ratio", "rr"),
        ("odds_ratio", "or"),
        ("odds_ratio_adjusted", "or_adj"),
    ):
        assert comp.loc[measure, "estimate"] == pytest.approx(ref[key], rel=TOL)
        assert comp.loc[measure, "conf_low"] == pytest.approx(ref[f"{key}_low"], rel=TOL)
        assert comp.loc[measure, "conf_high"] == pytest.approx(ref[f"{key}_high"], rel=TOL)
    assert comp.loc["odds_ratio_adjusted", "p_value"] == pytest.approx(ref["or_adj_p"], rel=TOL)


def test_to_frame_rows_and_schema(trials):
    res = run(trials["a"], 1.5)
    frame = res.to_frame()
    assert tuple(frame.columns) == EFFECT_COLUMNS
    assert frame["analysis"].tolist() == [
        "risk_difference",
        "risk_ratio",
        "odds_ratio",
        "odds_ratio_adjusted",
    ]
    assert frame.loc[0, "contrast"] == "immediate - delayed"
    assert frame.loc[1, "contrast"] == "immediate / delayed"
    assert np.isnan(frame.loc[1, "std_error"])  # log-scale SE is not on the ratio's scale
    assert "followup >= 1.5" in frame.loc[0, "estimand"]


@pytest.mark.parametrize(
    ("low", "high", "event_is", "text"),
    [
        (-0.05, 0.25, "good", "NNTB 4.0 to infinity to NNTH 20.0"),
        (-0.25, 0.05, "bad", "NNTB 4.0 to infinity to NNTH 20.0"),
        (0.1, 0.25, "good", "NNTB 4.0 to 10.0"),
        (-0.25, -0.1, "good", "NNTH 4.0 to 10.0"),
        (-0.25, -0.1, "bad", "NNTB 4.0 to 10.0"),
        (-0.5, 0.0, "good", "NNTB infinity to infinity to NNTH 2.0"),
    ],
)
def test_nnt_interval_altman(low, high, event_is, text):
    # Altman DG. Confidence intervals for the number needed to treat. BMJ 1998;317:1309-12.
    assert nnt_interval(low, high, event_is=event_is) == text


def test_nnt_label_follows_event_direction():
    frame = pd.DataFrame(
        {"arm": ["t"] * 10 + ["c"] * 10, "y": [1] * 2 + [0] * 8 + [1] * 6 + [0] * 4}
    )
    bad = ct.responders(frame, outcome="y", arm="arm", treated="t", cutpoint=1, event_is="bad")
    good = ct.responders(frame, outcome="y", arm="arm", treated="t", cutpoint=1)
    assert bad.estimate == pytest.approx(-0.4)
    assert (bad.nnt_label, good.nnt_label) == ("NNTB", "NNTH")
    assert bad.nnt == pytest.approx(2.5)


def test_directions_define_events():
    frame = pd.DataFrame({"arm": ["t", "t", "c", "c"], "y": [1.0, 2.0, 2.0, 3.0]})
    counts = {
        d: ct.responders(frame, outcome="y", arm="arm", treated="t", cutpoint=2.0, direction=d)
        .proportions["events"]
        .tolist()
        for d in (">=", ">", "<=", "<")
    }
    assert counts == {">=": [1, 2], ">": [0, 1], "<=": [2, 1], "<": [1, 0]}


def test_zero_cell_gives_nan_ratios():
    frame = pd.DataFrame({"arm": ["t"] * 5 + ["c"] * 5, "y": [0] * 5 + [1, 1, 0, 0, 1]})
    res = ct.responders(frame, outcome="y", arm="arm", treated="t", cutpoint=1)
    comp = res.comparisons.set_index("measure")
    assert np.isnan(comp.loc["odds_ratio", "estimate"])
    assert np.isnan(comp.loc["risk_ratio", "conf_low"])
    assert res.conf_low < res.estimate < res.conf_high  # Newcombe still defined


def test_wilson_matches_textbook_value():
    # Newcombe (1998) Table I example: 81/263 -> Wilson 0.2553 to 0.3662
    low, high = wilson_interval(81, 263, 0.95)
    assert (round(float(low), 4), round(float(high), 4)) == (0.2553, 0.3662)


@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        ({"direction": "=="}, ValueError, "`direction` must be one of"),
        ({"event_is": "neutral"}, ValueError, "`event_is` must be one of"),
        ({"cutpoint": "high"}, TypeError, "`cutpoint` must be a number"),
        ({"adjust_baseline": True}, ValueError, "needs the `baseline`"),
    ],
)
def test_errors(trials, kw, error, match):
    args = {"outcome": "followup", "arm": "arm", "treated": "immediate", "cutpoint": 1.5, **kw}
    with pytest.raises(error, match=match):
        ct.responders(trials["a"], **args)


@pytest.mark.parametrize("case", ["arm_all_events", "baseline_separates"])
def test_adjusted_odds_ratio_not_estimable_is_nan_with_a_warning(case):
    """Separation used to give an 'odds ratio' of ~1e15 (and an overflow) without a word."""
    rng = np.random.default_rng(11)
    base = rng.normal(2.0, 0.5, size=40)
    arm = np.array(["immediate"] * 20 + ["delayed"] * 20)
    if case == "arm_all_events":
        y = np.r_[np.zeros(20), rng.uniform(0, 3, size=20)]  # immediate: every y < 1.33
    else:
        y = np.where(base < 2.0, 0.5, 2.5)  # baseline decides the event exactly
        y[:3], y[20:23] = 0.5, 2.5  # both arms have events and non-events
        base[:3], base[20:23] = 1.5, 2.5
    frame = pd.DataFrame({"arm": arm, "base": base, "y": y})
    with pytest.warns(ct.DataValidationWarning, match="adjusted odds ratio .* not estimable"):
        res = ct.responders(
            frame,
            outcome="y",
            arm="arm",
            treated="immediate",
            cutpoint=1.33,
            direction="<",
            baseline="base",
            adjust_baseline=True,
        )
    row = res.comparisons.set_index("measure").loc["odds_ratio_adjusted"]
    assert np.isnan(row["estimate"]) and np.isnan(row["conf_low"]) and np.isnan(row["conf_high"])
    assert "not estimable" in row["method"]
    assert "not estimable" in res.to_frame()["estimand"].iloc[-1]
    assert np.isfinite(res.estimate)  # the risk difference is still reported
