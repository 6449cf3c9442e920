"""Tests for coaching_trials.instruments.reliability.

Golden values come from the R package psych (``tests/reference/psych/make_golden.R``, psych
2.2.9), run on the committed input CSVs written by ``make_inputs.py``:

- ``golden_alpha.csv``: ``psych::alpha(x)$total$raw_alpha``; Feldt interval from
  ``qf()`` in R, checked there against ``psych::alpha(x)$feldt`` (``alpha.ci``).
- ``golden_item_total.csv``: ``psych::alpha(x)$item.stats`` (r.drop, mean, sd, n) and
  ``$alpha.drop$raw_alpha``.
- ``golden_omega.csv``: ``psych::omega(x, nfactors = 1)$omega.tot`` and
  ``sum(l)^2 / (sum(l)^2 + sum(1 - l^2))`` with ``l = psych::fa(x, 1, fm = "minres")$loadings``.
- ``golden_loadings.csv``: those loadings.

"listwise" rows ran psych on ``na.omit(x)``; "pairwise" rows on ``x`` (psych's default
``use = "pairwise"``).
"""

from __future__ import annotations

import warnings
from dataclasses import FrozenInstanceError, dataclass, field

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coaching_trials._errors import DataValidationError, DataValidationWarning
from coaching_trials.instruments._psychometrics import _bootstrap_weights
from coaching_trials.instruments.reliability import (
    AlphaResult,
    OmegaResult,
    cronbach_alpha,
    item_total,
    mcdonald_omega,
    reliability,
)

PSYCH = "psych"


def _read(reference_dir, name: str) -> pd.DataFrame:
    return pd.read_csv(reference_dir / PSYCH / name)


def _items(reference_dir, dataset: str) -> pd.DataFrame:
    return pd.read_csv(reference_dir / PSYCH / f"{dataset}.csv")


ALPHA_CASES = [
    ("items_complete", "listwise", 0.95),
    ("items_complete", "listwise", 0.90),
    ("items_missing", "listwise", 0.95),
    ("items_missing", "listwise", 0.90),
    ("items_missing", "pairwise", 0.95),
    ("items_missing", "pairwise", 0.90),
    ("items_uwes", "listwise", 0.95),
    ("items_uwes", "pairwise", 0.95),
    ("items_uwes", "pairwise", 0.90),
]
OMEGA_CASES = [
    ("items_complete", "listwise"),
    ("items_missing", "listwise"),
    ("items_missing", "pairwise"),
    ("items_uwes", "listwise"),
    ("items_uwes", "pairwise"),
]


# ------------------------------------------------------------------------------------------
# against psych
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("dataset", "nan_policy", "conf_level"), ALPHA_CASES)
def test_alpha_and_feldt_match_psych(reference_dir, dataset, nan_policy, conf_level):
    golden = _read(reference_dir, "golden_alpha.csv")
    row = golden[
        (golden.dataset == dataset)
        & (golden.nan_policy == nan_policy)
        & np.isclose(golden.conf_level, conf_level)
    ].iloc[0]
    res = cronbach_alpha(
        _items(reference_dir, dataset), nan_policy=nan_policy, conf_level=conf_level
    )
    # R: psych::alpha(x)$total$raw_alpha ; 1 - (1 - a) * qf(c(1 - p/2, p/2), n - 1, (n - 1)(k - 1))
    assert res.estimate == pytest.approx(row.alpha, abs=1e-6)
    assert res.conf_low == pytest.approx(row.conf_low, abs=1e-6)
    assert res.conf_high == pytest.approx(row.conf_high, abs=1e-6)
    assert (res.n, res.n_items, res.conf_level) == (row.n, row.n_items, conf_level)


@pytest.mark.parametrize(("dataset", "nan_policy"), OMEGA_CASES)
def test_item_total_matches_psych(reference_dir, dataset, nan_policy):
    golden = _read(reference_dir, "golden_item_total.csv")
    expected = golden[(golden.dataset == dataset) & (golden.nan_policy == nan_policy)]
    got = item_total(_items(reference_dir, dataset), nan_policy=nan_policy)
    # R: psych::alpha(x)$item.stats[, c("r.drop", "mean", "sd", "n")], $alpha.drop$raw_alpha
    assert got["item"].tolist() == expected["item"].tolist()
    for col in ("r_drop", "alpha_if_deleted", "mean", "sd"):
        np.testing.assert_allclose(got[col], expected[col], atol=1e-6, rtol=0, err_msg=col)
    np.testing.assert_array_equal(got["n"], expected["n"])


