"""adjust_pvalues against R p.adjust; adjust_effects behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import coaching_trials as ct
from coaching_trials._results import effects_frame


def _vector(case: dict[str, float]) -> np.ndarray:
    return np.array([case[f"p{i + 1}"] for i in range(len(case))])


@pytest.mark.parametrize(
    ("method", "r_method"),
    [("holm", "holm"), ("hochberg", "hochberg"), ("bh", "bh"), ("bonferroni", "bonferroni")],
)
def test_matches_r_p_adjust(golden, method, r_method):
    # R: p.adjust(c(0.01, 0.04, NA, 0.03, 0.20, 0.005, 0.04, 0.5), method = ...)
    raw = _vector(golden("padjust")["raw"])
    expected = _vector(golden("padjust")[r_method])
    got = ct.adjust_pvalues(raw, method=method)
    np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)


def test_fixed_sequence_is_running_maximum():
    p = [0.01, 0.03, 0.02, 0.2, 0.001, np.nan, 0.04]
    got = ct.adjust_pvalues(p, method="fixed_sequence")
    np.testing.assert_allclose(got, [0.01, 0.03, 0.03, 0.2, 0.2, np.nan, 0.2], equal_nan=True)
    # decisions at alpha = 0.05: stop at the first p > alpha
    assert list(got[:5] <= 0.05) == [True, True, True, False, False]


def test_series_keeps_index_and_name():
    p = pd.Series([0.04, 0.01], index=["x", "y"], name="p")
    got = ct.adjust_pvalues(p, method="bonferroni")
    pd.testing.assert_series_equal(got, pd.Series([0.08, 0.02], index=["x", "y"], name="p"))


@pytest.mark.parametrize(
    ("p", "kw", "error", "match"),
    [
        ([0.1, 1.2], {}, ValueError, r"\[0, 1\]"),
        ([0.1], {"method": "BH"}, ValueError, "`method` must be one of"),
        ([0.1], {"alpha": 1.5}, ValueError, "`alpha`"),
        ([[0.1, 0.2]], {}, ValueError, "one-dimensional"),
        (["a"], {}, TypeError, "numeric"),
    ],
)
def test_bad_input(p, kw, error, match):
    with pytest.raises(error, match=match):
        ct.adjust_pvalues(p, **kw)


@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=12),
    st.sampled_from(["holm", "hochberg", "bh", "bonferroni", "fixed_sequence"]),
)
def test_adjusted_at_least_raw_and_at_most_one(p, method):
    got = ct.adjust_pvalues(p, method=method)
    assert np.all(got >= np.asarray(p) - 1e-15) and np.all(got <= 1.0)


@given(st.lists(st.floats(0, 1), min_size=2, max_size=12), st.randoms(use_true_random=False))
def test_order_preserving_for_symmetric_methods(p, rnd):
    perm = list(range(len(p)))
    rnd.shuffle(perm)
    for method in ("holm", "hochberg", "bh", "bonferroni"):
        got = ct.adjust_pvalues(p, method=method)
        permuted = ct.adjust_pvalues([p[i] for i in perm], method=method)
        np.testing.assert_allclose(permuted, got[perm], rtol=1e-12)


def _effects():
    return effects_frame(
        [
            {"outcome": "pfi_burnout", "wave": "month3", "p_value": 0.01},
            {"outcome": "pfi_pf", "wave": "month3", "p_value": 0.02},
            {"outcome": "svs_total", "wave": "month3", "p_value": 0.04},
            {"outcome": "pfi_pf", "wave": "month6", "p_value": 0.03},
            {"outcome": "svs_total", "wave": "month6", "p_value": np.nan},
        ]
    )


def test_adjust_effects_primary_keeps_raw_p_and_family_splits():
    eff = _effects()
    before = eff.copy()
    out = ct.adjust_effects(eff, method="holm", primary="pfi_burnout", family="wave")
    pd.testing.assert_frame_equal(eff, before)  # input untouched
    expected = [0.01, *ct.adjust_pvalues([0.02, 0.04], method="holm"), 0.03, np.nan]
    np.testing.assert_allclose(out["p_adjusted"], expected, equal_nan=True)


def test_adjust_effects_single_family_without_primary():
    out = ct.adjust_effects(_effects(), method="bonferroni")
    np.testing.assert_allclose(out["p_adjusted"], [0.04, 0.08, 0.16, 0.12, np.nan], equal_nan=True)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"primary": "mbi_ee"}, "not found"),
        ({"family": "site"}, "not found"),
        ({"method": "sidak"}, "`method` must be one of"),
    ],
)
def test_adjust_effects_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        ct.adjust_effects(_effects(), **kw)
