"""trial.compare / responders checked against the standalone estimators on hand-built frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from design_fixtures import DESIGN, make_trial_frames
from hypothesis import given, settings
from hypothesis import strategies as st

import coaching_trials as ct
from coaching_trials._results import EFFECT_COLUMNS
from coaching_trials.design.delayed import DelayedInterventionTrial

FIELDS = [
    "estimate",
    "std_error",
    "df",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
    "n_treated",
    "n_control",
]


def _wide(long, part, outcome, covariates=()):
    """Independent per-participant frame: month3 as `y`, baseline as `y0`, plus covariates."""
    piv = long.pivot(index="participant_id", columns="wave", values=outcome)
    out = part.set_index("participant_id")[["arm", *covariates]].join(piv)
    return out.rename(columns={"month3": "y", "baseline": "y0"}).reset_index()


def _same(row, ref, fields=FIELDS):
    for f in fields:
        assert row[f] == pytest.approx(ref[f], rel=1e-10, abs=1e-12, nan_ok=True), f


@pytest.mark.parametrize("outcome", ["pfi_burnout", "pfi_pf"])
@pytest.mark.parametrize("covariates", [(), ("age",), ("age", "gender")])
def test_ancova_rows_equal_standalone_ancova(frames, trial, outcome, covariates):
    long, part = frames
    ref = (
        ct.ancova(
            _wide(long, part, outcome, covariates),
            outcome="y",
            baseline="y0",
            arm="arm",
            treated="immediate",
            covariates=covariates,
        )
        .to_frame()
        .iloc[0]
    )
    res = trial.compare(outcome, covariates=covariates)
    row = res.to_frame().iloc[0]
    _same(row, ref)
    assert list(res.to_frame().columns) == list(EFFECT_COLUMNS)
    assert row["outcome"] == outcome and row["analysis"] == "ancova"
    # everyone randomized is either analysed or counted in the audit with a reason
    n_rand = len(part)
    assert row["n_treated"] + row["n_control"] + res.audit["n_rows"].sum() == n_rand


def test_change_and_descriptives_equal_standalone(frames, trial):
    long, part = frames
    w = _wide(long, part, "pfi_pf")
    res = trial.compare("pfi_pf", method="change", adjust=None)
    ref = ct.change_score(w, outcome="y", baseline="y0", arm="arm", treated="immediate").to_frame()
    _same(res.to_frame().iloc[0], ref.iloc[0])
    pc = ct.percent_change(w, outcome="y", baseline="y0", arm="arm", treated="immediate").per_arm
    desc = res.descriptives.set_index("arm")
    for _, r in pc.iterrows():
        assert desc.loc[r["arm"], "percent_change"] == pytest.approx(r["percent_change"], rel=1e-12)
        assert desc.loc[r["arm"], "percent_change_conf_low"] == pytest.approx(
            r["conf_low"], rel=1e-12
        )
    es = ct.ppc_effect_size(w, outcome="y", baseline="y0", arm="arm", treated="immediate")
    std = res.standardized.iloc[0]
    assert (std["estimate"], std["conf_low"], std["conf_high"]) == pytest.approx(
        (es.estimate, es.conf_low, es.conf_high), rel=1e-12
    )
    assert std["measure"] == "d_ppc2"


def test_mmrm_rows_equal_standalone_mmrm(frames):
    long, part = frames
    # endpoint month6 with month3 as an interim wave: two post-baseline visits
    # (an ordered Categorical wave column admits undeclared interim waves)
    cat = long.assign(
        wave=pd.Categorical(long["wave"], ["baseline", "month3", "month6"], ordered=True)
    )
    trial = DelayedInterventionTrial(
        cat, participants=part, **{**DESIGN, "endpoint_wave": "month6", "followup_waves": ()}
    )
    assert trial.waves == ("baseline", "month3", "month6")
    res = trial.compare(["pfi_burnout", "pfi_pf"], method="mmrm", primary="pfi_burnout")
    eff = res.to_frame()
    assert eff["wave"].tolist() == ["month3", "month6"] * 2
    assert eff["estimand"].tolist()[:2] == [
        "randomized: immediate vs delayed at month3",
        "randomized: immediate vs delayed at month6",
    ]
    # interim visits are not part of the multiplicity family
    assert eff.loc[eff["wave"] == "month3", "p_adjusted"].isna().all()
    assert eff.loc[eff["wave"] == "month6", "p_adjusted"].notna().all()
    base = long[long["wave"] == "baseline"].set_index("participant_id")["pfi_pf"]
    post = long[long["wave"] != "baseline"].copy()
    post["b"] = post["participant_id"].map(base)
    post["wave"] = pd.Categorical(post["wave"], ["month3", "month6"], ordered=True)
    ref = ct.mmrm(
        post,
        outcome="pfi_pf",
        arm="arm",
        visit="wave",
        subject="participant_id",
        treated="immediate",
        baseline="b",
    ).to_frame()
    got = eff[eff["outcome"] == "pfi_pf"].reset_index(drop=True)
    for i in range(2):
        for f in ["estimate", "std_error", "df", "p_value", "conf_low", "conf_high"]:
            assert got.loc[i, f] == pytest.approx(ref.loc[i, f], rel=1e-5), f


@pytest.mark.parametrize("adjust", ["holm", "bh", "fixed_sequence"])
@pytest.mark.parametrize("primary", [None, "pfi_burnout"])
def test_p_adjusted_equals_adjust_effects(trial, adjust, primary):
    res = trial.compare(["pfi_burnout", "pfi_pf"], adjust=adjust, primary=primary)
    raw = trial.compare(["pfi_burnout", "pfi_pf"], adjust=None).to_frame()
    ref = ct.adjust_effects(raw, method=adjust, primary=primary)
    np.testing.assert_allclose(res.to_frame()["p_adjusted"], ref["p_adjusted"], rtol=1e-12)
    if primary is not None:
        assert res.to_frame()["p_adjusted"].iloc[0] == res.to_frame()["p_value"].iloc[0]


@pytest.mark.parametrize(
    "kwargs, exc, fragment",
    [
        (dict(method="anova"), ValueError, "`method` must be one of 'ancova', 'change', 'mmrm'"),
        (dict(adjust="sidak"), ValueError, "`adjust` must be one of"),
        (dict(primary="pfi_id"), ValueError, "`primary` must be one of the outcomes"),
        (dict(method="change", covariates=("age",)), ValueError, "not used by method='change'"),
        (dict(covariates=("bmi",)), ValueError, "covariate 'bmi' is neither"),
        (dict(conf_level=95), ValueError, r"`conf_level` must be in \(0, 1\)"),
    ],
)
def test_compare_bad_options(trial, kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        trial.compare(["pfi_burnout", "pfi_pf"], **kwargs)


def test_compare_result_rendering(trial):
    res = trial.compare(["pfi_burnout", "pfi_pf"], primary="pfi_burnout")
    text = res.summary()
    assert "Randomized comparison at month3 (ancova)" in text and "Per-arm descriptives" in text
    assert "<table" in res._repr_html_()
    assert res.estimate == res.to_frame()["estimate"].iloc[0]
    with pytest.raises(AttributeError):
        res.method = "change"  # frozen
    with pytest.raises(TypeError):
        res.fits["pfi_burnout"] = None  # read-only mapping


def test_wider_interval_at_higher_conf_level(trial):
    lo = trial.compare("pfi_burnout", conf_level=0.8).to_frame().iloc[0]
    hi = trial.compare("pfi_burnout", conf_level=0.99).to_frame().iloc[0]
    assert hi["conf_low"] < lo["conf_low"] < lo["estimate"] < lo["conf_high"] < hi["conf_high"]


@pytest.mark.parametrize("direction, cutpoint", [(">=", 1.33), ("<", 1.0)])
def test_responders_delegates(frames, trial, direction, cutpoint):
    long, part = frames
    w = _wide(long, part, "pfi_burnout")
    ref = ct.responders(
        w,
        outcome="y",
        arm="arm",
        treated="immediate",
        cutpoint=cutpoint,
        direction=direction,
        baseline="y0",
    )
    got = trial.responders("pfi_burnout", cutpoint=cutpoint, direction=direction)
    cols = ["estimate", "std_error", "conf_low", "conf_high", "p_value", "n_treated", "n_control"]
    pd.testing.assert_frame_equal(
        got.to_frame()[cols].reset_index(drop=True), ref.to_frame()[cols].reset_index(drop=True)
    )


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 5000), shift=st.floats(-2, 2))
def test_shift_leaves_randomized_contrast_unchanged(seed, shift):
    long, part = make_trial_frames(seed, 10, 11)
    a = (
        DelayedInterventionTrial(long, participants=part, **DESIGN)
        .compare("pfi_burnout")
        .to_frame()
    )
    moved = long.assign(pfi_burnout=long["pfi_burnout"] + shift)
    b = (
        DelayedInterventionTrial(moved, participants=part, **DESIGN)
        .compare("pfi_burnout")
        .to_frame()
    )
    cols = ["estimate", "std_error", "p_value"]
    np.testing.assert_allclose(
        b[cols].to_numpy(float), a[cols].to_numpy(float), rtol=1e-6, atol=1e-9
    )
