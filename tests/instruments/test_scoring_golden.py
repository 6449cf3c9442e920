"""ct.score against an independent base-R implementation of the scoring rules.

Inputs: ``tests/reference/instruments/input_*.csv`` (written by ``make_inputs.py``, numpy
only). Goldens: ``golden_*.csv`` written by ``make_golden.R`` (base R: reverse keys,
``rowMeans(na.rm = TRUE)`` with the minimum-answered rule, prorated sums = mean x n, metric
transforms, cut-point flags with R's three-valued ``|`` for the MBI composite). The R script
re-implements the rules from the instrument facts, not from the Python engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct

REF = Path(__file__).resolve().parents[1] / "reference" / "instruments"
TOL = 1e-12

CASES = [
    ("pfi", "mean"),
    ("pfi", "sum"),
    ("pfi", "0-10"),
    ("pfi", "0-100"),
    ("cbi", "0-100"),
    ("cbi", "mean"),
    ("mbi", "sum"),
    ("mbi", "mean"),
]


def _inputs(instrument: str) -> pd.DataFrame:
    frame = pd.read_csv(REF / f"input_{instrument}.csv", dtype={"row_id": str})
    return frame.set_index("row_id")


def _golden(instrument: str, metric: str) -> pd.DataFrame:
    gold = pd.read_csv(REF / f"golden_{instrument}.csv", dtype={"row_id": str, "metric": str})
    return gold.loc[gold["metric"] == metric].drop(columns="metric").set_index("row_id")


@pytest.mark.parametrize(("instrument", "metric"), CASES)
def test_scores_match_base_r(instrument: str, metric: str) -> None:
    data = _inputs(instrument)
    gold = _golden(instrument, metric)
    assert len(gold) == len(data) > 0
    out = ct.score(data, instrument, metric=metric)
    inst = ct.get_instrument(instrument)
    for col in inst.subscale_columns().values():
        got = out[col].to_numpy(dtype="float64", na_value=np.nan)
        want = gold.loc[out.index, col].to_numpy(dtype="float64")
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=col)
        np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL, equal_nan=True, err_msg=col)


@pytest.mark.parametrize(("instrument", "metric"), CASES)
def test_flags_match_base_r(instrument: str, metric: str) -> None:
    data = _inputs(instrument)
    gold = _golden(instrument, metric)
    out = ct.score(data, instrument, metric=metric)
    scores = set(ct.get_instrument(instrument).subscale_columns().values())
    flag_cols = [c for c in gold.columns if c not in scores]
    assert set(flag_cols) == set(out.columns) - set(data.columns) - scores
    for col in flag_cols:
        got = out[col].astype("boolean")
        want = gold.loc[out.index, col].astype("boolean")
        pd.testing.assert_series_equal(got, want, check_names=False, check_index=True)


def test_golden_covers_the_rule_boundaries() -> None:
    """The R golden is only useful if it exercises NA, prorating and each flag both ways."""
    for instrument in ("pfi", "cbi", "mbi"):
        gold = _golden(instrument, ct.get_instrument(instrument).default_metric)
        data = _inputs(instrument)
        out = ct.score_with_audit(data, instrument)
        reasons = set(out.audit["reason"].str.split(":").str[0])
        assert {"prorated", "unscorable"} <= reasons
        scores = set(ct.get_instrument(instrument).subscale_columns().values())
        for col in gold.columns:
            if col in scores:  # each score is NA somewhere and scored elsewhere
                assert 0 < gold[col].isna().sum() < len(gold), col
            else:  # each flag is True, False and NA somewhere
                assert gold[col].astype("boolean").value_counts(dropna=False).size == 3, col
