"""Lazy (Dask) scoring and summaries equal the in-memory ones."""

from __future__ import annotations

import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials.instruments.lazy import score_audit_lazy, score_lazy, summarize_lazy
from coaching_trials.instruments.scoring import score_with_audit

dd = pytest.importorskip("dask.dataframe")  # in the test extra: installed wherever tests run


@pytest.fixture(scope="module")
def responses():
    return ct.load_example("delayed_intervention").responses


@pytest.mark.parametrize("instrument", ["pfi", "uwes9", "svs"])
@pytest.mark.parametrize("npartitions", [1, 5])
def test_scores_equal_the_in_memory_ones(responses, instrument, npartitions):
    lazy = score_lazy(dd.from_pandas(responses, npartitions=npartitions), instrument)
    eager = ct.score(responses, instrument)
    got = lazy.compute()
    cols = [c for c in eager.columns if c not in responses.columns]
    pd.testing.assert_frame_equal(got[cols], eager[cols], check_dtype=False)


def test_audit_counts_equal_the_in_memory_ones(responses):
    lazy = score_audit_lazy(dd.from_pandas(responses, npartitions=4), "uwes9")
    eager = score_with_audit(responses, "uwes9").audit
    eager = eager.groupby(["step", "subscale", "reason"])["n_rows"].sum().reset_index()
    pd.testing.assert_frame_equal(lazy, eager, check_dtype=False)


def test_summaries_equal_pandas(responses):
    scored = ct.score(responses, "pfi")
    lazy = summarize_lazy(
        score_lazy(dd.from_pandas(responses, npartitions=3), "pfi"),
        ["pfi_burnout", "pfi_pf"],
        by=["wave", "arm"],
        flags=["pfi_burnout_high"],
    ).compute()
    groups = scored.groupby(["wave", "arm"])
    for (wave, arm), part in groups:
        row = lazy.loc[(wave, arm)]
        x = part["pfi_burnout"].dropna()
        assert row["pfi_burnout_n"] == len(x)
        assert row["pfi_burnout_mean"] == pytest.approx(x.mean(), rel=1e-12)
        assert row["pfi_burnout_sd"] == pytest.approx(x.std(ddof=1), rel=1e-10)
        flag = part["pfi_burnout_high"].dropna().astype(float)
        assert row["pfi_burnout_high_prevalence"] == pytest.approx(flag.mean(), rel=1e-12)


def test_a_data_problem_is_raised_on_compute(responses):
    bad = responses.copy()
    bad.loc[5, "pfi_03"] = 9  # outside 0-4
    lazy = score_lazy(dd.from_pandas(bad, npartitions=2), "pfi")
    with pytest.raises(ct.DataValidationError, match="pfi_03"):
        lazy.compute()


def test_only_dask_frames(responses):
    with pytest.raises(TypeError, match="dask DataFrame"):
        score_lazy(responses, "pfi")