@pytest.mark.parametrize(("dataset", "nan_policy"), OMEGA_CASES)
@pytest.mark.parametrize(
    ("denominator", "column"), [("observed", "omega_total"), ("model", "omega_model")]
)
def test_omega_matches_psych(reference_dir, dataset, nan_policy, denominator, column):
    golden = _read(reference_dir, "golden_omega.csv")
    row = golden[(golden.dataset == dataset) & (golden.nan_policy == nan_policy)].iloc[0]
    res = mcdonald_omega(
        _items(reference_dir, dataset), nan_policy=nan_policy, n_boot=0, denominator=denominator
    )
    # R: psych::omega(x, nfactors = 1)$omega.tot (observed) or the fa(fm = "minres") formula
    assert res.estimate == pytest.approx(getattr(row, column), abs=1e-3)
    # in fact much closer: the difference is psych's optim() stopping tolerance
    assert res.estimate == pytest.approx(getattr(row, column), abs=5e-6)
    assert res.n == row.n and res.n_items == row.n_items


@pytest.mark.parametrize(("dataset", "nan_policy"), OMEGA_CASES)
def test_one_factor_loadings_match_psych_fa(reference_dir, dataset, nan_policy):
    golden = _read(reference_dir, "golden_loadings.csv")
    expected = golden[(golden.dataset == dataset) & (golden.nan_policy == nan_policy)]
    res = mcdonald_omega(_items(reference_dir, dataset), nan_policy=nan_policy, n_boot=0)
    # R: psych::fa(x, nfactors = 1, fm = "minres")$loadings
    assert res.loadings.index.tolist() == expected["item"].tolist()
    np.testing.assert_allclose(res.loadings, expected["loading"], atol=5e-5, rtol=0)
    np.testing.assert_allclose(res.uniquenesses, expected["uniqueness"], atol=1e-4, rtol=0)


def test_minres_solution_is_no_worse_than_psych(reference_dir):
    """Our loadings leave an off-diagonal residual sum of squares <= psych's."""
    golden = _read(reference_dir, "golden_loadings.csv")
    for dataset in ("items_complete", "items_uwes"):
        x = _items(reference_dir, dataset).dropna()
        r = x.corr().to_numpy()
        ours = mcdonald_omega(x, n_boot=0).loadings.to_numpy()
        theirs = golden[(golden.dataset == dataset) & (golden.nan_policy == "listwise")][
            "loading"
        ].to_numpy()

        def ssr(lam, r=r):
            res = r - np.outer(lam, lam)
            np.fill_diagonal(res, 0.0)
            return (res**2).sum()

        assert ssr(ours) <= ssr(theirs) + 1e-12


# ------------------------------------------------------------------------------------------
# bootstrap
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dataset", "nan_policy"), [("items_missing", "listwise"), ("items_missing", "pairwise")]
)
def test_vectorized_bootstrap_equals_explicit_resampling(reference_dir, dataset, nan_policy):
    """The weighted, all-at-once bootstrap equals refitting each resampled data set."""
    x = _items(reference_dir, dataset)
    used = x.dropna() if nan_policy == "listwise" else x[x.notna().any(axis=1)]
    n_boot, seed, level = 40, 123, 0.9
    res = mcdonald_omega(x, nan_policy=nan_policy, n_boot=n_boot, seed=seed, conf_level=level)
    weights = _bootstrap_weights(np.random.default_rng(seed), len(used), n_boot).astype(int)
    explicit = [
        mcdonald_omega(
            used.iloc[np.repeat(np.arange(len(used)), w)], nan_policy=nan_policy, n_boot=0
        ).estimate
        for w in weights
    ]
    low, high = np.quantile(explicit, [0.05, 0.95])
    assert res.conf_low == pytest.approx(low, abs=1e-9)
    assert res.conf_high == pytest.approx(high, abs=1e-9)


