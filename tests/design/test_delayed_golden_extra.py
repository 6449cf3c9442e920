"""DelayedInterventionTrial against R, second set (``make_golden_extra.R``).

Golden numbers: ``tests/reference/design/golden_extra.csv`` written by ``make_golden_extra.R``
(R 4.2.2, nlme 3.1-162, emmeans 1.8.4-1, sandwich 3.0-2, lmtest 0.9-40) from
``sample_scored.csv`` and ``sample_participants.csv`` (both exported by ``export_sample.py``).

* cluster-robust comparisons: ``sandwich::vcovCL(fit, cluster, type = "HC1")`` +
  ``lmtest::coeftest(df = G - 1)`` on ``lm(month3 ~ arm + baseline)`` and
  ``lm(change ~ arm)``, clusters = ``coach_id`` (partially nested: delayed-arm participants
  are their own cluster; or as given in both arms); compared at 1e-6.
* trial-level MMRM: ``nlme::gls(REML)`` + ``emmeans`` for (a) the declared design (one
  post-baseline visit, so a single residual variance) and (b) the sample re-declared with the
  endpoint at month6 (visits month3 + month6; ``corSymm`` + ``varIdent``). Estimates and SEs
  at 1e-4 relative; df, p and CI limits at 1e-2 relative, because emmeans 1.8 only
  approximates Satterthwaite df for ``gls`` (``appx-satterthwaite``, see
  ``tests/reference/mmrm_r/README.md``).
* dose-response variants (``lm``) and responders (``prop.test``, ``glm`` + ``confint.default``)
  at 1e-6.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from design_fixtures import DESIGN, FIELDS, OUTCOMES

from coaching_trials.design.delayed import DelayedInterventionTrial


@pytest.fixture(scope="module")
def golden(reference_dir):
    return pd.read_csv(reference_dir / "design" / "golden_extra.csv")


@pytest.fixture(scope="module")
def frames(reference_dir):
    sample = pd.read_csv(reference_dir / "design" / "sample_scored.csv")
    participants = pd.read_csv(reference_dir / "design" / "sample_participants.csv")
    return sample.drop(columns="sessions_attended"), participants


@pytest.fixture(scope="module")
def sample_trial(frames):
    responses, participants = frames
    return DelayedInterventionTrial(responses, participants=participants, **DESIGN)


def _ref(golden, analysis, outcome):
    g = golden[(golden["analysis"] == analysis) & (golden["outcome"] == outcome)]
    assert len(g), (analysis, outcome)
    return g.reset_index(drop=True)


def _close(row, ref, fields=FIELDS, rel=1e-6):
    for f in fields:
        if np.isnan(ref[f]):
            continue
        assert row[f] == pytest.approx(ref[f], rel=rel, abs=1e-12), f


@pytest.mark.parametrize("nested", [True, False], ids=["partially_nested", "as_given"])
@pytest.mark.parametrize(
    "method, analysis, label",
    [("ancova", "ancova_cr1", "ancova_cr1"), ("change", "change_cr1", "change_score_cr1")],
)
def test_cluster_robust_compare_matches_sandwich(
    sample_trial, golden, method, analysis, label, nested
):
    res = sample_trial.compare(
        OUTCOMES, method=method, cluster="coach_id", partially_nested=nested, adjust=None
    )
    eff = res.to_frame().set_index("outcome")
    tag = "nested" if nested else "given"
    for outcome in OUTCOMES:
        ref = _ref(golden, f"{analysis}_{tag}", outcome).iloc[0]
        row = eff.loc[outcome]
        _close(row, ref)
        assert row["analysis"] == label
        assert row["n_treated"] + row["n_control"] == ref["n"]
        assert row["estimand"] == "randomized: immediate vs delayed at month3"


@pytest.mark.parametrize("outcome", ["pfi_burnout", "pfi_pf", "qol_score"])
def test_mmrm_declared_design_matches_gls_emmeans(sample_trial, golden, outcome):
    """One post-baseline visit: the MMRM is the REML gls of month3 on arm + baseline."""
    row = sample_trial.compare(outcome, method="mmrm", adjust=None).to_frame().iloc[0]
    ref = _ref(golden, "mmrm_declared", outcome).iloc[0]
    _close(row, ref, ["estimate", "std_error"], rel=1e-4)
    _close(row, ref, ["df", "p_value", "conf_low", "conf_high"], rel=1e-2)
    assert row["analysis"] == "mmrm" and row["wave"] == "month3"
    assert row["n_treated"] + row["n_control"] == ref["n"]


@pytest.mark.parametrize("outcome", ["pfi_burnout", "pfi_pf", "qol_score"])
def test_mmrm_two_visits_matches_gls_corsymm_varident(frames, golden, outcome):
    """The sample re-declared with the endpoint at month6 (interim wave month3)."""
    responses, participants = frames
    responses = responses.assign(
        wave=pd.Categorical(responses["wave"], ["baseline", "month3", "month6"], ordered=True)
    )
    trial = DelayedInterventionTrial(
        responses,
        participants=participants,
        immediate="immediate",
        delayed="delayed",
        baseline_wave="baseline",
        endpoint_wave="month6",
    )
    eff = trial.compare(outcome, method="mmrm", adjust=None).to_frame()
    ref = _ref(golden, "mmrm_month6", outcome)
    assert eff["wave"].tolist() == ["month3", "month6"]
    for i in range(2):
        assert ref["term"].iloc[i].endswith(eff["wave"].iloc[i])
        _close(eff.iloc[i], ref.iloc[i], ["estimate", "std_error"], rel=1e-4)
        _close(eff.iloc[i], ref.iloc[i], ["df", "p_value", "conf_low", "conf_high"], rel=1e-2)
        wave = eff["wave"].iloc[i]
        assert eff["estimand"].iloc[i] == f"randomized: immediate vs delayed at {wave}"


@pytest.mark.parametrize(
    "period, adjust_baseline, analysis",
    [
        ("immediate", False, "dose_immediate"),
        ("delayed", False, "dose_delayed"),
        ("pooled", True, "dose_pooled_adjusted"),
    ],
)
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_dose_response_variants_match_lm(
    sample_trial, golden, outcome, period, adjust_baseline, analysis
):
    row = (
        sample_trial.dose_response(outcome, period=period, adjust_baseline=adjust_baseline)
        .to_frame()
        .iloc[0]
    )
    ref = _ref(golden, analysis, outcome).iloc[0]
    _close(row, ref)
    assert row["n_treated"] == ref["n"]
    assert row["estimand"].startswith("non-randomized (observational)")


def test_responders_match_prop_test_and_glm(sample_trial, golden):
    res = sample_trial.responders("pfi_burnout", cutpoint=1.33, adjust_baseline=True)
    comp = res.comparisons.set_index("measure")
    rd = _ref(golden, "responders_rd", "pfi_burnout").iloc[0]
    assert comp.loc["risk_difference", "estimate"] == pytest.approx(rd["estimate"], rel=1e-9)
    assert comp.loc["risk_difference", "p_value"] == pytest.approx(rd["p_value"], rel=1e-6)
    assert res.n_treated + res.n_control == rd["n"]
    ref = _ref(golden, "responders_or_adjusted", "pfi_burnout").iloc[0]
    row = comp.loc["odds_ratio_adjusted"]
    for f in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"):
        assert row[f] == pytest.approx(ref[f], rel=1e-5), f
