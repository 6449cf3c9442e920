"""[decision], [business_case] and [evidence]: models for leadership, released like the rest."""

from __future__ import annotations

import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials.pipeline import ConfigError, load_config, run_analysis
from coaching_trials.release import is_hidden
from coaching_trials.report.publish import OUR_TRIAL

PLAN = {
    "data": {"example": "delayed_intervention"},
    "instruments": [{"id": "pfi"}, {"id": "qol"}],
    "analysis": {
        "outcomes": ["pfi_burnout", "pfi_pf", "qol_score"],
        "reliability": False,
        "responders": [{"outcome": "pfi_burnout", "cutpoint": 1.33}],
    },
    "decision": {"priors": ["skeptical", "reference"], "large": 0.5},
    "business_case": {"n_physicians": 400, "cost_per_participant": 2500},
    "evidence": {"scale": 2.5},
    "report": {"figures": False},
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_analysis(PLAN, out=tmp_path_factory.mktemp("dec") / "out")


def _released(run, name):
    return pd.read_csv(
        run.out / "release" / "tables" / f"{name}.csv", dtype=str, keep_default_na=False
    )


def test_the_three_sections_are_in_the_report(run):
    page = (run.out / "release" / "report.html").read_text(encoding="utf-8")
    for anchor in ('id="benefit"', 'id="business-case"', 'id="evidence"'):
        assert anchor in page
    assert "A model, not a measurement" in page


def test_benefit_rows_equal_the_closed_form_and_follow_the_effects(run):
    benefit = _released(run, "benefit")
    effects = run.tables["effects"].set_index("outcome")
    row = benefit[(benefit["outcome"] == "pfi_burnout") & (benefit["prior"] == "reference")]
    # a flat prior: the posterior is the likelihood, mean = estimate
    assert float(row["post_mean"].iloc[0]) == pytest.approx(effects.loc["pfi_burnout", "estimate"])
    # an effect the release hides (its counts protect small missing counts) hides its benefit
    released_effects = _released(run, "effects").set_index("outcome")
    for outcome in benefit["outcome"].unique():
        hidden_effect = is_hidden(released_effects.loc[outcome, "estimate"])
        rows = benefit[benefit["outcome"] == outcome]
        assert rows["p_benefit"].map(is_hidden).all() == hidden_effect


def test_business_case_and_evidence_use_the_trial(run):
    case = _released(run, "business_case").set_index("quantity")
    assert float(case.loc["program_cost", "estimate"]) == pytest.approx(400 * 2500)
    assumptions = _released(run, "business_assumptions").set_index("input")
    # the prevalence is the trial's own: the share at baseline above the burnout cut-point
    scores = run.tables["scores"]
    base = scores.loc[scores["wave"].astype(str) == "baseline", "pfi_burnout"].dropna()
    prevalence = assumptions.loc["burnout_prevalence"]
    assert prevalence["source"].startswith("trial: share at baseline")
    assert float(prevalence["value"]) == pytest.approx((base >= 1.33).mean())
    assert "Shanafelt" in assumptions.loc["turnover_rate", "source"]
    rd = run.tables["responders"]
    rd = rd[rd["analysis"] == "risk_difference"]["estimate"].iloc[0]
    assert float(assumptions.loc["effect", "value"]) == pytest.approx(rd)
    evidence = _released(run, "evidence").set_index("study")
    ours = evidence.loc[OUR_TRIAL]
    est = run.tables["effects"].set_index("outcome").loc["pfi_burnout", "estimate"]
    assert float(ours["estimate"]) == pytest.approx(2.5 * est)
    assert "Kiser 2024" in evidence.index and "pooled (random effects)" in evidence.index


def test_a_small_trial_hides_the_business_case(tmp_path):
    plan = dict(PLAN, report={"figures": False, "min_cell": 70})
    out = run_analysis(plan, out=tmp_path / "out")
    case = _released(out, "business_case")
    assert case["estimate"].map(is_hidden).all()
    assert case["conf_low"].map(is_hidden).all()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"business_case": {"n_physicians": 10}}, "required key `business_case.cost_per"),
        ({"decision": {"priors": ["optimistic"]}}, "`decision.priors` must be one of"),
        ({"evidence": {"method": "ML"}}, "`evidence.method` must be one of"),
    ],
)
def test_decision_config_errors(section, message):
    plan = {"data": {"example": "delayed_intervention"}, "instruments": [{"id": "pfi"}]}
    plan.update(section)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config(plan)


def test_business_case_needs_a_responder_analysis():
    plan = {
        "data": {"example": "delayed_intervention"},
        "instruments": [{"id": "pfi"}],
        "business_case": {"n_physicians": 10, "cost_per_participant": 1},
    }
    with pytest.raises(ConfigError, match="needs a responder definition"):
        load_config(plan)
    assert ct.business_case  # the public function stays available