def test_bootstrap_is_seeded_and_deterministic(reference_dir):
    x = _items(reference_dir, "items_complete")
    a = mcdonald_omega(x, n_boot=200, seed=11)
    b = mcdonald_omega(x, n_boot=200, seed=11)
    c = mcdonald_omega(x, n_boot=200, seed=12)
    assert (a.conf_low, a.conf_high) == (b.conf_low, b.conf_high)
    assert (a.conf_low, a.conf_high) != (c.conf_low, c.conf_high)
    assert a.conf_low < a.estimate < a.conf_high
    assert a.n_boot == 200 and a.n_boot_failed == 0


def test_bootstrap_interval_narrows_with_level(reference_dir):
    x = _items(reference_dir, "items_complete")
    wide = mcdonald_omega(x, n_boot=300, seed=5, conf_level=0.95)
    narrow = mcdonald_omega(x, n_boot=300, seed=5, conf_level=0.80)
    assert wide.conf_low < narrow.conf_low < narrow.conf_high < wide.conf_high


def test_n_boot_zero_gives_no_interval(reference_dir):
    res = mcdonald_omega(_items(reference_dir, "items_complete"), n_boot=0)
    assert np.isnan(res.conf_low) and np.isnan(res.conf_high)


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------
def _one_factor_frame(seed: int, n: int = 60, k: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 1))
    values = np.clip(np.rint(2 + f + rng.normal(size=(n, k))), 0, 4)
    return pd.DataFrame(values, columns=[f"q{j}" for j in range(k)])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), perm_seed=st.integers(0, 10_000))
def test_alpha_and_omega_invariant_to_row_order(seed, perm_seed):
    x = _one_factor_frame(seed)
    shuffled = x.sample(frac=1.0, random_state=perm_seed)
    assert cronbach_alpha(shuffled).estimate == pytest.approx(cronbach_alpha(x).estimate, abs=1e-12)
    assert mcdonald_omega(shuffled, n_boot=0).estimate == pytest.approx(
        mcdonald_omega(x, n_boot=0).estimate, abs=1e-9
    )


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    column=st.integers(0, 3),
    shift=st.floats(-100, 100, allow_nan=False),
)
def test_alpha_invariant_to_adding_constant_to_an_item(seed, column, shift):
    x = _one_factor_frame(seed)
    shifted = x.copy()
    shifted.iloc[:, column] += shift
    assert cronbach_alpha(shifted).estimate == pytest.approx(cronbach_alpha(x).estimate, abs=1e-9)
    assert cronbach_alpha(shifted, nan_policy="pairwise").estimate == pytest.approx(
        cronbach_alpha(x).estimate, abs=1e-9
    )


@settings(max_examples=30, deadline=None)
@given(
    column=hnp.arrays(np.float64, st.integers(3, 40), elements=st.integers(0, 6).map(float)).filter(
        lambda a: np.ptp(a) > 0
    ),
    k=st.integers(2, 8),
)
def test_alpha_of_identical_items_is_one(column, k):
    x = pd.DataFrame(np.repeat(column[:, None], k, axis=1), columns=[f"i{j}" for j in range(k)])
    res = cronbach_alpha(x)
    assert res.estimate == pytest.approx(1.0, abs=1e-12)
    assert res.conf_low == pytest.approx(1.0) and res.conf_high == pytest.approx(1.0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), level=st.floats(0.5, 0.99))
def test_alpha_interval_contains_estimate(seed, level):
    res = cronbach_alpha(_one_factor_frame(seed), conf_level=level)
    assert res.conf_low <= res.estimate <= res.conf_high


def test_pairwise_equals_listwise_without_missing(reference_dir):
    x = _items(reference_dir, "items_complete")
    a = cronbach_alpha(x, nan_policy="listwise")
    b = cronbach_alpha(x, nan_policy="pairwise")
    assert a.estimate == pytest.approx(b.estimate, abs=1e-12) and a.n == b.n
    o1 = mcdonald_omega(x, nan_policy="listwise", n_boot=0)
    o2 = mcdonald_omega(x, nan_policy="pairwise", n_boot=0)
    assert o1.estimate == pytest.approx(o2.estimate, abs=1e-12)


