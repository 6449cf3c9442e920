"""Hedges' g / Cohen's d and Morris d_ppc2 against the formulas evaluated in R (reference.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials._results import EFFECT_COLUMNS
from coaching_trials.analysis.effect_size import hedges_correction

TOL = 1e-6


@pytest.mark.parametrize("conf_level", [0.95, 0.9])
@pytest.mark.parametrize("kind", ["hedges_g", "cohen_d"])
@pytest.mark.parametrize("ds", ["a", "b"])
def test_smd_matches_r(trials, golden, ds, kind, conf_level):
    # R: d on pooled SD; CI by inverting pt(t, df, ncp) with uniroot; g = J * d (exact J)
    ref = golden("effect_size")[f"{ds}_{conf_level:g}"]
    res = ct.effect_size(
        trials[ds],
        outcome="followup",
        arm="arm",
        treated="immediate",
        kind=kind,
        conf_level=conf_level,
    )
    assert res.estimate == pytest.approx(ref[kind], rel=TOL)
    assert res.conf_low == pytest.approx(ref[f"{kind}_low"], rel=TOL, abs=TOL)
    assert res.conf_high == pytest.approx(ref[f"{kind}_high"], rel=TOL, abs=TOL)
    assert res.std_error == pytest.approx(ref[f"{kind}_se"], rel=TOL)
    assert res.statistic == pytest.approx(ref["statistic"], rel=TOL)
    assert res.p_value == pytest.approx(ref["p_value"], rel=TOL)
    assert res.to_frame().loc[0, "analysis"] == kind


@pytest.mark.parametrize("conf_level", [0.95, 0.9])
@pytest.mark.parametrize("ds", ["a", "b"])
def test_ppc_matches_r(trials, golden, ds, conf_level):
    # R: Morris (2008) d_ppc2 and eq. 25 variance written out, rho = pooled within-arm r
    ref = golden("effect_size")[f"{ds}_{conf_level:g}"]
    res = ct.ppc_effect_size(
        trials[ds],
        outcome="followup",
        baseline="baseline",
        arm="arm",
        treated="immediate",
        conf_level=conf_level,
    )
    assert res.estimate == pytest.approx(ref["ppc"], rel=TOL)
    assert res.std_error == pytest.approx(ref["ppc_se"], rel=TOL)
    assert res.conf_low == pytest.approx(ref["ppc_low"], rel=TOL)
    assert res.conf_high == pytest.approx(ref["ppc_high"], rel=TOL)
    assert res.correlation == pytest.approx(ref["ppc_rho"], rel=TOL)
    assert res.correction == pytest.approx(ref["ppc_cp"], rel=1e-12)
    frame = res.to_frame()
    assert tuple(frame.columns) == EFFECT_COLUMNS and frame.loc[0, "analysis"] == "d_ppc2"


@pytest.mark.parametrize("df", [4, 10, 38, 136])
def test_hedges_correction_close_to_approximation(df):
    # Hedges (1981): J(m) ~= 1 - 3 / (4m - 1), error O(m^-2)
    assert hedges_correction(df) == pytest.approx(1 - 3 / (4 * df - 1), abs=0.3 / df**2)


def test_ppc_counts_dropout_in_audit(trials):
    frame = trials["b"]
    res = ct.ppc_effect_size(
        frame, outcome="followup", baseline="baseline", arm="arm", treated="immediate"
    )
    excluded = frame[["followup", "baseline"]].isna().any(axis=1).sum()
    assert res.audit["n_rows"].sum() == excluded


def test_bad_kind(trials):
    with pytest.raises(ValueError, match="`kind` must be one of 'hedges_g', 'cohen_d'"):
        ct.effect_size(
            trials["a"], outcome="followup", arm="arm", treated="immediate", kind="glass"
        )


def test_constant_baseline_is_an_error():
    frame = pd.DataFrame(
        {"arm": ["a", "a", "b", "b"], "pre": 2.0, "post": np.array([1.0, 2.0, 3.0, 1.0])}
    )
    with pytest.raises(ValueError, match="pooled SD of 'pre' is 0"):
        ct.ppc_effect_size(frame, outcome="post", baseline="pre", arm="arm", treated="a")
