"""Non-randomized analyses (pre/post, pooled, durability, dose) against scipy and statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from design_fixtures import DESIGN, make_trial_frames
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from coaching_trials._results import EFFECT_COLUMNS
from coaching_trials.design.delayed import DelayedInterventionTrial


def _wide(long, outcome):
    w = long.pivot(index="participant_id", columns="wave", values=outcome)
    arms = long.drop_duplicates("participant_id").set_index("participant_id")["arm"]
    return w.assign(arm=arms.reindex(w.index))


def _check_t(row, pre, post, conf_level=0.95):
    ok = np.isfinite(pre) & np.isfinite(post)
    ref = stats.ttest_rel(post[ok], pre[ok])
    ci = ref.confidence_interval(conf_level)
    assert row["n_treated"] == ok.sum()
    assert row["estimate"] == pytest.approx(np.mean(post[ok] - pre[ok]), rel=1e-12)
    assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-10)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert row["df"] == ref.df
    assert (row["conf_low"], row["conf_high"]) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert row["conf_level"] == conf_level


@pytest.mark.parametrize("outcome", ["pfi_burnout", "pfi_pf"])
@pytest.mark.parametrize("conf_level", [0.95, 0.9])
def test_delayed_arm_prepost_matches_ttest_rel(frames, trial, outcome, conf_level):
    long, _ = frames
    w = _wide(long, outcome)
    d = w[w["arm"] == "delayed"]
    res = trial.delayed_arm_prepost(outcome, conf_level=conf_level)
    eff = res.to_frame()
    assert list(eff.columns) == list(EFFECT_COLUMNS)
    assert eff["estimand"].str.startswith("non-randomized: ").all()
    assert eff["contrast"].tolist() == [
        "month6 - month3",
        "(month6 - month3) - (month3 - baseline)",
    ]
    _check_t(eff.iloc[0], d["month3"].to_numpy(), d["month6"].to_numpy(), conf_level)
    after = (d["month6"] - d["month3"]).to_numpy()
    waiting = (d["month3"] - d["baseline"]).to_numpy()
    _check_t(eff.iloc[1], waiting, after, conf_level)
    assert res.estimate == eff["estimate"].iloc[0]
    # exclusions are counted
    n_delayed = int((trial.participants["arm"] == "delayed").sum())
    assert res.audit["n_rows"].iloc[0] == n_delayed - eff["n_treated"].iloc[0]


def test_pooled_prepost_matches_ttest_on_aligned_changes(frames, trial):
    long, _ = frames
    w = _wide(long, "pfi_burnout")
    imm = w["arm"] == "immediate"
    pre = np.where(imm, w["baseline"], w["month3"])
    post = np.where(imm, w["month3"], w["month6"])
    eff = trial.pooled_prepost("pfi_burnout").to_frame()
    assert len(eff) == 1 and eff["estimand"].iloc[0].startswith("non-randomized: pooled")
    _check_t(eff.iloc[0], pre, post)


def test_durability_matches_ttest(frames, trial):
    long, _ = frames
    w = _wide(long, "pfi_pf")
    i = w[w["arm"] == "immediate"]
    eff = trial.durability(["pfi_pf"]).to_frame()
    assert eff["wave"].tolist() == ["month6"]
    assert eff["estimand"].iloc[0] == (
        "non-randomized: immediate arm durability after coaching (month3 -> month6)"
    )
    _check_t(eff.iloc[0], i["month3"].to_numpy(), i["month6"].to_numpy())


@pytest.mark.parametrize("period", ["pooled", "immediate", "delayed"])
@pytest.mark.parametrize("adjust_baseline", [False, True])
def test_dose_response_matches_statsmodels(frames, trial, period, adjust_baseline):
    long, part = frames
    w = _wide(long, "pfi_burnout").join(part.set_index("participant_id")["sessions_attended"])
    imm = (w["arm"] == "immediate").to_numpy()
    pre = np.where(imm, w["baseline"], w["month3"])
    post = np.where(imm, w["month3"], w["month6"])
    keep = {"pooled": np.ones(len(w), bool), "immediate": imm, "delayed": ~imm}[period]
    y = post - pre
    ok = keep & np.isfinite(y)
    x = np.c_[w["sessions_attended"].to_numpy(float)[ok]]
    if adjust_baseline:
        x = np.c_[x, pre[ok]]
    fit = sm.OLS(y[ok], sm.add_constant(x)).fit()
    eff = trial.dose_response(
        "pfi_burnout", period=period, adjust_baseline=adjust_baseline
    ).to_frame()
    row = eff.iloc[0]
    assert row["estimate"] == pytest.approx(fit.params[1], rel=1e-10)
    assert row["std_error"] == pytest.approx(fit.bse[1], rel=1e-10)
    assert row["df"] == fit.df_resid
    assert row["p_value"] == pytest.approx(fit.pvalues[1], rel=1e-8)
    assert (row["conf_low"], row["conf_high"]) == pytest.approx(tuple(fit.conf_int()[1]), rel=1e-10)
    assert row["estimand"].startswith("non-randomized (observational):")


def test_dose_response_needs_sessions(frames):
    long, _ = frames
    trial = DelayedInterventionTrial(long, **DESIGN)
    with pytest.raises(ValueError, match="'sessions_attended' is not in `participants`"):
        trial.dose_response("pfi_burnout")
    with pytest.raises(ValueError, match="`period` must be one of"):
        trial.dose_response("pfi_burnout", period="both")


def test_wide_matches_pivot(frames, trial):
    long, _ = frames
    got = trial.wide("pfi_pf").set_index("participant_id")
    ref = _wide(long, "pfi_pf")
    for wave in ("baseline", "month3", "month6"):
        pd.testing.assert_series_equal(
            got[f"pfi_pf__{wave}"], ref[wave].reindex(got.index), check_names=False
        )
    with pytest.raises(ValueError, match="not design waves"):
        trial.wide("pfi_pf", waves=["month12"])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), shift=st.floats(-3, 3), perm_seed=st.integers(0, 1000))
def test_row_order_and_shift_change_no_contrast(seed, shift, perm_seed):
    long, part = make_trial_frames(seed, 12, 13)
    base = DelayedInterventionTrial(long, participants=part, **DESIGN)
    perm = np.random.default_rng(perm_seed).permutation(len(long))
    shuffled = long.iloc[perm].assign(pfi_burnout=lambda d: d["pfi_burnout"] + shift)
    other = DelayedInterventionTrial(shuffled, participants=part.iloc[::-1], **DESIGN)
    cols = ["estimate", "std_error", "df", "p_value"]
    for method in ("delayed_arm_prepost", "pooled_prepost", "durability", "compare"):
        a = getattr(base, method)("pfi_burnout").to_frame()
        b = getattr(other, method)("pfi_burnout").to_frame()
        np.testing.assert_allclose(b[cols].to_numpy(), a[cols].to_numpy(), rtol=1e-7, atol=1e-9)
        assert (a["conf_low"] <= a["estimate"]).all() and (a["estimate"] <= a["conf_high"]).all()