def test_alpha_matches_textbook_formula_from_variances():
    x = _one_factor_frame(3, n=80, k=5)
    k = x.shape[1]
    by_hand = k / (k - 1) * (1 - x.var(ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    assert cronbach_alpha(x).estimate == pytest.approx(by_hand, abs=1e-12)


# ------------------------------------------------------------------------------------------
# missing data, exclusions, results
# ------------------------------------------------------------------------------------------
def test_exclusions_are_counted_in_the_audit():
    x = _one_factor_frame(1, n=30)
    x.iloc[0, :] = np.nan  # no answer at all
    x.iloc[1, 2] = np.nan  # one item missing
    x.iloc[2, 0] = np.nan
    listwise = cronbach_alpha(x)
    assert listwise.n == 27 and listwise.n_excluded == 3
    assert listwise.audit["n_rows"].sum() == 3
    assert set(listwise.audit["reason"]) == {
        "no item answered",
        "missing item response (listwise deletion)",
    }
    pairwise = cronbach_alpha(x, nan_policy="pairwise")
    assert pairwise.n == 29 and pairwise.n_excluded == 1
    assert pairwise.audit["reason"].tolist() == ["no item answered"]


def test_inputs_are_not_mutated_and_nullable_dtypes_work():
    x = _one_factor_frame(2).astype("Int64")
    x.iloc[4, 1] = pd.NA
    before = x.copy()
    cronbach_alpha(x, nan_policy="pairwise")
    mcdonald_omega(x, n_boot=20, seed=1)
    item_total(x)
    pd.testing.assert_frame_equal(x, before)


def test_numpy_array_input():
    x = _one_factor_frame(4)
    res = cronbach_alpha(x.to_numpy())
    assert res.estimate == pytest.approx(cronbach_alpha(x).estimate)
    assert res.items == ("item_1", "item_2", "item_3", "item_4")


def test_results_are_frozen_and_render():
    x = _one_factor_frame(5)
    a = cronbach_alpha(x)
    o = mcdonald_omega(x, n_boot=50, seed=1)
    assert isinstance(a, AlphaResult) and isinstance(o, OmegaResult)
    with pytest.raises(FrozenInstanceError):
        a.estimate = 0.0  # type: ignore[misc]
    for res in (a, o):
        frame = res.to_frame()
        assert frame.loc[0, "estimate"] == res.estimate
        assert {"conf_low", "conf_high", "conf_level", "n"} <= set(frame.columns)
        assert not any("95" in c for c in frame.columns)
        assert "estimate" in res.summary() and "<table" in res._repr_html_()
    assert o.loadings.index.tolist() == list(x.columns)


def test_item_total_two_items_has_no_alpha_if_deleted():
    out = item_total(_one_factor_frame(6, k=2))
    assert out["alpha_if_deleted"].isna().all()
    assert (out["r_drop"] > 0).all()


def test_negative_loading_warns_instead_of_flipping():
    x = _one_factor_frame(7, n=200, k=4)
    x["q3"] = 4 - x["q3"]
    with pytest.warns(DataValidationWarning, match="q3"):
        res = mcdonald_omega(x, n_boot=0)
    assert res.loadings["q3"] < 0


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("func", [cronbach_alpha, mcdonald_omega, item_total])
@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda x: x[["q0"]], ValueError, "at least 2 item columns"),
        (lambda x: x.assign(q1=x["q1"].astype(str)), TypeError, r"non-numeric.*q1"),
        (lambda x: x.assign(q2=x["q2"] > 2), TypeError, r"non-numeric.*q2"),
        (lambda x: x.to_dict(), TypeError, "must be a pandas DataFrame"),
        (lambda x: x.iloc[:1], ValueError, "at least 2 respondents"),
        (
            lambda x: x.assign(q1=np.where(x.index == 3, np.inf, x["q1"])),
            DataValidationError,
            r"'q1'.*infinite.*\[3\]",
        ),
    ],
)
def test_bad_items_are_rejected_with_names(func, make, error, match):
    with pytest.raises(error, match=match):
        func(make(_one_factor_frame(8)))


@pytest.mark.parametrize("func", [cronbach_alpha, mcdonald_omega, item_total])
def test_bad_nan_policy(func):
    with pytest.raises(ValueError, match="`nan_policy` must be one of 'listwise', 'pairwise'"):
        func(_one_factor_frame(9), nan_policy="omit")


