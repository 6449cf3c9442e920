"""Published coaching trials kept as data: only verified entries by default."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import coaching_trials as ct


def test_only_verified_entries_by_default():
    everything = ct.published_trials(verified_only=False)
    default = ct.published_trials()
    assert default["verified"].all()
    assert set(everything["id"]) - set(default["id"]) == {"fainstad2022_mbi_ee"}
    assert (everything["citation"].str.len() > 20).all()
    assert (everything["location"].str.len() > 5).all()


def test_reported_difference_gives_se_from_the_ci():
    # Kiser et al. 2024 abstract: burnout difference -0.79 (95% CI -1.27 to -0.32), n 67 / 71
    row = ct.published_trials("pfi_burnout").iloc[0]
    assert row["estimate"] == -0.79
    assert row["std_error"] == pytest.approx((-0.32 + 1.27) / (2 * stats.norm.ppf(0.975)))
    assert (row["n_treated"], row["n_control"]) == (67, 71)


def test_summary_entry_is_built_with_from_summary():
    # Dyrbye et al. 2019 abstract: EE change -5.2 (SD 8.7) vs +1.5 (SD 7.7); 44 / 44 randomized
    row = ct.published_trials("mbi_ee").iloc[0]
    ref = ct.from_summary(n=(44, 44), change_mean=(-5.2, 1.5), change_sd=(8.7, 7.7))
    assert row["estimate"] == pytest.approx(-6.7)
    assert row["std_error"] == ref.std_error
    # the pooled-variance SE written out by hand
    sp2 = (43 * 8.7**2 + 43 * 7.7**2) / 86
    assert row["std_error"] == pytest.approx(np.sqrt(sp2 * (2 / 44)), rel=1e-12)


def test_unverified_entry_has_no_standard_error_and_says_why():
    row = ct.published_trials("mbi_ee", verified_only=False).set_index("id")
    fainstad = row.loc["fainstad2022_mbi_ee"]
    assert not fainstad["verified"] and np.isnan(fainstad["std_error"])
    assert "Table 3" in fainstad["note"]
