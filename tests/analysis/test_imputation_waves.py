"""Chained-equations imputation over waves (``impute_waves``) against mice, distributionally.

Golden values: ``tests/reference/imputation_waves/make_golden.R`` runs ``mice`` (pmm, default
predictor matrix, maxit 10, m = 10) with seeds 1..S on a monotone-dropout and a non-monotone
trial and pools ``lm(y_wave ~ arm + base + age + site)`` with ``mice::pool``; it stores the mean
and SD over seeds of the pooled estimate and standard error. Here the same number of groups of
10 imputations is drawn (one call with m = 10 S) and pooled with ``pool_rubin``; the two
distributions must agree within Monte Carlo error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials._errors import DataValidationError
from coaching_trials.analysis.imputation import pool_rubin
from coaching_trials.analysis.imputation_waves import impute_waves

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "imputation_waves"
MODEL = dict(outcome="y", arm="arm", wave="wave", subject="id", treated="immediate")
WAVES = ("m03", "m06", "m12")


def data(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"{name}.csv")


@pytest.fixture(scope="module")
def golden() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "golden_mice_waves.csv").set_index(["dataset", "wave"])


@pytest.fixture(scope="module")
def ours(golden) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    out = {}
    for name in ("monotone", "nonmonotone"):
        ref = golden.loc[name].iloc[0]
        n_seeds, m = int(ref["n_seeds"]), int(ref["m"])
        imp = impute_waves(
            data(name), **MODEL, baseline="base", covariates=("age", "site"), m=n_seeds * m, seed=1
        )
        per = imp.ancova().per_imputation
        for wave in WAVES:
            part = per[per["wave"] == wave]
            est = part["estimate"].to_numpy().reshape(n_seeds, m)
            var = part["std_error"].to_numpy().reshape(n_seeds, m) ** 2
            pooled = [
                pool_rubin(est[s], var[s], df_complete=float(part["df"].iloc[0]))
                for s in range(n_seeds)
            ]
            out[(name, wave)] = {
                "estimate": np.array([p.estimate for p in pooled]),
                "std_error": np.array([p.std_error for p in pooled]),
            }
    return out


@pytest.mark.parametrize("name", ["monotone", "nonmonotone"])
@pytest.mark.parametrize("wave", WAVES)
def test_pooled_ancova_matches_mice_within_monte_carlo_error(golden, ours, name, wave):
    ref = golden.loc[(name, wave)]
    n_seeds = int(ref["n_seeds"])
    mine = ours[(name, wave)]
    for q in ("estimate", "std_error"):
        mc = np.sqrt((mine[q].var(ddof=1) + ref[f"{q}_sd"] ** 2) / n_seeds)
        assert abs(mine[q].mean() - ref[f"{q}_mean"]) < 4 * mc, q
    # the spread over seeds (the Monte Carlo error of one analysis) agrees too
    assert mine["estimate"].std(ddof=1) / ref["estimate_sd"] == pytest.approx(1.0, abs=0.35)


@pytest.fixture(scope="module")
def nonmono_imp():
    return impute_waves(
        data("nonmonotone"), **MODEL, baseline="base", covariates=("age", "site"), m=5, seed=3
    )


def test_observed_values_are_kept_and_pmm_imputes_observed_values(nonmono_imp):
    raw = data("nonmonotone")
    done = nonmono_imp.complete()
    assert not done[["y", "base"]].isna().any().any()
    merged = done.merge(raw[["id", "wave", "y"]], on=["id", "wave"], suffixes=("", "_raw"))
    seen = merged["y_raw"].notna()
    np.testing.assert_array_equal(merged.loc[seen, "y"], merged.loc[seen, "y_raw"])
    for wave in WAVES:
        pool = set(raw.loc[(raw["wave"] == wave) & raw["y"].notna(), "y"])
        imputed = merged.loc[~seen & (merged["wave"] == wave), "y"]
        assert len(imputed) and set(imputed) <= pool
    bases = set(raw["base"].dropna())
    assert set(done["base"]) <= bases


def test_by_arm_takes_donors_from_the_same_arm():
    raw = data("monotone")
    imp = impute_waves(raw, **MODEL, baseline="base", by_arm=True, m=4, seed=2)
    done = imp.complete().merge(raw[["id", "wave", "y"]], on=["id", "wave"], suffixes=("", "_r"))
    for arm in ("immediate", "delayed"):
        pool = set(raw.loc[(raw["arm"] == arm) & raw["y"].notna(), "y"])
        imputed = done.loc[done["y_r"].isna() & (done["arm"] == arm), "y"]
        assert set(imputed) <= pool


def test_seed_reproduces(nonmono_imp):
    again = impute_waves(
        data("nonmonotone"), **MODEL, baseline="base", covariates=("age", "site"), m=5, seed=3
    )
    pd.testing.assert_frame_equal(again.complete(), nonmono_imp.complete())
    other = impute_waves(
        data("nonmonotone"), **MODEL, baseline="base", covariates=("age", "site"), m=5, seed=4
    )
    assert not other.complete()["y"].equals(nonmono_imp.complete()["y"])


def test_pooled_mmrm_equals_pooled_ancova_with_complete_waves():
    """Complete data, unstructured covariance, identical regressors at every wave: GLS = OLS,
    so the MMRM estimate and SE of each completed data set equal the per-wave ANCOVA's."""
    imp = impute_waves(data("monotone"), **MODEL, baseline="base", m=4, seed=5)
    a, b = imp.ancova(), imp.mmrm()
    assert a.analysis == "ancova_mi" and b.analysis == "mmrm_mi"
    np.testing.assert_allclose(b.table["estimate"], a.table["estimate"], rtol=1e-6)
    np.testing.assert_allclose(b.table["std_error"], a.table["std_error"], rtol=1e-5)
    assert b.converged and b.table["p_value"].notna().all()
    assert list(b.table["wave"]) == list(WAVES)
    assert (a.table["conf_low"] < a.table["estimate"]).all()