@pytest.mark.parametrize("func", [cronbach_alpha, mcdonald_omega])
@pytest.mark.parametrize(
    ("level", "error"), [(95, ValueError), (0.0, ValueError), ("x", TypeError)]
)
def test_bad_conf_level(func, level, error):
    with pytest.raises(error, match="conf_level"):
        func(_one_factor_frame(9), conf_level=level)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_boot": -1}, "n_boot"),
        ({"n_boot": 1.5}, "n_boot"),
        ({"denominator": "total"}, "`denominator` must be one of"),
        ({"seed": "abc"}, "seed"),
    ],
)
def test_bad_omega_options(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        mcdonald_omega(_one_factor_frame(9), **kwargs)


def test_zero_variance_item_warns_for_alpha_and_fails_for_omega():
    x = _one_factor_frame(10).assign(q2=2.0)
    with pytest.warns(DataValidationWarning, match="q2"):
        cronbach_alpha(x)
    with pytest.raises(DataValidationError, match="q2") as info:
        mcdonald_omega(x, n_boot=0)
    assert info.value.failure_cases["column"].tolist() == ["q2"]


def test_pair_never_answered_together_is_named():
    x = _one_factor_frame(11, n=20)
    x.loc[x.index < 10, "q0"] = np.nan
    x.loc[x.index >= 10, "q1"] = np.nan
    with pytest.raises(ValueError, match="q0/q1"):
        cronbach_alpha(x, nan_policy="pairwise")


def test_duplicate_columns_rejected():
    x = _one_factor_frame(12)
    x.columns = ["a", "a", "b", "c"]
    with pytest.raises(ValueError, match="unique"):
        cronbach_alpha(x)


# ------------------------------------------------------------------------------------------
# reliability() with a stand-in instrument (the registry has its own tests)
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Sub:
    id: str
    items: tuple[str, ...]
    reverse: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Inst:
    id: str = "toy"
    response_min: int = 0
    response_max: int = 4
    subscales: dict = field(
        default_factory=lambda: {
            "main": _Sub("main", ("t1", "t2", "t3"), reverse=("t3",)),
            "single": _Sub("single", ("t4",)),
        }
    )

    @property
    def items(self) -> tuple[str, ...]:
        return ("t1", "t2", "t3", "t4")

    def reverse_keyed(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        out["t3"] = self.response_min + self.response_max - out["t3"]
        return out


def _toy_responses() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    n = 90
    f = rng.normal(size=n)
    raw = np.clip(np.rint(2 + f[:, None] + rng.normal(size=(n, 4)) * 0.8), 0, 4)
    raw[:, 2] = 4 - raw[:, 2]  # t3 is worded in the opposite direction
    df = pd.DataFrame(raw, columns=["t1", "t2", "t3", "t4"])
    df["wave"] = pd.Categorical(
        np.repeat(["month3", "baseline", "month6"], 30),
        categories=["baseline", "month3", "month6"],
        ordered=True,
    )
    df.loc[5, "t2"] = np.nan
    return df


def test_reliability_table_by_wave_applies_reverse_keys():
    df = _toy_responses()
    before = df.copy()
    table = reliability(df, _Inst(), by="wave", n_boot=100, seed=3)
    pd.testing.assert_frame_equal(df, before)
    assert table.columns.tolist() == [
        "instrument",
        "subscale",
        "wave",
        "n",
        "n_excluded",
        "n_items",
        "alpha",
        "alpha_conf_low",
        "alpha_conf_high",
        "omega",
        "omega_conf_low",
        "omega_conf_high",
        "conf_level",
        "note",
    ]
    assert table["wave"].astype(str).tolist() == [
        "baseline",
        "baseline",
        "month3",
        "month3",
        "month6",
        "month6",
    ]
    main = table[table.subscale == "main"]
    main = main.set_index(main["wave"].astype(str))
    keyed = df.assign(t3=4 - df["t3"])
    for wave in ("baseline", "month3", "month6"):
        expected = cronbach_alpha(keyed.loc[df.wave == wave, ["t1", "t2", "t3"]])
        assert main.loc[wave, "alpha"] == pytest.approx(expected.estimate, abs=1e-12)
        assert main.loc[wave, "alpha_conf_low"] == pytest.approx(expected.conf_low, abs=1e-12)
        assert main.loc[wave, "n"] == expected.n
        unkeyed = cronbach_alpha(df.loc[df.wave == wave, ["t1", "t2", "t3"]]).estimate
        assert main.loc[wave, "alpha"] > unkeyed  # reversed back, the items agree better
        assert main.loc[wave, "omega_conf_low"] < main.loc[wave, "omega"]
        assert main.loc[wave, "omega"] < main.loc[wave, "omega_conf_high"]
        assert main.loc[wave, "note"] == ""
    assert main.loc["month3", "n_excluded"] == 1  # row 5 misses t2
    single = table[table.subscale == "single"]
    assert single[["alpha", "omega"]].isna().all().all()
    assert single["note"].str.contains("single-item").all()
    assert (table["conf_level"] == 0.95).all()


def test_reliability_is_reproducible_with_seed_and_omega_optional():
    df = _toy_responses()
    a = reliability(df, _Inst(), by="wave", n_boot=50, seed=8)
    b = reliability(df, _Inst(), by="wave", n_boot=50, seed=8)
    pd.testing.assert_frame_equal(a, b)
    no_omega = reliability(df, _Inst(), omega=False)
    assert len(no_omega) == 2 and no_omega["omega"].isna().all()
    assert no_omega.loc[0, "n"] == 89


def test_reliability_reports_unestimable_cells_in_note():
    df = _toy_responses()
    df.loc[df.wave == "month6", "t1"] = 1.0  # no variance in one wave
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = reliability(df, _Inst(), by="wave", n_boot=20, seed=1)
    row = table[(table.subscale == "main") & (table.wave == "month6")].iloc[0]
    assert np.isfinite(row["alpha"]) and np.isnan(row["omega"])
    assert "zero variance" in row["note"] and "t1" in row["note"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"by": "visit"}, ValueError, "visit"),
        ({"nan_policy": "omit"}, ValueError, "nan_policy"),
        ({"conf_level": 1.5}, ValueError, "conf_level"),
        ({"n_boot": -5}, ValueError, "n_boot"),
        ({"seed": np.random.default_rng(1)}, TypeError, "seed"),
    ],
)
def test_reliability_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        reliability(_toy_responses(), _Inst(), **kwargs)


