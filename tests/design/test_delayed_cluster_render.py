"""Clustered comparisons, responders labelling, messages and Jupyter rendering of the trial."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from design_fixtures import DESIGN, make_trial_frames

from coaching_trials._errors import DataValidationError
from coaching_trials.design.delayed import DelayedInterventionTrial


@pytest.fixture
def clustered(frames):
    """The synthetic trial with coaches C1..C5 (immediate arm) and groups G1..G4 (both arms)."""
    long, part = frames
    part = part.copy()
    idx = np.arange(len(part))
    part["coach_id"] = np.where(part["arm"] == "immediate", "C" + (idx % 5 + 1).astype(str), None)
    part["clinic"] = "G" + (idx % 4 + 1).astype(str)
    part.loc[part.index[0], "clinic"] = None
    return DelayedInterventionTrial(long, participants=part, **DESIGN), part


def _cr1_by_hand(y, treated, clusters):
    """Independent CR1 (Cameron & Miller 2015, eq. 11) with statsmodels' cluster option."""
    import statsmodels.api as sm

    x = sm.add_constant(treated.astype(float))
    fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(clusters)[0]})
    return fit.params[1], fit.bse[1]


@pytest.mark.parametrize("nested", [True, False])
def test_clustered_change_equals_statsmodels_cr1(clustered, nested):
    trial, part = clustered
    cluster = "coach_id" if nested else "clinic"
    wide = trial.wide("pfi_burnout", waves=["baseline", "month3"])
    change = (wide["pfi_burnout__month3"] - wide["pfi_burnout__baseline"]).to_numpy()
    ok = np.isfinite(change)
    ids = part.set_index("participant_id").loc[wide["participant_id"], cluster].to_numpy(object)
    own = pd.isna(ids) | ((wide["arm"] == "delayed").to_numpy() & nested)
    labels = np.where(own, "own " + wide["participant_id"].to_numpy(str), ids)
    est, se = _cr1_by_hand(change[ok], (wide["arm"] == "immediate").to_numpy()[ok], labels[ok])
    row = (
        trial.compare("pfi_burnout", method="change", cluster=cluster, partially_nested=nested)
        .to_frame()
        .iloc[0]
    )
    assert row["estimate"] == pytest.approx(est, rel=1e-10)
    assert row["std_error"] == pytest.approx(se, rel=1e-10)
    assert row["df"] == len(set(labels[ok])) - 1
    assert row["analysis"] == "change_score_cr1"


@pytest.mark.parametrize("method", ["ancova", "change"])
def test_clustering_changes_only_the_uncertainty(clustered, method):
    trial, _ = clustered
    plain = trial.compare(["pfi_burnout", "pfi_pf"], method=method).to_frame()
    cl = trial.compare(["pfi_burnout", "pfi_pf"], method=method, cluster="coach_id").to_frame()
    np.testing.assert_allclose(cl["estimate"], plain["estimate"], rtol=1e-12)
    assert (cl["std_error"] != plain["std_error"]).all()
    assert (cl["conf_low"] <= cl["estimate"]).all() and (cl["estimate"] <= cl["conf_high"]).all()


def test_cluster_audit_reports_singletons(clustered):
    trial, part = clustered
    audit = trial.compare("pfi_burnout", cluster="clinic").audit
    nested = audit[audit["reason"].str.startswith("partially nested")]
    assert nested["n_rows"].tolist() == [int((part["arm"] == "delayed").sum())]
    res = trial.compare("pfi_burnout", cluster="clinic", partially_nested=False)
    lone = res.audit[res.audit["reason"] == "no 'clinic': analysed as its own cluster"]
    assert lone["n_rows"].tolist() == [1]
    assert part["participant_id"].iloc[0] in lone["detail"].iloc[0]
    assert "CR1 clustered by clinic" in res.summary()


@pytest.mark.parametrize(
    "kwargs, exc, fragment",
    [
        (dict(method="mmrm", cluster="coach_id"), ValueError, "not supported with method='mmrm'"),
        (dict(cluster=3), TypeError, "`cluster` must be a column name"),
        (dict(cluster="team"), DataValidationError, "'team' is neither a column"),
        (dict(cluster="clinic", covariates=("clinic",)), ValueError, "also listed in"),
        (dict(cluster="clinic", partially_nested="yes"), TypeError, "`partially_nested`"),
        (
            dict(method="change", cluster="clinic", covariates=("age",)),
            ValueError,
            "not used by method='change'",
        ),
    ],
)
def test_cluster_bad_options(clustered, kwargs, exc, fragment):
    trial, _ = clustered
    with pytest.raises(exc, match=fragment):
        trial.compare("pfi_burnout", **kwargs)


