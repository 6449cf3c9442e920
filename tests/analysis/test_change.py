"""Change scores against R t.test; percent change against the delta method computed in R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials._results import EFFECT_COLUMNS

TOL = 1e-6
HEADLINE = ("estimate", "std_error", "df", "statistic", "p_value", "conf_low", "conf_high")
ARGS = {"outcome": "followup", "baseline": "baseline", "arm": "arm", "treated": "immediate"}


@pytest.mark.parametrize("method", ["pooled", "welch"])
@pytest.mark.parametrize("ds", ["a", "b"])
def test_difference_matches_r_t_test(trials, golden, ds, method):
    # R: t.test(chg[immediate], chg[delayed], var.equal = method == "pooled")
    ref = golden("change")[f"{ds}_{method}"]
    res = ct.change_score(trials[ds], **ARGS, method=method)
    for name in HEADLINE:
        assert getattr(res, name) == pytest.approx(ref[name], rel=TOL, abs=TOL), name


@pytest.mark.parametrize("ds", ["a", "b"])
def test_within_arm_matches_r_one_sample_t_test(trials, golden, ds):
    res = ct.change_score(trials[ds], **ARGS)
    within = res.within.set_index("arm")
    for arm in ("immediate", "delayed"):
        ref = golden("change")[f"{ds}_within_{arm}"]
        row = within.loc[arm]
        assert row["n"] == ref["n"]
        for name in ("mean_change", "sd_change", "std_error", "p_value", "conf_low", "conf_high"):
            assert row[name] == pytest.approx(ref[name], rel=TOL, abs=TOL), name


def test_to_frame_and_audit(trials):
    res = ct.change_score(trials["b"], **ARGS, method="welch")
    frame = res.to_frame()
    assert tuple(frame.columns) == EFFECT_COLUMNS
    assert frame.loc[0, "analysis"] == "change_score"
    assert "Welch" in frame.loc[0, "estimand"]
    excluded = trials["b"][["followup", "baseline"]].isna().any(axis=1).sum()
    assert res.audit["n_rows"].sum() == excluded
    assert res.n_treated + res.n_control == len(trials["b"]) - excluded


def test_bad_method():
    frame = pd.DataFrame({"arm": ["x", "y"], "a": [1.0, 2.0], "b": [1.0, 2.0]})
    with pytest.raises(ValueError, match="`method` must be one of 'pooled', 'welch'"):
        ct.change_score(frame, outcome="a", baseline="b", arm="arm", treated="x", method="z")


def test_change_needs_two_rows_per_arm():
    frame = pd.DataFrame({"arm": ["x", "y", "y"], "a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 2.0]})
    with pytest.raises(ValueError, match="at least 2 complete row"):
        ct.change_score(frame, outcome="a", baseline="b", arm="arm", treated="x")


@pytest.mark.parametrize("ds", ["a", "b"])
def test_percent_change_delta_matches_r(trials, golden, ds):
    # R: delta-method variance of mean(follow)/mean(base) written out by formula (reference.R)
    res = ct.percent_change(trials[ds], **ARGS, ci_method="delta")
    per_arm = res.per_arm.set_index("arm")
    for arm in ("immediate", "delayed"):
        ref = golden("percent")[f"{ds}_{arm}"]
        for name in ("percent_change", "std_error", "conf_low", "conf_high"):
            assert per_arm.loc[arm, name] == pytest.approx(ref[name], rel=TOL), name
    ref = golden("percent")[f"{ds}_difference"]
    for name in ("estimate", "std_error", "conf_low", "conf_high"):
        assert getattr(res, name) == pytest.approx(ref[name], rel=TOL), name


def test_percent_change_bootstrap_is_seeded_and_close_to_delta(trials):
    frame = trials["a"]
    one = ct.percent_change(frame, **ARGS, ci_method="bootstrap", n_boot=4000, seed=11)
    two = ct.percent_change(frame, **ARGS, ci_method="bootstrap", n_boot=4000, seed=11)
    delta = ct.percent_change(frame, **ARGS, ci_method="delta")
    pd.testing.assert_frame_equal(one.per_arm, two.per_arm)
    assert one.estimate == delta.estimate  # the point estimate does not resample
    assert one.std_error == pytest.approx(delta.std_error, rel=0.15)
    assert one.conf_low < one.estimate < one.conf_high
    assert one.to_frame().loc[0, "estimand"].startswith("descriptive:")


def test_percent_change_rows_are_paired_complete_cases(trials):
    frame = trials["b"]
    res = ct.percent_change(frame, **ARGS)
    expected = frame.index[frame[["followup", "baseline"]].notna().all(axis=1)]
    pd.testing.assert_index_equal(res.rows, expected)


def test_percent_change_default_treated_ignores_row_order(trials):
    frame = trials["a"].drop(columns=[])
    args = {k: v for k, v in ARGS.items() if k != "treated"}
    one = ct.percent_change(frame, **args)
    two = ct.percent_change(frame.iloc[::-1], **args)
    assert one.treated == two.treated == "delayed"
    assert one.estimate == pytest.approx(two.estimate, rel=1e-12)


def test_percent_change_zero_baseline_mean():
    frame = pd.DataFrame(
        {"arm": ["x"] * 2 + ["y"] * 2, "f": [1.0, 2.0, 1.0, 1.0], "b": [0.0, 0.0, 1.0, 2.0]}
    )
    with pytest.raises(ValueError, match="percent change is undefined"):
        ct.percent_change(frame, outcome="f", baseline="b", arm="arm", treated="x")


@pytest.mark.parametrize(
    ("kw", "match"),
    [({"ci_method": "wald"}, "`ci_method`"), ({"ci_method": "bootstrap", "n_boot": 10}, "n_boot")],
)
def test_percent_change_bad_options(trials, kw, match):
    with pytest.raises(ValueError, match=match):
        ct.percent_change(trials["a"], **ARGS, **kw)


def test_shifting_outcome_and_baseline_leaves_change_unchanged(trials):
    frame = trials["b"].copy()
    shifted = frame.assign(followup=frame["followup"] + 7.5, baseline=frame["baseline"] + 7.5)
    a = ct.change_score(frame, **ARGS)
    b = ct.change_score(shifted, **ARGS)
    assert np.allclose([a.estimate, a.std_error], [b.estimate, b.std_error], rtol=1e-9)
