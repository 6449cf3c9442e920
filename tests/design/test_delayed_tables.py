"""CONSORT flow and baseline table, checked against counts computed directly from the frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from design_fixtures import DESIGN

from coaching_trials.design._tables import _smd_binary, _smd_multinomial
from coaching_trials.design.delayed import DelayedInterventionTrial


def _n(flow, **where):
    sel = np.ones(len(flow), dtype=bool)
    for col, val in where.items():
        sel &= (flow[col].isna() if val is None else flow[col] == val).to_numpy()
    return int(flow.loc[sel, "n"].sum())


@pytest.mark.parametrize("arm", ["immediate", "delayed"])
@pytest.mark.parametrize("outcome", [None, "pfi_pf"])
def test_flow_counts_match_direct_counts(frames, trial, arm, outcome):
    long, part = frames
    flow = trial.flow(outcome)
    assert list(flow.columns) == ["arm", "stage", "wave", "reason", "n"]
    ids = set(part.loc[part["arm"] == arm, "participant_id"])
    assert _n(flow, arm=arm, stage="randomized") == len(ids)
    rows = long[long["participant_id"].isin(ids)]
    if outcome is not None:
        rows = rows[rows[outcome].notna()]
    seen = {
        w: set(rows.loc[rows["wave"] == w, "participant_id"])
        for w in ("baseline", "month3", "month6")
    }
    for w, s in seen.items():
        assert _n(flow, arm=arm, stage="assessed", wave=w) == len(s)
        # every randomized participant is either assessed or not assessed (with some reason)
        assert _n(flow, arm=arm, stage="not assessed", wave=w) == len(ids) - len(s)
    analysed = seen["baseline"] & seen["month3"]
    assert _n(flow, arm=arm, stage="analysed", wave="month3") == len(analysed)
    assert _n(flow, arm=arm, stage="not analysed") == len(ids) - len(analysed)


def test_flow_reasons(frames, trial):
    long, part = frames
    flow = trial.flow()
    lost6 = set(part["participant_id"]) - set(long.loc[long["wave"] == "month6", "participant_id"])
    reasons = part.set_index("participant_id").loc[sorted(lost6), "withdrawal_reason"]
    expected = reasons.fillna("reason not given").value_counts()
    got = flow.query("arm == 'overall' and stage == 'not assessed' and wave == 'month6'")
    assert dict(zip(got["reason"], got["n"], strict=True)) == expected.to_dict()
    # a row present but the score missing is reported as such, not as a withdrawal
    with_outcome = trial.flow("pfi_pf")
    n_missing_score = int(long.loc[long["wave"] == "month3", "pfi_pf"].isna().sum())
    assert (
        _n(with_outcome, arm="overall", wave="month3", reason="pfi_pf missing") == n_missing_score
    )


def test_baseline_table_continuous_and_categorical(frames, trial):
    long, part = frames
    res = trial.baseline_table(["age", "gender", "pfi_pf"])
    tidy = res.to_frame()
    base = long[long["wave"] == "baseline"].set_index("participant_id")["pfi_pf"]
    for arm in ("immediate", "delayed"):
        ids = part.loc[part["arm"] == arm, "participant_id"]
        age = part.loc[part["arm"] == arm, "age"]
        row = tidy.query("variable == 'age' and arm == @arm").iloc[0]
        assert row["mean"] == pytest.approx(age.mean(), rel=1e-12)
        assert row["sd"] == pytest.approx(age.std(), rel=1e-12)
        assert row["median"] == pytest.approx(age.median(), rel=1e-12)
        assert row["q1"] == pytest.approx(age.quantile(0.25), rel=1e-12)
        y = base.reindex(ids)
        row = tidy.query("variable == 'pfi_pf' and arm == @arm").iloc[0]
        assert row["n"] == y.notna().sum() and row["n_missing"] == y.isna().sum()
        assert row["mean"] == pytest.approx(y.mean(), rel=1e-12)
        counts = part.loc[part["arm"] == arm, "gender"].value_counts()
        for lvl, count in counts.items():
            sel = (tidy["variable"] == "gender") & (tidy["level"] == lvl) & (tidy["arm"] == arm)
            r = tidy[sel].iloc[0]
            assert r["count"] == count
            assert r["percent"] == pytest.approx(100 * count / counts.sum())
    # SMD of a continuous variable: (m1 - m2) / sqrt((s1^2 + s2^2) / 2)
    a = part.loc[part["arm"] == "immediate", "age"]
    d = part.loc[part["arm"] == "delayed", "age"]
    smd = (a.mean() - d.mean()) / np.sqrt((a.var() + d.var()) / 2)
    assert tidy.query("variable == 'age'")["smd"].iloc[0] == pytest.approx(smd, rel=1e-12)
    # formatted table: header carries arm sizes, strings formatted
    f = res.formatted
    n_imm = int((part["arm"] == "immediate").sum())
    assert f"immediate (n={n_imm})" in f.columns
    assert (
        f.loc[f["variable"] == "age", f"immediate (n={n_imm})"].iloc[0]
        == f"{a.mean():.2f} ({a.std():.2f})"
    )
    assert base.isna().any()  # the fixture has missing baseline scores
    assert "missing" in f.loc[f["variable"] == "pfi_pf", "level"].tolist()


def test_baseline_table_default_variables_and_median(trial):
    res = trial.baseline_table(continuous="median_iqr", smd=False)
    variables = res.table["variable"].unique().tolist()
    assert variables == ["age", "gender", "pfi_burnout", "pfi_pf"]  # admin columns left out
    assert "SMD" not in res.formatted.columns
    assert res.formatted["level"].iloc[0] == "median [IQR]"
    assert res.table["smd"].isna().all()
    assert "Baseline characteristics" in repr(res) and "<table" in res._repr_html_()


def test_baseline_table_errors(trial):
    with pytest.raises(ValueError, match="`continuous` must be one of"):
        trial.baseline_table(continuous="mean")
    with pytest.raises(ValueError, match="'bmi' is neither a column"):
        trial.baseline_table(["bmi"])


@pytest.mark.parametrize("p1, p2", [(0.3, 0.5), (0.9, 0.1), (0.5, 0.5)])
def test_multinomial_smd_reduces_to_binary(p1, p2):
    # Yang & Dalton (2012): with two levels the multinomial SMD is |binary SMD|
    got = _smd_multinomial(np.array([1 - p1, p1]), np.array([1 - p2, p2]))
    assert got == pytest.approx(abs(_smd_binary(p1, p2)), abs=1e-12)


def test_multinomial_smd_hand_value():
    # three levels, computed by hand: d = (0.3-0.2, 0.2-0.4) = (0.1, -0.2);
    # S = ((diag(t)-tt') + (diag(c)-cc')) / 2 with t=(0.3,0.2), c=(0.2,0.4)
    t, c = np.array([0.3, 0.2]), np.array([0.2, 0.4])
    s = (np.diag(t) - np.outer(t, t) + np.diag(c) - np.outer(c, c)) / 2
    # S = [[0.185, -0.07], [-0.07, 0.20]]; det = 0.0370 - 0.0049 = 0.0321
    # S^-1 d = [0.20*0.1 + 0.07*(-0.2), 0.07*0.1 + 0.185*(-0.2)] / 0.0321 = [0.006, -0.030] / 0.0321
    # d' S^-1 d = (0.1*0.006 + 0.2*0.030) / 0.0321 = 0.0066 / 0.0321
    assert np.allclose(s, [[0.185, -0.07], [-0.07, 0.20]])
    got = _smd_multinomial(np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.2, 0.4]))
    assert got == pytest.approx(np.sqrt(0.0066 / 0.0321), rel=1e-12)


def test_flow_on_categorical_wave_with_unused_level(frames):
    long, _ = frames
    cat = long.assign(
        wave=pd.Categorical(long["wave"], ["baseline", "month3", "month6", "month9"], ordered=True)
    )
    trial = DelayedInterventionTrial(cat, **DESIGN)
    assert set(trial.flow()["wave"].dropna()) == {"baseline", "month3", "month6"}