def test_reliability_missing_item_columns_named():
    with pytest.raises(DataValidationError, match="t4"):
        reliability(_toy_responses().drop(columns="t4"), _Inst())
    with pytest.raises(TypeError, match="instrument"):
        reliability(_toy_responses(), 42)
    with pytest.raises(TypeError, match=r"not numeric.*t2"):
        reliability(_toy_responses().assign(t2=lambda d: d["t2"].astype(str)), _Inst())


def test_reliability_by_several_columns_keeps_missing_group_labels():
    df = _toy_responses()
    df["arm"] = np.tile(["immediate", "delayed"], 45)
    df.loc[0, "wave"] = np.nan  # a row with no wave is reported, not dropped
    table = reliability(df, _Inst(), by=["wave", "arm"], omega=False)
    assert table.columns[2:4].tolist() == ["wave", "arm"]
    assert len(table) == 2 * 7  # 3 waves x 2 arms + the (no wave, immediate) group
    missing_wave = table[table["wave"].isna()]
    assert missing_wave["n"].tolist() == [1, 1] and missing_wave["arm"].eq("immediate").all()
    notes = missing_wave.set_index("subscale")["note"]
    assert "at least 2 respondents" in notes["main"] and "single-item" in notes["single"]
    main = table[table.subscale == "main"]
    assert main["n"].sum() + main["n_excluded"].sum() == len(df)


# ------------------------------------------------------------------------------------------
# with the shipped instrument registry
# ------------------------------------------------------------------------------------------
def test_reliability_with_registry_reverse_keys_cbi():
    from coaching_trials.instruments.registry import get_instrument

    cbi = get_instrument("cbi")
    rng = np.random.default_rng(31)
    n = 150
    f = rng.normal(size=(n, 1))
    raw = np.clip(np.rint(2 + f + rng.normal(size=(n, len(cbi.items))) * 0.9), 0, 4)
    df = pd.DataFrame(raw, columns=list(cbi.items))
    df["cbi_13"] = 4 - df["cbi_13"]  # answered on the reversed wording
    table = reliability(df, "cbi", n_boot=50, seed=2).set_index("subscale")
    work = cbi.subscales["work"]
    assert "cbi_13" in work.reverse
    keyed = df.loc[:, list(work.items)].assign(cbi_13=4 - df["cbi_13"])
    expected = cronbach_alpha(keyed)
    assert table.loc["work", "alpha"] == pytest.approx(expected.estimate, abs=1e-12)
    assert table.loc["work", "n_items"] == len(work.items)
    assert set(table.index) == set(cbi.subscales)
    assert (table["instrument"] == "cbi").all()


