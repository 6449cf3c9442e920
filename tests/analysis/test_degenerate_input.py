"""Degenerate data give a clear error or a warning, never spurious numbers or a silent NaN.

Before these checks a constant outcome gave an ANCOVA 'effect' of 3e-16 with p = 0.02, an
exact change of +0.5 gave a change-score SE of 3e-17, effect_size raised ZeroDivisionError and
ppc_effect_size returned NaN intervals without a word.
"""

from __future__ import annotations

import numpy as np
import pytest

import coaching_trials as ct
from coaching_trials import DataValidationError

CALLS = {
    "ancova": lambda d: ct.ancova(
        d, outcome="followup", arm="arm", baseline="baseline", treated="immediate"
    ),
    "change_score": lambda d: ct.change_score(
        d, outcome="followup", arm="arm", baseline="baseline", treated="immediate"
    ),
    "percent_change": lambda d: ct.percent_change(
        d, outcome="followup", arm="arm", baseline="baseline", treated="immediate"
    ),
    "effect_size": lambda d: ct.effect_size(d, outcome="followup", arm="arm", treated="immediate"),
    "ppc_effect_size": lambda d: ct.ppc_effect_size(
        d, outcome="followup", arm="arm", baseline="baseline", treated="immediate"
    ),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_constant_outcome_is_an_error_naming_the_column(trials, name):
    frame = trials["b"].assign(followup=1.5)
    with pytest.raises(DataValidationError, match=r"outcome 'followup' is constant \(1.5\)") as e:
        CALLS[name](frame)
    cases = e.value.failure_cases
    assert cases.loc[0, "check"] == "constant" and cases.loc[0, "column"] == "followup"


@pytest.mark.parametrize("shift", [0.0, 0.5, -1.1])
def test_change_constant_up_to_round_off_is_an_error(trials, shift):
    frame = trials["a"].assign(followup=trials["a"]["baseline"] + shift)
    with pytest.raises(DataValidationError, match="change 'followup - baseline' is constant"):
        CALLS["change_score"](frame)


@pytest.mark.parametrize("shift", [0.0, 0.5])
def test_ancova_exact_fit_is_an_error(trials, shift):
    frame = trials["a"].assign(followup=trials["a"]["baseline"] + shift)
    with pytest.raises(ValueError, match="fitted exactly"):
        CALLS["ancova"](frame)


def test_ppc_without_a_variance_warns(trials):
    frame = trials["a"].assign(followup=trials["a"]["baseline"] * 0.8 + 0.1)  # rho = 1
    with pytest.warns(ct.DataValidationWarning, match="perfectly correlated"):
        res = CALLS["ppc_effect_size"](frame)
    assert np.isfinite(res.estimate)
    assert np.isnan(res.std_error) and np.isnan(res.conf_low)


def test_nearly_constant_outcome_is_still_analysed(trials):
    frame = trials["a"].assign(followup=1.0 + 1e-6 * trials["a"]["followup"])
    res = CALLS["ancova"](frame)
    assert np.isfinite(res.std_error) and res.std_error > 0
