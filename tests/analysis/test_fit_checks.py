"""Untrustworthy REML fits withhold their inference (NaN df/p/CI, flag, note, audit, warning).

Boundary case: ``tests/reference/mmrm_boundary`` -- 200 subjects, 4 visits, only 6 reach the
last one. The unstructured REML likelihood is unbounded there and ``nlme::gls`` stops with an
error (``golden_r_outcome.csv``, written by ``make_golden.R``); with compound symmetry R fits
and the package must agree with it and report its inference as usual.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coaching_trials._errors import ConvergenceWarning
from coaching_trials.analysis import _fit_checks
from coaching_trials.analysis.clustered import clustered_ancova
from coaching_trials.analysis.mmrm import fit_gls, mmrm

BOUNDARY = Path(__file__).resolve().parents[1] / "reference" / "mmrm_boundary"
MODEL = dict(
    outcome="AVAL", arm="ARMCD", visit="AVISIT", subject="USUBJID", treated="TRT", baseline="BASE"
)
INFERENCE = ["df", "statistic", "p_value", "conf_low", "conf_high"]


@pytest.fixture(scope="module")
def sparse() -> pd.DataFrame:
    return pd.read_csv(BOUNDARY / "sparse_last_visit.csv")


@pytest.fixture(scope="module")
def r_outcome() -> pd.DataFrame:
    return pd.read_csv(BOUNDARY / "golden_r_outcome.csv").set_index("structure")


@pytest.fixture(scope="module")
def unbounded(sparse):
    with pytest.warns(ConvergenceWarning) as record:
        res = mmrm(sparse, **MODEL, covariance="unstructured")
    return res, [str(w.message) for w in record]


# ----------------------------------------------------------------------------- mmrm
def test_r_refuses_the_unstructured_fit(r_outcome):
    assert not bool(r_outcome.loc["unstructured", "fitted"])
    assert bool(r_outcome.loc["compound_symmetry", "fitted"])


def test_unbounded_mmrm_withholds_inference(unbounded):
    res, _ = unbounded
    frame = res.to_frame()
    assert frame[INFERENCE].isna().all().all()
    assert frame["estimate"].notna().all() and frame["std_error"].notna().all()
    for name in ("df", "p_value", "conf_low", "conf_high", "statistic"):
        assert np.isnan(getattr(res, name)), name
    assert not res.converged
    assert res.lsmeans[["df", "conf_low", "conf_high"]].isna().all().all()
    assert res.coefficients[INFERENCE].isna().all().all()
    anova = res.anova()
    assert anova[["den_df", "f_value", "p_value"]].isna().all().all()
    assert res.slice_tests()["p_value"].isna().all()


def test_unbounded_mmrm_note_warning_and_audit(unbounded):
    res, messages = unbounded
    for text in (res.note, messages[0]):
        assert "inference withheld" in text
        assert "variance at zero" in text and "visit V4" in text
        assert "not positive definite" in text
        assert "compound_symmetry" in text and "pool sparse visits" in text
        assert "V4, has 6 observations of 200 subjects" in text
    audit = res.audit.set_index("reason")
    assert audit.loc[_fit_checks.WITHHELD, "detail"] == res.note
    assert "Note: inference withheld" in res.summary()


def test_compound_symmetry_on_the_same_data_matches_r(sparse, r_outcome):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a sound fit raises no warning
        res = mmrm(sparse, **MODEL, covariance="compound_symmetry")
    assert res.converged and res.note == ""
    ref = r_outcome.loc["compound_symmetry"]
    assert res.estimate == pytest.approx(ref["v4_estimate"], rel=1e-5)
    assert res.std_error == pytest.approx(ref["v4_std_error"], rel=1e-4)
    assert res.to_frame()[INFERENCE].notna().all().all()
    assert _fit_checks.WITHHELD not in set(res.audit["reason"])


def test_pooling_the_sparse_visit_restores_inference(sparse):
    pooled = sparse.assign(AVISIT=sparse["AVISIT"].replace({"V4": "V3"}))
    pooled = pooled.dropna(subset=["AVAL"]).drop_duplicates(["USUBJID", "AVISIT"], keep="last")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = mmrm(pooled, **MODEL)
    assert res.converged and np.isfinite(res.p_value)


def test_optimiser_stopped_early_withholds_inference():
    rng = np.random.default_rng(3)
    subject = np.repeat(np.arange(40), 3)
    visit = np.tile([1, 2, 3], 40)
    arm = np.repeat(rng.integers(0, 2, 40), 3)
    y = 10 + arm + rng.normal(size=40).repeat(3) + rng.normal(size=120)
    x = np.column_stack([np.ones(120), arm])
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        fit = fit_gls(y, x, subject, visit, control={"maxiter": 1, "gtol": 1e-300})
    assert not fit.inference_ok and "did not converge" in fit.note
    assert fit.coefficients[INFERENCE].isna().all().all()
    assert fit.f_test([0, 1])[["den_df", "p_value"]].isna().all().all()
    fine = fit_gls(y, x, subject, visit)
    assert fine.inference_ok and fine.note == ""
    assert fine.coefficients["estimate"].to_numpy() == pytest.approx(
        fit.coefficients["estimate"].to_numpy(), rel=1e-2
    )


# ----------------------------------------------------------------------------- clustered_ancova
def exact_control_arm() -> pd.DataFrame:
    """Wait-list follow-up an exact linear function of baseline: its residual variance is 0 and
    the heteroscedastic REML likelihood is unbounded."""
    rng = np.random.default_rng(4)
    groups = np.repeat([f"G{g}" for g in range(10)], 4)
    frame = pd.DataFrame(
        {
            "arm": ["coached"] * 40 + ["waitlist"] * 40,
            "group": list(groups) + [None] * 40,
            "base": rng.normal(2, 0.8, 80).round(3),
        }
    )
    effect = np.r_[rng.normal(0, 0.4, 10)[np.arange(40) // 4], np.zeros(40)]
    noise = np.r_[rng.normal(0, 0.5, 40), np.zeros(40)]
    frame["follow"] = 0.6 * frame["base"] - 0.5 * (frame["arm"] == "coached") + effect + noise
    return frame


def test_clustered_residual_variance_at_zero_withholds_inference():
    kw = dict(outcome="follow", arm="arm", baseline="base", treated="coached", cluster="group")
    with pytest.warns(ConvergenceWarning, match="inference withheld") as record:
        res = clustered_ancova(exact_control_arm(), **kw)
    assert "heteroscedastic=False" in str(record[0].message)
    assert not res.converged and "residual variance (waitlist)" in res.note
    assert res.to_frame()[INFERENCE].isna().all().all()
    assert np.isfinite(res.estimate) and np.isfinite(res.std_error)
    assert _fit_checks.WITHHELD in set(res.audit["reason"])
    assert "Note: inference withheld" in res.summary()


# ----------------------------------------------------------------------------- the checks
def test_conditional_variance_ratio():
    sigma = np.array([[1.0, 0.5], [0.5, 1.0]])
    assert _fit_checks.conditional_variance_ratio(sigma) == pytest.approx([0.75, 0.75])
    singular = np.array([[1.0, 1.0], [1.0, 1.0]])
    assert np.all(_fit_checks.conditional_variance_ratio(singular) < 1e-8)
    assert _fit_checks.conditional_variance_ratio(np.array([[2.0]])) == pytest.approx([1.0])


@pytest.mark.parametrize(
    ("hessian", "bad"),
    [
        (np.diag([2.0, 1.0]), False),
        (np.diag([2.0, -1.0]), True),
        (np.diag([2.0, 0.0]), True),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), True),
    ],
)
def test_information_problem(hessian, bad):
    assert (_fit_checks.information_problem(hessian) is not None) is bad


def test_diagnosis_lists_every_failed_check():
    diag = _fit_checks.diagnose(
        gradient_message="stopped",
        hessian=np.diag([1.0, -1.0]),
        variance_ratios=[("a", 0.5), ("b", 1e-9)],
        advice="Do this",
    )
    assert not diag.ok and len(diag.problems) == 3
    assert diag.note.endswith("Do this") and "b (1e-09)" in diag.note
    assert _fit_checks.diagnose(gradient_message=None, hessian=np.eye(2), advice="x").ok
