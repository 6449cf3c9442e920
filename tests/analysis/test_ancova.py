"""ANCOVA against R lm + emmeans (+ sandwich HC3 / vcovCL CR1); see tests/reference/analysis."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials._errors import DataValidationError
from coaching_trials._results import EFFECT_COLUMNS

TOL = 1e-6
MODELS = {"plain": (), "cov": ("age", "site")}
VCOV = {"classical": {}, "HC3": {"robust": "HC3"}, "CR1": {"cluster": "coach"}}
HEADLINE = ("estimate", "std_error", "df", "statistic", "p_value", "conf_low", "conf_high")


def fit(frame, model="cov", vcov="classical", **kw):
    return ct.ancova(
        frame,
        outcome="followup",
        arm="arm",
        baseline="baseline",
        treated="immediate",
        covariates=MODELS[model],
        **VCOV[vcov],
        **kw,
    )


@pytest.mark.parametrize("vcov", list(VCOV))
@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("ds", ["a", "b"])
def test_matches_r_lm_emmeans(trials, golden, ds, model, vcov):
    # R: lm(followup ~ arm + baseline [+ age + site]); emmeans(fit, "arm", vcov. = V)
    ref = golden("ancova")[f"{ds}_{model}_{vcov}"]
    res = fit(trials[ds], model, vcov)
    for name in HEADLINE:
        assert getattr(res, name) == pytest.approx(ref[name], rel=TOL, abs=TOL), name
    assert (res.n_treated, res.n_control) == (ref["n_treated"], ref["n_control"])
    base = res.coefficients.set_index("term").loc["baseline"]
    assert base["estimate"] == pytest.approx(ref["baseline_coef"], rel=TOL)
    assert base["std_error"] == pytest.approx(ref["baseline_se"], rel=TOL)
    means = res.adjusted_means.set_index("arm")
    for arm in ("immediate", "delayed"):
        row = means.loc[arm]
        assert row["estimate"] == pytest.approx(ref[f"emmean_{arm}"], rel=TOL)
        assert row["std_error"] == pytest.approx(ref[f"emmean_se_{arm}"], rel=TOL)
        assert row["conf_low"] == pytest.approx(ref[f"emmean_low_{arm}"], rel=TOL)
        assert row["conf_high"] == pytest.approx(ref[f"emmean_high_{arm}"], rel=TOL)
        if vcov != "CR1":  # emmeans' own interval (residual df)
            assert row["conf_low"] == pytest.approx(ref[f"emmeans_lower_CL_{arm}"], rel=TOL)
    assert res.vcov_type == vcov
    assert res.n_clusters == (trials[ds]["coach"].nunique() if vcov == "CR1" else None)


def test_adjusted_means_difference_is_the_contrast(trials):
    res = fit(trials["b"])
    means = res.adjusted_means.set_index("arm")["estimate"]
    assert means["immediate"] - means["delayed"] == pytest.approx(res.estimate, rel=1e-12)


def test_audit_counts_every_excluded_row_once(trials, golden):
    frame = trials["b"]
    res = fit(frame)
    ref = golden("ancova")["b_cov_classical"]
    audit = res.audit.set_index("reason")["n_rows"]
    assert audit.sum() == len(frame) - ref["n_treated"] - ref["n_control"]
    missing_follow = frame["followup"].isna()
    assert audit["missing outcome 'followup'"] == missing_follow.sum()
    base_only = frame["baseline"].isna() & ~missing_follow
    assert audit.get("missing baseline 'baseline'", 0) == base_only.sum()
    site_only = frame["site"].isna() & ~missing_follow & ~frame["baseline"].isna()
    assert audit.get("missing covariate 'site'", 0) == site_only.sum()
    assert list(res.audit.columns) == ["step", "reason", "n_rows", "detail"]


def test_no_exclusions_gives_empty_audit(trials):
    assert fit(trials["a"]).audit.empty


def test_to_frame_schema_and_labels(trials):
    res = fit(trials["a"])
    frame = res.to_frame()
    assert tuple(frame.columns) == EFFECT_COLUMNS
    row = frame.iloc[0]
    assert row["analysis"] == "ancova"
    assert row["contrast"] == "immediate - delayed"
    assert row["estimand"].startswith("randomized: immediate vs delayed")
    assert row["conf_level"] == 0.95
    assert row["estimate"] == res.estimate
    assert "ANCOVA" in res.summary() and "<table" in res._repr_html_()


def test_result_is_frozen_and_input_untouched(trials):
    frame = trials["b"].copy()
    before = frame.copy()
    res = fit(frame)
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 0.0


def test_row_order_changes_nothing(trials):
    frame = trials["b"]
    shuffled = frame.sample(frac=1.0, random_state=3)
    a, b = fit(frame, vcov="CR1"), fit(shuffled, vcov="CR1")
    for name in HEADLINE:
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-10)


def test_categorical_dtype_uses_category_order_for_reference(trials):
    frame = trials["a"].copy()
    frame["site"] = pd.Categorical(frame["site"], categories=["west", "north", "south"])
    res = fit(frame)
    ref = fit(trials["a"])
    assert "site[north]" in set(res.coefficients["term"])
    assert res.estimate == pytest.approx(ref.estimate, rel=1e-10)
    # equal-weight averaging over levels does not depend on the reference level
    pd.testing.assert_series_equal(
        res.adjusted_means["estimate"], ref.adjusted_means["estimate"], rtol=1e-10
    )


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "match"),
    [
        ("third_arm", {}, ValueError, "exactly two arms"),
        ("none", {"treated": "coached"}, ValueError, "`treated` must be one of"),
        ("empty_arm", {}, DataValidationError, "at least 2 complete row"),
        ("one_left", {}, DataValidationError, r"at least 2 complete row.*'delayed': 1"),
        ("text_outcome", {}, DataValidationError, "non-numeric"),
        ("none", {"outcome": "nope"}, ValueError, "not found"),
        ("none", {"robust": "HC1"}, ValueError, "`robust` must be one of"),
        ("none", {"robust": "HC3", "cluster": "coach"}, ValueError, "cannot both"),
        ("none", {"conf_level": 95}, ValueError, "strictly between 0 and 1"),
        ("none", {"covariates": ("baseline",)}, ValueError, "must not repeat"),
        ("constant_cov", {"covariates": ("k",)}, ValueError, "not of full rank"),
    ],
)
def test_errors(trials, change, kwargs, error, match):
    frame = trials["a"].copy()
    if change == "third_arm":
        frame.loc[frame.index[:3], "arm"] = "other"
    elif change == "empty_arm":
        frame.loc[frame["arm"] == "delayed", "followup"] = np.nan
    elif change == "one_left":  # a single participant would fit its own residual exactly
        delayed = frame.index[frame["arm"] == "delayed"]
        frame.loc[delayed[1:], "followup"] = np.nan
    elif change == "text_outcome":
        frame["followup"] = frame["followup"].astype(object)
        frame.loc[frame.index[2], "followup"] = "n/a"
    elif change == "constant_cov":
        frame["k"] = 1.0
    args = {
        "outcome": "followup",
        "arm": "arm",
        "baseline": "baseline",
        "treated": "immediate",
        **kwargs,
    }
    with pytest.raises(error, match=match):
        ct.ancova(frame, **args)


def test_text_outcome_error_names_rows_and_values(trials):
    frame = trials["a"].copy()
    frame["followup"] = frame["followup"].astype(object)
    frame.loc[[4, 9], "followup"] = "n/a"
    with pytest.raises(DataValidationError) as info:
        fit(frame, model="plain")
    cases = info.value.failure_cases
    assert cases.loc[0, "column"] == "followup"
    assert cases.loc[0, "rows"] == [4, 9]
    assert "'n/a'" in str(info.value)


def test_not_a_dataframe():
    with pytest.raises(TypeError, match="pandas DataFrame"):
        ct.ancova({"a": [1]}, outcome="a", arm="b", baseline="c", treated="x")


def test_row_with_missing_arm_is_excluded_and_audited():
    import numpy as np
    import pandas as pd

    import coaching_trials as ct

    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "arm": ["a", "b"] * 10 + [None],
            "base": rng.normal(size=21),
            "follow": rng.normal(size=21),
        }
    )
    fit = ct.ancova(frame, outcome="follow", arm="arm", baseline="base", treated="a")
    audit = fit.audit.set_index("reason")["n_rows"]
    assert audit["missing arm 'arm'"] == 1
    assert fit.n_treated + fit.n_control == 20
