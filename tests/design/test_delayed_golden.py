"""DelayedInterventionTrial on the sample trial against R (lm + emmeans, t.test, p.adjust).

Golden numbers: ``tests/reference/design/golden.csv`` written by ``make_golden.R`` (R 4.2.2,
emmeans 1.8.4.1) from ``sample_scored.csv`` (exported by ``export_sample.py``). R does its own
reshaping, so the trial's data alignment is checked as well as its arithmetic.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from design_fixtures import DESIGN, FIELDS, OUTCOMES

from coaching_trials.design.delayed import DelayedInterventionTrial

TOL = 1e-6


@pytest.fixture(scope="module")
def golden(reference_dir):
    return pd.read_csv(reference_dir / "design" / "golden.csv")


@pytest.fixture(scope="module")
def sample(reference_dir):
    return pd.read_csv(reference_dir / "design" / "sample_scored.csv")


@pytest.fixture(scope="module")
def sample_trial(sample):
    participants = sample.drop_duplicates("participant_id")[
        ["participant_id", "arm", "sessions_attended"]
    ]
    responses = sample.drop(columns="sessions_attended")
    return DelayedInterventionTrial(responses, participants=participants, **DESIGN)


def _golden(golden, analysis, outcome=None):
    g = golden[golden["analysis"] == analysis]
    return g if outcome is None else g[g["outcome"] == outcome].iloc[0]


def _close(row, ref, fields=FIELDS):
    for f in fields:
        assert row[f] == pytest.approx(ref[f], rel=TOL, abs=1e-12), f


@pytest.fixture(scope="module")
def ancova_cmp(sample_trial):
    return sample_trial.compare(OUTCOMES, method="ancova", primary="pfi_burnout", adjust="holm")


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_ancova_matches_lm_emmeans(ancova_cmp, golden, outcome):
    eff = ancova_cmp.to_frame().set_index("outcome")
    ref = _golden(golden, "ancova", outcome)
    row = eff.loc[outcome]
    _close(row, ref)
    assert row["n_treated"] + row["n_control"] == ref["n"]
    assert row["contrast"] == "immediate - delayed" and row["wave"] == "month3"
    assert row["estimand"] == "randomized: immediate vs delayed at month3"
    assert row["p_adjusted"] == pytest.approx(_golden(golden, "holm", outcome)["estimate"], rel=TOL)


def test_primary_adjusted_means_match_emmeans(ancova_cmp, golden):
    means = ancova_cmp.fits["pfi_burnout"].adjusted_means.set_index("arm")
    for _, ref in _golden(golden, "adjusted_mean").iterrows():
        _close(
            means.loc[ref["term"]], ref, ["estimate", "std_error", "df", "conf_low", "conf_high"]
        )


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_change_matches_pooled_t_test(sample_trial, golden, outcome):
    row = sample_trial.compare(outcome, method="change", adjust=None).to_frame().iloc[0]
    ref = _golden(golden, "change", outcome)
    _close(row, ref)
    assert np.isnan(row["p_adjusted"])


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_descriptives_match_r(ancova_cmp, golden, outcome):
    desc = ancova_cmp.descriptives.set_index(["outcome", "arm"])
    for arm in ("immediate", "delayed"):
        d = desc.loc[(outcome, arm)]
        g = golden[(golden["outcome"] == outcome) & (golden["term"] == arm)].set_index("analysis")
        assert d["percent_change"] == pytest.approx(g.loc["percent_change", "estimate"], rel=TOL)
        assert d["percent_change_n"] == g.loc["percent_change", "n"]
        for wave in ("baseline", "endpoint"):
            ref = g.loc[f"{wave}_mean"]
            assert d[f"{wave}_mean"] == pytest.approx(ref["estimate"], rel=TOL)
            assert d[f"{wave}_sd"] == pytest.approx(ref["std_error"], rel=TOL)
            assert d[f"{wave}_n"] == ref["n"]


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_delayed_arm_prepost_matches_paired_t_test(sample_trial, golden, outcome):
    eff = sample_trial.delayed_arm_prepost(outcome).to_frame()
    for i, analysis in enumerate(("delayed_prepost", "delayed_within")):
        ref = _golden(golden, analysis, outcome)
        _close(eff.iloc[i], ref)
        assert eff["contrast"].iloc[i] == ref["term"]
        assert eff["n_treated"].iloc[i] == ref["n"]


@pytest.mark.parametrize(
    "method, analysis",
    [
        ("pooled_prepost", "pooled_prepost"),
        ("durability", "durability"),
        ("dose_response", "dose_response"),
    ],
)
@pytest.mark.parametrize("outcome", ["pfi_burnout", "qol_score"])
def test_other_nonrandomized_match_r(sample_trial, golden, method, analysis, outcome):
    row = getattr(sample_trial, method)(outcome).to_frame().iloc[0]
    ref = _golden(golden, analysis, outcome)
    _close(row, ref)
    assert row["n_treated"] == ref["n"]
    assert row["estimand"].startswith("non-randomized")


def test_exported_sample_is_current(sample, reference_dir):
    """The CSV R read must still be the package's scored sample (else re-run both scripts)."""
    path = reference_dir / "design" / "export_sample.py"
    spec = importlib.util.spec_from_file_location("export_sample", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = module.scored_sample()
    assert (
        current[["participant_id", "arm", "wave"]]
        .astype(str)
        .equals(sample[["participant_id", "arm", "wave"]].astype(str))
    )
    np.testing.assert_allclose(
        current[OUTCOMES].to_numpy(float),
        sample[OUTCOMES].to_numpy(float),
        rtol=1e-9,
        equal_nan=True,
    )
    assert current["sessions_attended"].tolist() == sample["sessions_attended"].tolist()
    participants = pd.read_csv(reference_dir / "design" / "sample_participants.csv")
    pd.testing.assert_frame_equal(
        module.participants_sample().astype(str).reset_index(drop=True),
        participants.astype(str),
        check_dtype=False,
    )