def test_norm_method_and_summary():
    imp = ct.impute_waves(data("monotone"), **MODEL, baseline="base", method="norm", m=3, seed=1)
    assert imp.method == "norm" and "chained equations" in imp.summary()
    missing = imp.missing.set_index(["wave", "arm"])
    raw = data("monotone")
    n_missing = raw.groupby(["wave", "arm"])["y"].apply(lambda s: int(s.isna().sum()))
    for key, k in n_missing.items():
        assert missing.loc[key, "imputed"] == k
    assert "imputed" in " ".join(imp.audit["reason"])


@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        ({"method": "locf"}, ValueError, "method"),
        ({"m": 1}, ValueError, "`m`"),
        ({"covariates": ("nope",)}, ValueError, "nope"),
    ],
)
def test_bad_options(kw, error, match):
    with pytest.raises(error, match=match):
        impute_waves(data("monotone"), **MODEL, **kw)


def test_duplicates_and_never_observed_waves_are_rejected():
    raw = data("monotone")
    with pytest.raises(DataValidationError, match="share a id x wave"):
        impute_waves(pd.concat([raw, raw.iloc[:1]]), **MODEL)
    with pytest.raises(ValueError, match="never observed"):
        impute_waves(raw.assign(y=np.where(raw["wave"] == "m12", np.nan, raw["y"])), **MODEL)


def test_chain_diagnostic():
    from coaching_trials.analysis.imputation_waves import _rhat

    rng = np.random.default_rng(0)
    mixed = rng.normal(size=(40, 10, 1))
    stuck = mixed + np.arange(10)[None, :, None]  # every chain at its own level
    assert _rhat(mixed)[0] == pytest.approx(1.0, abs=0.15)
    assert _rhat(stuck)[0] > 2.0
    assert np.isnan(_rhat(mixed[:8])).all() and np.isnan(_rhat(mixed[:, :5])).all()


def test_chains_table():
    imp = impute_waves(data("nonmonotone"), **MODEL, baseline="base", m=20, seed=3)
    chains = imp.chains
    assert list(chains["variable"]) == ["baseline 'base'", "'y' at m03", "'y' at m06", "'y' at m12"]
    assert (chains["rhat"] < 1.25).all()
    assert impute_waves(data("monotone"), **MODEL, m=5, seed=1).chains["rhat"].isna().all()


def test_single_endpoint_multiple_imputation_offers_pmm():
    """``multiple_imputation(method="pmm")``: the same matching as ``impute_waves`` for the
    follow-up/baseline pair; imputed values are observed ones and the pooled result agrees
    with a large-m run of ``impute_waves`` on the same data (one follow-up wave)."""
    raw = data("nonmonotone")
    one = raw[raw["wave"] == "m12"].reset_index(drop=True)
    res = ct.multiple_imputation(
        one,
        outcome="y",
        baseline="base",
        arm="arm",
        treated="immediate",
        method="pmm",
        by_arm=False,
        m=400,
        seed=1,
    )
    done = res.complete(1)
    assert set(done["y"]) <= set(one["y"].dropna())
    assert set(done["base"]) <= set(one["base"].dropna())
    waves = impute_waves(one, **MODEL, baseline="base", m=400, seed=2).ancova()
    assert res.estimate == pytest.approx(waves.estimate, abs=0.02)
    assert res.std_error == pytest.approx(waves.std_error, rel=0.05)