@pytest.mark.parametrize(
    "outcome, direction, expected",
    [
        ("pfi_burnout", ">=", "bad"),  # higher is worse
        ("pfi_burnout", "<", "good"),
        ("pfi_pf", ">=", "good"),  # higher is better
        ("pfi_pf", "<=", "bad"),
        ("custom_score", ">=", "good"),  # not a registered score: the analysis default
    ],
)
def test_responders_event_direction_inferred(frames, outcome, direction, expected):
    long, part = frames
    long = long.assign(custom_score=long["pfi_pf"])
    trial = DelayedInterventionTrial(long, participants=part, **DESIGN)
    res = trial.responders(outcome, cutpoint=1.5, direction=direction)
    assert res.event_is == expected
    assert res.event == f"{outcome} {direction} 1.5 at month3"
    frame = res.to_frame()
    assert (frame["outcome"] == outcome).all() and (frame["wave"] == "month3").all()
    assert frame["estimand"].str.contains(" at month3 ").all()
    other = "good" if expected == "bad" else "bad"
    flipped = trial.responders(outcome, cutpoint=1.5, direction=direction, event_is=other)
    assert flipped.event_is == other


def test_responders_audit_names_participants(trial):
    res = trial.responders("pfi_burnout", cutpoint=1.33)
    assert res.audit["detail"].str.contains("P0").all()


def test_baseline_table_keeps_categorical_level_order(frames):
    long, part = frames
    part = part.assign(
        band=pd.Categorical(
            np.where(part["age"] < 40, "<40", np.where(part["age"] < 50, "40-49", "50+")),
            ["<40", "40-49", "50+"],
            ordered=True,
        )
    )
    trial = DelayedInterventionTrial(long, participants=part, **DESIGN)
    tab = trial.baseline_table(["band"]).formatted
    assert tab["level"].tolist() == ["n (%)", "<40", "40-49", "50+"]


def test_unscored_outcome_names_the_instrument(frames):
    long, part = frames
    trial = DelayedInterventionTrial(long, participants=part, **DESIGN)
    with pytest.raises(DataValidationError, match=r"ct\.score\(responses, 'uwes9'\)") as err:
        trial.compare(["pfi_burnout", "uwes9_total"])
    assert err.value.failure_cases["column"].tolist() == ["uwes9_total"]


def _renderings(trial):
    yield trial
    yield trial.baseline_table()
    for method in ("ancova", "change", "mmrm"):
        yield trial.compare(["pfi_burnout", "pfi_pf"], method=method, primary="pfi_burnout")
    yield trial.delayed_arm_prepost("pfi_burnout")
    yield trial.pooled_prepost("pfi_burnout")
    yield trial.durability("pfi_burnout")
    yield trial.dose_response("pfi_burnout")
    yield trial.responders("pfi_burnout", cutpoint=1.33)


def test_every_result_renders_in_jupyter():
    long, part = make_trial_frames()
    long = long.assign(arm=long["arm"].replace({"immediate": "coach <now>"}))
    part = part.assign(arm=part["arm"].replace({"immediate": "coach <now>"}))
    trial = DelayedInterventionTrial(
        long, participants=part, **{**DESIGN, "immediate": "coach <now>"}
    )
    seen = set()
    for obj in _renderings(trial):
        seen.add(type(obj).__name__)
        html = obj._repr_html_()
        assert html.startswith("<div>") and html.endswith("</div>"), type(obj).__name__
        assert "<now>" not in html, type(obj).__name__  # labels are HTML-escaped
        assert isinstance(repr(obj), str) and repr(obj)
    assert seen == {
        "DelayedInterventionTrial",
        "BaselineTable",
        "TrialComparison",
        "TrialEffects",
        "TrialResponders",
    }
    assert "&lt;now&gt;" in trial._repr_html_()


def test_comparison_html_carries_descriptives_and_effect_sizes(trial):
    html = trial.compare(["pfi_burnout", "pfi_pf"])._repr_html_()
    for part in ("Per-arm descriptives", "Standardized effect sizes", "d_ppc2", "percent_change"):
        assert part in html
    assert "Standardized effect sizes" in trial.compare("pfi_burnout").summary()


def test_trial_html_describes_the_design(trial):
    html = trial._repr_html_()
    for fragment in ("immediate (n=30)", "delayed (n=32)", "immediate vs delayed at month3"):
        assert fragment in html