def test_reliability_with_registry_pfi_composite_and_single_item_qol():
    from coaching_trials.instruments.registry import get_instrument

    pfi = get_instrument("pfi")
    rng = np.random.default_rng(5)
    raw = np.clip(np.rint(2 + rng.normal(size=(80, 1)) + rng.normal(size=(80, 16))), 0, 4)
    df = pd.DataFrame(raw, columns=list(pfi.items))
    table = reliability(df, pfi, omega=False).set_index("subscale")
    assert table.loc["burnout", "n_items"] == 10
    burnout_items = [f"pfi_{i:02d}" for i in range(7, 17)]
    assert table.loc["burnout", "alpha"] == pytest.approx(
        cronbach_alpha(df[burnout_items]).estimate, abs=1e-12
    )
    qol = reliability(pd.DataFrame({"qol_01": [3.0, 5.0, 7.0]}), "qol")
    assert qol.loc[0, "n_items"] == 1 and np.isnan(qol.loc[0, "alpha"])
    assert "single-item" in qol.loc[0, "note"]


# ------------------------------------------------------------------------------------------
# the batched one-factor minres solver against independent computations
# ------------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(
    loadings=st.lists(st.floats(0.2, 0.95), min_size=3, max_size=3),
    noise=st.lists(st.floats(-0.03, 0.03), min_size=3, max_size=3),
)
def test_three_items_fit_exactly_closed_form(loadings, noise):
    """With 3 items one factor fits exactly: l1^2 = r12 r13 / r23 (and cyclically)."""
    lam = np.asarray(loadings)
    r = np.outer(lam, lam)
    r[0, 1] = r[1, 0] = r[0, 1] + noise[0]
    r[0, 2] = r[2, 0] = r[0, 2] + noise[1]
    r[1, 2] = r[2, 1] = r[1, 2] + noise[2]
    np.fill_diagonal(r, 1.0)
    closed = np.sqrt(
        [r[0, 1] * r[0, 2] / r[1, 2], r[0, 1] * r[1, 2] / r[0, 2], r[0, 2] * r[1, 2] / r[0, 1]]
    )
    # skip Heywood cases and matrices that are not correlation matrices
    assume(closed.max() ** 2 < 0.99 and np.linalg.eigvalsh(r).min() > 0)
    from coaching_trials.instruments._psychometrics import _one_factor_minres

    got, converged = _one_factor_minres(r[None])
    assert converged[0]
    np.testing.assert_allclose(got[0], closed, atol=1e-8)


def test_batched_minres_equals_scipy_minimization_on_bootstrap_matrices(reference_dir):
    """The vectorized solver reaches scipy's minimum of the off-diagonal least squares."""
    from scipy.optimize import minimize

    from coaching_trials.instruments._psychometrics import _one_factor_minres, _pairwise_moments

    x = _items(reference_dir, "items_complete").to_numpy(dtype=float)[:60]
    weights = _bootstrap_weights(np.random.default_rng(4), len(x), 25)
    _, cors = _pairwise_moments(x, weights)
    got, converged = _one_factor_minres(cors)
    assert converged.all()
    for r, lam in zip(cors, got, strict=True):
        off = ~np.eye(len(r), dtype=bool)

        def loss(v, r=r, off=off):
            return ((r - np.outer(v, v))[off] ** 2).sum()

        best = minimize(loss, np.full(len(r), 0.5), method="BFGS", options={"gtol": 1e-12})
        assert (best.x**2).max() < 0.995  # a proper solution, so no bound is involved
        np.testing.assert_allclose(lam, best.x * np.sign(best.x.sum()), atol=1e-5)


def test_heywood_case_warns():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(400, 1))
    x = pd.DataFrame(f * [0.99, 0.8, 0.8] + rng.normal(size=(400, 3)) * [0.05, 0.6, 0.6])
    x.columns = ["a", "b", "c"]
    x["b"] = x["b"] * 0.8 + rng.normal(size=400) * 0.4
    with pytest.warns(DataValidationWarning, match="Heywood"):
        mcdonald_omega(x, n_boot=0)
