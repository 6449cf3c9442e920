"""Multiple imputation, Rubin's rules and the tipping-point analysis.

Golden values come from R ``mice`` 3.15 (``tests/reference/imputation/reference.R``):
``pool.scalar`` on fixed numbers and ``pool()`` on a ``mice`` run are pure formulas (1e-10);
our imputations cannot reproduce ``mice``'s random draws, so the imputation model is checked by
its posterior-predictive moments and, with m = 200, against ``mice``'s pooled results within
Monte Carlo error.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coaching_trials as ct
from coaching_trials._errors import DataValidationError
from coaching_trials._results import EFFECT_COLUMNS
from coaching_trials.analysis import _mi_engine as imp
from coaching_trials.analysis._impute_norm import draw_norm
from coaching_trials.analysis.imputation import multiple_imputation, pool_rubin, tipping_point

REF = Path(__file__).resolve().parents[1] / "reference" / "imputation"
EXACT = 1e-10
ARGS = {"outcome": "followup", "baseline": "baseline", "arm": "arm", "treated": "immediate"}
POOLED = ("estimate", "std_error", "df", "statistic", "p_value", "conf_low", "conf_high")


def golden(name: str) -> dict[str, dict[str, float]]:
    frame = pd.read_csv(REF / f"golden_{name}.csv")
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return {
        case: dict(zip(part["quantity"], part["value"], strict=True))
        for case, part in frame.groupby("case", sort=False)
    }


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    return pd.read_csv(REF / "trial_mi.csv")


def close(a, b, tol=EXACT):
    return a == pytest.approx(b, rel=tol, abs=tol)


# --------------------------------------------------------------------------- Rubin's rules
POOL_SCALAR = golden("pool_scalar")


@pytest.mark.parametrize("case", list(POOL_SCALAR))
def test_pool_rubin_matches_mice_pool_scalar(case):
    # R: pool.scalar(Q, U, n = dfcom + 1, k = 1); statistic, p and CI from qt(df)
    ref = POOL_SCALAR[case]
    inp = pd.read_csv(REF / "pool_inputs.csv").query("case == @case")
    dfc = inp["df_complete"].iloc[0]
    kw = {"df_complete": None if np.isnan(dfc) else dfc}
    res = pool_rubin(inp["estimate"], inp["variance"], **kw)
    expected = {
        "estimate": ref["qbar"],
        "within": ref["ubar"],
        "between": ref["b"],
        "total": ref["t"],
        "df": ref["df"],
        "riv": ref["riv"],
        "lambda_": ref["lambda"],
        "fmi": ref["fmi"],
        "statistic": ref["statistic"],
        "p_value": ref["p_value"],
        "conf_low": ref["conf_low"],
        "conf_high": ref["conf_high"],
    }
    for name, value in expected.items():
        assert close(getattr(res, name), value), name
    assert res.m == ref["m"]
    assert close(res.std_error, np.sqrt(ref["t"]))
    res90 = pool_rubin(inp["estimate"], inp["variance"], conf_level=0.90, **kw)
    assert close(res90.conf_low, ref["conf_low_90"])


MICE_POOL = golden("mice_pool")
MICE_FITS = pd.read_csv(REF / "mice_fits.csv")
R_TERMS = {  # R term -> ours
    "(Intercept)": "(Intercept)",
    "armimmediate": "arm[immediate]",
    "baseline": "baseline",
    "baseline_gap": "baseline",
    "age": "age",
    "sitesouth": "site[south]",
    "sitewest": "site[west]",
}


def _check_against_mice_pool(run: str, pooled: imp.PooledEstimates, tol: float) -> None:
    frame = pooled.to_frame().set_index("term")
    r_terms = MICE_FITS.query("case == @run")["term"].unique()
    assert list(frame.index) == [R_TERMS[t] for t in r_terms]
    for term in r_terms:
        ref = MICE_POOL[f"{run}_{term}"]
        row = frame.loc[R_TERMS[term]]
        for name in (*POOLED, "riv", "lambda", "fmi"):
            assert close(row[name], ref[name], tol), (term, name)
        for name, r_name in (("within", "ubar"), ("between", "b"), ("total", "t")):
            assert close(row[name], ref[r_name], tol), (term, name)
    assert pooled.df_complete == MICE_FITS.query("case == @run")["df_residual"].iloc[0]


@pytest.mark.parametrize("run", ["y", "yb"])
def test_pool_rubin_matches_mice_pool_on_mice_fits(run):
    # R: summary(pool(with(imp, lm(followup ~ arm + baseline + age + site))), conf.int = TRUE)
    fits = MICE_FITS.query("case == @run")
    est = fits.pivot(index="imputation", columns="term", values="estimate")
    se = fits.pivot(index="imputation", columns="term", values="std_error")
    terms = list(fits["term"].unique())
    res = pool_rubin(
        est[terms],
        se[terms] ** 2,
        df_complete=float(fits["df_residual"].iloc[0]),
        terms=[R_TERMS[t] for t in terms],
    )
    _check_against_mice_pool(run, res, EXACT)


@pytest.mark.parametrize("run", ["y", "yb"])
def test_batched_ancova_on_mice_imputations_matches_lm_and_pool(run):
    # our stacked least squares on mice's completed data = lm() per imputation and pool()
    long = pd.read_csv(REF / "mice_completed.csv").query("case == @run")
    first = long[long[".imp"] == 1].reset_index(drop=True)
    prep = imp.prepare(first, covariates=("age", "site"), **ARGS)
    y = long.pivot(index=".imp", columns="participant_id", values="followup")
    b = long.pivot(index=".imp", columns="participant_id", values="baseline")
    order = first["participant_id"]
    beta, var, df_com = imp.ancova_stack(prep, y[order].to_numpy(), b[order].to_numpy())
    fits = MICE_FITS.query("case == @run")
    r_est = fits.pivot(index="imputation", columns="term", values="estimate")
    r_se = fits.pivot(index="imputation", columns="term", values="std_error")
    terms = list(fits["term"].unique())
    np.testing.assert_allclose(beta, r_est[terms].to_numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.sqrt(var), r_se[terms].to_numpy(), rtol=1e-9)
    assert df_com == fits["df_residual"].iloc[0]
    pooled = pool_rubin(beta, var, df_complete=df_com, terms=[R_TERMS[t] for t in terms])
    _check_against_mice_pool(run, pooled, 1e-8)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"estimates": [1.0, 2.0], "variances": [0.1]}, ValueError, "same shape"),
        ({"estimates": [1.0], "variances": [0.1]}, ValueError, "at least 2 imputations"),
        ({"estimates": [1.0, np.nan], "variances": [0.1, 0.1]}, ValueError, "finite"),
        ({"estimates": [1.0, 2.0], "variances": [0.1, -0.1]}, ValueError, "non-negative"),
        (
            {"estimates": [1.0, 2.0], "variances": [0.1, 0.1], "df_complete": 0},
            ValueError,
            "positive",
        ),
        (
            {"estimates": [1.0, 2.0], "variances": [0.1, 0.1], "df_complete": "10"},
            TypeError,
            "df_complete",
        ),
        (
            {"estimates": [1.0, 2.0], "variances": [0.1, 0.1], "conf_level": 95},
            ValueError,
            "conf_level",
        ),
        ({"estimates": np.ones((2, 2, 2)), "variances": np.ones((2, 2, 2))}, ValueError, "shape"),
        (
            {"estimates": np.ones((3, 2)), "variances": np.ones((3, 2)), "terms": ["a"]},
            ValueError,
            "terms",
        ),
        ({"estimates": ["a", "b"], "variances": [0.1, 0.1]}, TypeError, "numeric"),
    ],
)
def test_pool_rubin_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        pool_rubin(**kwargs)


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(2, 30),
    p=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
    dfc=st.one_of(st.none(), st.floats(1.0, 500.0)),
)
def test_pool_rubin_properties(m, p, seed, dfc):
    rng = np.random.default_rng(seed)
    q = rng.normal(0, 1, (m, p))
    u = rng.uniform(0.01, 1.0, (m, p))
    res = pool_rubin(q, u, df_complete=dfc)
    assert np.all(res.conf_low <= res.estimate) and np.all(res.estimate <= res.conf_high)
    assert np.all((res.fmi >= 0) & (res.fmi <= 1)) and np.all(res.total >= res.within)
    perm = pool_rubin(q[rng.permutation(m)], u, df_complete=dfc)  # U order is irrelevant too
    np.testing.assert_allclose(perm.estimate, res.estimate, rtol=1e-12)
    np.testing.assert_allclose(perm.between, res.between, rtol=1e-10)
    for j in range(p):  # a matrix pools column by column
        one = pool_rubin(q[:, j], u[:, j], df_complete=dfc)
        assert close(one.df, res.df[j], 1e-12) and close(one.p_value, res.p_value[j], 1e-12)
    if dfc is not None:  # Barnard-Rubin df never exceed the complete-data df
        assert np.all(res.df <= dfc)


def test_pool_rubin_frame_and_immutability():
    q = pd.DataFrame({"a": [1.0, 1.1, 0.9], "b": [2.0, 2.5, 2.2]})
    res = pool_rubin(q, q * 0 + 0.04, df_complete=50)
    frame = res.to_frame()
    assert frame["term"].tolist() == ["a", "b"]
    assert list(frame.columns[:12]) == [
        "term",
        *POOLED,
        "riv",
        "lambda",
        "fmi",
        "m",
    ]
    with pytest.raises(ValueError):
        res.estimate[0] = 5.0  # read-only arrays
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.m = 3
    assert "Rubin" in repr(res) and "<div>" in res._repr_html_()


# --------------------------------------------------------------------------- imputation model
@pytest.mark.parametrize("stacked", [False, True])
def test_norm_draws_have_posterior_predictive_moments(stacked):
    # Under p(beta, sigma^2) ~ 1/sigma^2 a draw for a row x0 is Student t with nu = n - p df,
    # location x0'b_hat and scale s^2 (1 + x0'(X'X)^-1 x0): mean and variance checked within
    # 4 Monte Carlo standard errors (variance SE from the t kurtosis, excess 6 / (nu - 4)).
    rng = np.random.default_rng(3)
    n, m = 30, 40_000
    x = np.column_stack([np.ones(n), rng.normal(2, 0.8, n)])
    y = 0.5 + 0.7 * x[:, 1] + rng.normal(0, 0.6, n)
    x_mis = np.array([[1.0, 2.0], [1.0, 4.5]])
    x_obs = np.broadcast_to(x, (m, n, 2)) if stacked else x
    draws = draw_norm(x_obs, np.broadcast_to(y, (m, n)), x_mis, np.random.default_rng(11))
    assert draws.shape == (m, 2)
    bhat, rss = np.linalg.lstsq(x, y, rcond=None)[:2]
    nu = n - 2
    s2 = rss[0] / nu
    lev = np.einsum("ij,jk,ik->i", x_mis, np.linalg.inv(x.T @ x), x_mis)
    mean = x_mis @ bhat
    var = s2 * (1 + lev) * nu / (nu - 2)
    se_mean = np.sqrt(var / m)
    se_var = var * np.sqrt((2 + 6 / (nu - 4)) / m)
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4 * se_mean)
    assert np.all(np.abs(draws.var(axis=0, ddof=1) - var) < 4 * se_var)
    # the two draws share beta*, sigma*: their covariance is s^2 x1'(X'X)^-1 x2 nu / (nu - 2)
    cov = s2 * (x_mis[0] @ np.linalg.inv(x.T @ x) @ x_mis[1]) * nu / (nu - 2)
    se_cov = np.sqrt(var[0] * var[1] / m) * 1.2  # (1 + rho^2)^(1/2) <= 1.2 with kurtosis slack
    assert abs(np.cov(draws.T)[0, 1] - cov) < 4 * se_cov


def test_imputed_values_through_the_public_api_have_the_predictive_moments(trial):
    # with by_arm=True each arm is imputed from its own regression on baseline
    m = 4000
    res = multiple_imputation(trial, **ARGS, m=m, seed=5)
    miss = trial["followup"].isna().to_numpy()
    i = int(np.nonzero(miss & (trial["arm"] == "delayed").to_numpy())[0][0])
    arm_rows = (trial["arm"] == "delayed").to_numpy() & ~miss
    x = np.column_stack([np.ones(arm_rows.sum()), trial.loc[arm_rows, "baseline"]])
    y = trial.loc[arm_rows, "followup"].to_numpy()
    bhat, rss = np.linalg.lstsq(x, y, rcond=None)[:2]
    nu = x.shape[0] - 2
    x0 = np.array([1.0, trial.loc[i, "baseline"]])
    var = rss[0] / nu * (1 + x0 @ np.linalg.inv(x.T @ x) @ x0) * nu / (nu - 2)
    draws = res._y[:, i]
    assert abs(draws.mean() - x0 @ bhat) < 4 * np.sqrt(var / m)
    assert abs(draws.var(ddof=1) - var) < 4 * var * np.sqrt((2 + 6 / (nu - 4)) / m)
    observed = ~miss
    assert np.all(res._y[:, observed] == trial["followup"].to_numpy()[observed])


# --------------------------------------------------------------------------- analysis
@pytest.mark.parametrize(
    ("baseline", "covariates", "by_arm"),
    [
        ("baseline", (), True),
        ("baseline", ("age", "site"), False),
        ("baseline_gap", ("age", "site"), True),
    ],
)
def test_each_imputation_equals_ancova_on_the_completed_data(trial, baseline, covariates, by_arm):
    kw = {**ARGS, "baseline": baseline}
    res = multiple_imputation(trial, **kw, covariates=covariates, m=5, by_arm=by_arm, seed=1)
    for j in (1, 3, 5):
        fit = ct.ancova(res.complete(j), **kw, covariates=covariates)
        row = res.imputations.set_index("imputation").loc[j]
        assert close(row["estimate"], fit.estimate, 1e-10)
        assert close(row["std_error"], fit.std_error, 1e-10)
        assert row["df"] == fit.df
        assert fit.n_treated + fit.n_control == len(trial)
    pooled = pool_rubin(
        res.imputations["estimate"],
        res.imputations["std_error"] ** 2,
        df_complete=res.imputations["df"].iloc[0],
    )
    for name in POOLED:
        assert close(getattr(res, name), getattr(pooled, name), 1e-12), name
    long = res.complete()
    assert len(long) == 5 * len(trial) and long.columns[0] == "imputation"
    assert not long[["followup", baseline]].isna().any().any()


def test_no_missing_data_gives_the_plain_ancova_exactly(trial):
    full = trial.assign(followup=trial["followup_full"])
    res = multiple_imputation(full, **ARGS, covariates=("age", "site"), m=5, seed=2)
    fit = ct.ancova(full, **ARGS, covariates=("age", "site"))
    assert close(res.estimate, fit.estimate, 1e-12) and close(res.std_error, fit.std_error, 1e-12)
    assert res.between == 0.0 and res.riv == 0.0 and res.lambda_ == 0.0
    assert res.imputations["estimate"].nunique() == 1
    # mice floors lambda at 1e-4 inside the Barnard-Rubin df: df = df_obs(1e-4) (df_old huge)
    dfc, lam = fit.df, 1e-4
    df_old, df_obs = 4 / lam**2, (dfc + 1) / (dfc + 3) * dfc * (1 - lam)
    assert close(res.df, df_old * df_obs / (df_old + df_obs), 1e-12)
    assert res.audit["reason"].str.startswith("imputed").sum() == 0


def test_mcar_dropout_estimate_near_complete_case_with_larger_se_than_full_data():
    # Under MCAR with the imputation model = analysis model (arm as predictor), E[MI | data]
    # is the complete-case estimate, so they differ only by Monte Carlo error sqrt(B / m).
    rng = np.random.default_rng(8)
    n = 400
    arm = np.where(rng.random(n) < 0.5, "immediate", "delayed")
    base = rng.normal(2, 0.8, n)
    full = 0.4 + 0.6 * base - 0.4 * (arm == "immediate") + rng.normal(0, 0.6, n)
    follow = np.where(rng.random(n) < 0.25, np.nan, full)
    data = pd.DataFrame({"arm": arm, "baseline": base, "followup": follow})
    m = 200
    res = multiple_imputation(data, **ARGS, m=m, by_arm=False, seed=9)
    cc = ct.ancova(data, **ARGS)
    everyone = ct.ancova(data.assign(followup=full), **ARGS)
    assert abs(res.estimate - cc.estimate) < 4 * np.sqrt(res.between / m)
    assert res.std_error > everyone.std_error
    assert 0.9 < res.std_error / cc.std_error < 1.15
    assert 0.05 < res.fmi < 0.5


def test_determinism_and_no_mutation(trial):
    before = trial.copy()
    kw = {**ARGS, "baseline": "baseline_gap", "covariates": ("age", "site"), "m": 6}
    a = multiple_imputation(trial, **kw, seed=123)
    b = multiple_imputation(trial, **kw, seed=123)
    c = multiple_imputation(trial, **kw, seed=124)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.imputations, b.imputations)
    pd.testing.assert_frame_equal(a.complete(), b.complete())
    assert a.estimate != c.estimate
    pd.testing.assert_frame_equal(trial, before)


def test_result_schema_audit_and_completion(trial):
    data = trial.copy()
    data.loc[[3, 7], "site"] = np.nan  # excluded: covariate missing
    data.loc[[5], "arm"] = np.nan  # excluded: arm missing
    res = multiple_imputation(
        data, **{**ARGS, "baseline": "baseline_gap"}, covariates=("age", "site"), m=4, seed=0
    )
    frame = res.to_frame()
    assert list(frame.columns) == list(EFFECT_COLUMNS)
    assert frame.loc[0, "analysis"] == "ancova_mi"
    assert frame.loc[0, "estimand"].startswith("randomized (MAR, multiple imputation)")
    kept = data.drop(index=[3, 5, 7])
    audit = res.audit.set_index("reason")["n_rows"]
    assert audit["missing covariate 'site'"] == 2
    assert audit["missing arm 'arm'"] == 1
    for arm in ("immediate", "delayed"):
        rows = kept[kept["arm"] == arm]
        assert (
            audit[f"imputed outcome 'followup' in arm '{arm}' (MAR)"]
            == rows["followup"].isna().sum()
        )
        n_b = rows["baseline_gap"].isna().sum()
        assert audit.get(f"imputed baseline 'baseline_gap' in arm '{arm}' (MAR)", 0) == n_b
        comp = res.completion.set_index("arm").loc[arm]
        assert comp["n"] == len(rows)
        assert comp["completion"] == pytest.approx(rows["followup"].notna().mean())
    assert (res.n_treated, res.n_control) == (
        (kept["arm"] == "immediate").sum(),
        (kept["arm"] == "delayed").sum(),
    )
    assert res.pooled.to_frame()["term"].tolist()[:3] == [
        "(Intercept)",
        "arm[immediate]",
        "baseline_gap",
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 0.0
    table = res.imputations
    table.loc[0, "estimate"] = 99.0
    assert res.imputations.loc[0, "estimate"] != 99.0
    with pytest.raises(ValueError):
        res._y[0, 0] = 1.0
    assert "Rubin" in res.summary()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"m": 1}, ValueError, "`m`"),
        ({"m": 2.5}, TypeError, "`m`"),
        ({"method": "locf"}, ValueError, "`method` must be one of"),
        ({"analysis": "mmrm"}, ValueError, "`analysis` must be one of"),
        ({"by_arm": "yes"}, TypeError, "by_arm"),
        ({"iterations": 0}, ValueError, "iterations"),
        ({"outcome": "nope"}, ValueError, "not found"),
        ({"treated": "placebo"}, ValueError, "treated"),
        ({"covariates": ("arm",)}, ValueError, "must not repeat"),
        ({"baseline": "followup"}, ValueError, "different columns"),
        ({"conf_level": 1.5}, ValueError, "conf_level"),
    ],
)
def test_multiple_imputation_rejects_bad_options(trial, kwargs, error, match):
    with pytest.raises(error, match=match):
        multiple_imputation(trial, **{**ARGS, "m": 3, **kwargs})


@pytest.mark.parametrize(
    ("by_arm", "match"),
    [(False, "imputation model .* not of full rank"), (True, "ANCOVA design is not of full")],
)
def test_constant_covariate_is_rejected(trial, by_arm, match):
    # by arm, a covariate constant within the arm is dropped from the imputation model; the
    # analysis model still cannot estimate it
    with pytest.raises(ValueError, match=match):
        multiple_imputation(trial.assign(const=1.0), **ARGS, covariates=("const",), by_arm=by_arm)


def test_data_problems_are_reported(trial):
    bad = trial.astype({"followup": object})
    bad.loc[4, "followup"] = "n/a"
    with pytest.raises(DataValidationError, match="non-numeric"):
        multiple_imputation(bad, **ARGS, m=3)
    few = trial.copy()
    few.loc[few["arm"] == "immediate", "followup"] = np.nan
    few.loc[few.index[few["arm"] == "immediate"][:2], "followup"] = 1.0
    with pytest.raises(DataValidationError, match="only 2 observed") as info:
        multiple_imputation(few, **ARGS, m=3)
    assert info.value.failure_cases.loc[0, "check"] == "too_few_observed"
    with pytest.raises(TypeError, match="DataFrame"):
        multiple_imputation(trial.to_numpy(), **ARGS, m=3)


# --------------------------------------------------------------------------- mice, Monte Carlo
MC = golden("mice_mc")
MC_RUNS = {
    "plain_pred": {"by_arm": False},
    "plain_byarm": {"by_arm": True},
    "cov_gap_pred": {
        "by_arm": False,
        "baseline": "baseline_gap",
        "covariates": ("age", "site"),
        "iterations": 20,
    },
}


@pytest.mark.parametrize("case", list(MC_RUNS))
def test_pooled_results_agree_with_mice_norm_within_monte_carlo_error(trial, case):
    # R: mice(method = "norm", m = 200) [per arm + rbind for by_arm]; pool(with(imp, lm(...)))
    ref = MC[case]
    m = int(ref["m"])
    res = multiple_imputation(trial, **{**ARGS, **MC_RUNS[case]}, m=m, seed=2024)
    # estimate: two independent runs, each with Monte Carlo variance B / m
    tol_est = 4 * np.sqrt(res.between / m + ref["b"] / m)
    assert abs(res.estimate - ref["estimate"]) < tol_est
    # T = Ubar + (1 + 1/m) B: var(B_hat) = 2 B^2 / (m - 1), var(Ubar) = sd(U)^2 / m;
    # delta method for sqrt(T); difference of two runs
    var_t = (1 + 1 / m) ** 2 * 2 * ref["b"] ** 2 / (m - 1) + ref["sd_u"] ** 2 / m
    tol_se = 4 * np.sqrt(2 * var_t) / (2 * ref["std_error"])
    assert abs(res.std_error - ref["std_error"]) < tol_se
    # fmi ~ lambda = cB / T: relative sd of B_hat is sqrt(2 / (m - 1))
    tol_fmi = 4 * np.sqrt(2) * np.sqrt(2 / (m - 1)) * ref["fmi"] * (1 - ref["fmi"])
    assert abs(res.fmi - ref["fmi"]) < tol_fmi


# --------------------------------------------------------------------------- tipping point
TP = {**ARGS, "m": 20, "seed": 31}


def _pooled_by_hand(res, data, delta, shifted_arm, model):
    """Independent route: shift the imputed values of ``res.complete(j)`` and call ancova."""
    miss = data["followup"].isna() & data["arm"].isin(shifted_arm)
    est, var = [], []
    for j in range(1, res.m + 1):
        done = res.complete(j)
        done.loc[miss, "followup"] += delta
        fit = ct.ancova(done, **{**ARGS, **model})
        est.append(fit.estimate)
        var.append(fit.std_error**2)
    return pool_rubin(est, var, df_complete=fit.df)


TP_MODELS = {
    "plain": {},
    "gap_cov": {"baseline": "baseline_gap", "covariates": ("age", "site")},  # stacked designs
}


@pytest.mark.parametrize("model", list(TP_MODELS))
@pytest.mark.parametrize(
    ("delta_arm", "arms"),
    [
        ("treated", ["immediate"]),
        ("control", ["delayed"]),
        ("both", ["immediate", "delayed"]),
    ],
)
def test_tipping_point_table_matches_shifting_by_hand(trial, delta_arm, arms, model):
    deltas = [-0.5, 0.0, 0.75]
    kw = {**TP, **TP_MODELS[model]}
    tp = tipping_point(trial, **kw, deltas=deltas, delta_arm=delta_arm)
    assert tp.table["delta"].tolist() == deltas
    for rec in tp.table.to_dict("records"):
        ref = _pooled_by_hand(tp.mar, trial, rec["delta"], arms, TP_MODELS[model])
        for name in POOLED:
            assert close(rec[name], getattr(ref, name), 1e-9), (rec["delta"], name)
        assert rec["significant"] == (ref.p_value < 0.05)
        assert rec["significant"] == (ref.conf_low > 0 or ref.conf_high < 0)
    mar = multiple_imputation(trial, **kw)
    row0 = tp.table.set_index("delta").loc[0.0]
    assert close(row0["estimate"], mar.estimate, 1e-12) and close(row0["df"], mar.df, 1e-9)
    assert tp.mar.estimate == mar.estimate
    frame = tp.to_frame()
    assert list(frame.columns) == list(EFFECT_COLUMNS) and len(frame) == 3
    assert frame["analysis"].eq("ancova_mi_delta").all()
    assert frame["estimand"].str.startswith("sensitivity (MNAR, delta-adjusted)").all()


def test_tipping_delta_is_where_the_p_value_crosses_alpha(trial):
    deltas = np.arange(0.0, 3.01, 0.25)
    tp = tipping_point(trial, **TP, deltas=deltas)
    assert tp.mar_significant
    d = tp.tipping_delta
    table = tp.table
    below = table[table["delta"] < d]
    above = table[table["delta"] > d]
    assert below["significant"].all() and not above["significant"].iloc[0]
    at = tipping_point(trial, **TP, deltas=[d])
    assert close(at.table["p_value"].iloc[0], 0.05, 1e-7)
    # treated-arm dropouts doing worse (higher burnout) erodes the benefit: estimate rises
    assert np.all(np.diff(table["estimate"]) > 0)
    # linear in delta (the ANCOVA estimate is linear in y)
    assert np.allclose(np.diff(table["estimate"], 2), 0, atol=1e-12)
    no_flip = tipping_point(trial, **TP, deltas=[-1.0, -0.5])
    assert np.isnan(no_flip.tipping_delta)
    assert "tipping delta" in no_flip.summary()


def test_tipping_point_nearest_flip_on_either_side(trial):
    tp = tipping_point(trial, **TP, deltas=np.linspace(-6, 3, 19), delta_arm="treated")
    lower = tipping_point(trial, **TP, deltas=np.linspace(-6, 0, 13))
    assert tp.tipping_delta > 0
    assert np.isnan(lower.tipping_delta) or abs(lower.tipping_delta) >= tp.tipping_delta


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"delta_arm": "placebo"}, ValueError, "`delta_arm` must be one of"),
        ({"deltas": []}, ValueError, "non-empty"),
        ({"deltas": [0.0, np.inf]}, ValueError, "finite"),
        ({"deltas": ["a"]}, TypeError, "numbers"),
    ],
)
def test_tipping_point_rejects_bad_options(trial, kwargs, error, match):
    with pytest.raises(error, match=match):
        tipping_point(trial, **{**TP, "deltas": [0.0, 1.0], **kwargs})


# --------------------------------------------------------------------------- properties
@st.composite
def small_trials(draw):
    n_t, n_c = draw(st.integers(8, 20)), draw(st.integers(8, 20))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = n_t + n_c
    treat = np.r_[np.ones(n_t), np.zeros(n_c)]
    base = rng.normal(2, 0.8, n)
    y = 0.5 * base + draw(st.floats(-1, 1)) * treat + rng.normal(0, 0.6, n)
    miss = rng.random(n) < draw(st.floats(0.0, 0.3))
    miss[[0, n - 1]] = False
    return pd.DataFrame(
        {
            "arm": np.where(treat == 1, "immediate", "delayed"),
            "baseline": base,
            "followup": np.where(miss, np.nan, y),
        }
    )


@settings(max_examples=10, deadline=None)
@given(small_trials(), st.floats(-5, 5))
def test_interval_contains_estimate_and_shift_leaves_effect_unchanged(data, shift):
    res = multiple_imputation(data, **ARGS, m=5, seed=4)
    assert res.conf_low <= res.estimate <= res.conf_high
    assert 0 <= res.fmi <= 1
    moved = data.assign(followup=data["followup"] + shift, baseline=data["baseline"] + shift)
    res2 = multiple_imputation(moved, **ARGS, m=5, seed=4)
    assert res2.estimate == pytest.approx(res.estimate, rel=1e-7, abs=1e-8)
    assert res2.std_error == pytest.approx(res.std_error, rel=1e-7, abs=1e-8)


@pytest.mark.parametrize("labels", ["strings", "duplicates"])
def test_row_labels_are_kept_and_do_not_change_the_result(trial, labels):
    new = [f"r{i}" for i in range(len(trial))] if labels == "strings" else [0] * len(trial)
    kw = {**ARGS, "covariates": ("site",), "m": 4, "seed": 3}
    ref = multiple_imputation(trial, **kw)
    res = multiple_imputation(trial.set_axis(new), **kw)
    assert res.estimate == ref.estimate and res.std_error == ref.std_error
    assert list(res.complete(2).index) == new
    if labels == "strings":
        missing = trial.index[trial["followup"].isna() & (trial["arm"] == "delayed")]
        detail = res.audit.set_index("reason").loc[
            "imputed outcome 'followup' in arm 'delayed' (MAR)", "detail"
        ]
        assert f"'r{missing[0]}'" in detail
