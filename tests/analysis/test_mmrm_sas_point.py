"""SAS PROC MIXED reproduced at SAS's OWN covariance parameters (issue 3).

Why evaluate at SAS's parameters
--------------------------------
SAS stopped at its default convergence criterion; our fit converges tighter (its -2 REML
log-likelihood is ~6e-6 below SAS's, ``tests/reference/mmrm_fev/README.md`` "Precision and
tolerances"). Because the Satterthwaite / Kenward-Roger df are very sensitive to where the
covariance parameters sit (for Toeplitz, a point only 1e-4 above the optimum in -2 log-likelihood
moves the KR df by up to +-0.7), the converged-fit tests in ``test_mmrm.py`` cannot use the
tolerances issue 3 asks for. Here the model is evaluated, without optimising, at the covariance
parameters SAS printed (``covariance_parameters.csv``; the UN(i,j) indices are already mapped to
``row_visit`` / ``col_visit``, README "level-ordering trap") via ``control={"fixed_covariance":
...}``. Whatever still differs is then a difference of formulas, not of optimisers.

Tolerances (issue 3) and what they cover
----------------------------------------
* Printed values: |ours - SAS| <= max(1e-4 * |SAS|, half a unit of the printed digit) (the
  ``*_tol`` columns); printed df are integers, so |ours - SAS| <= 0.5.
* Full-precision KR rows (SAS ODS datasets): SE to 1e-4 relative, df within 1e-2 absolute.
* -2 log-likelihood at SAS's parameters: within 1e-5 of SAS's 8-decimal value (issue: 1e-3).

SAS printed its covariance parameters with 4 decimals (some with fewer, e.g. ``108.39``), so
"SAS's parameters" are only known to +-half a unit. The effect was measured by moving each
parameter by +-its ``estimate_tol`` and summing the largest |change| per parameter
(``test_kr_difference_is_within_parameter_rounding`` recomputes it):

=========  ========================  =====================  ===========================
structure  rounding: KR df (abs)     rounding: KR SE (rel)  ours - SAS at SAS's params
=========  ========================  =====================  ===========================
UN         2.1e-3                    6.5e-6                 df -3.4e-4, SE -2.5e-7
CS         8.4e-4                    1.2e-6                 df +4.0e-4, SE -5.6e-7
AR1        6.2e-3                    2.5e-5                 df +3.5e-3, SE +1.3e-5
TOEP       7.0e-4                    7.3e-7                 df +1.8e-4, SE -1.6e-7
ARH1       7.0e-3                    2.1e-5                 df -3.1e-3, SE -9.9e-6
CSH        5.9e-3                    8.3e-6                 df +8.7e-4, SE -1.4e-6
=========  ========================  =====================  ===========================

Every remaining difference lies inside the rounding band, and the band itself is below the
issue's tolerance (df 1e-2, SE 1e-4), so the tolerance covers the rounding. For the full
model the rounding moves estimates by <= 7e-6, SEs by <= 2.6e-6 relative and Satterthwaite df by
<= 1.7e-3, while the smallest margin of a df to its "within 0.5" bound is 0.017.

Toeplitz needed one fix (found by these tests): SAS profiles the residual variance and takes the
observed information in ``(Residual, TOEP(k)/Residual)``; away from the exact optimum that
Hessian differs from the one in ``(Residual, TOEP(k))`` by a gradient term. Without it the KR df
at SAS's parameters missed by 0.0107 (see ``test_profiled_information_is_what_sas_uses``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coaching_trials.analysis import _mmrm_engine as engine
from coaching_trials.analysis._mmrm_cov import make_structure
from coaching_trials.analysis.mmrm import fit_gls, mmrm

FEV = Path(__file__).resolve().parents[1] / "reference" / "mmrm_fev"
VISITS = ["VIS1", "VIS2", "VIS3", "VIS4"]
FULL = dict(
    outcome="FEV1",
    arm="ARMCD",
    visit="AVISIT",
    subject="USUBJID",
    treated="TRT",
    covariates=("RACE", "SEX"),
)
STRUCTURES = [
    ("unstructured", "UN"),
    ("compound_symmetry", "CS"),
    ("ar1", "AR1"),
    ("toeplitz", "TOEP"),
    ("ar1h", "ARH1"),
    ("csh", "CSH"),
]
KR_METHODS = [("kenward_roger", "KR"), ("kenward_roger_linear", "KRLIN")]


# ----------------------------------------------------------------------------- fixtures/helpers
@pytest.fixture(scope="module")
def fev() -> pd.DataFrame:
    frame = pd.read_csv(FEV / "fev_data.csv")
    frame["SEX"] = pd.Categorical(frame["SEX"], categories=["Male", "Female"])  # SAS reference
    return frame


@pytest.fixture(scope="module")
def sas() -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_csv(FEV / f"{name}.csv")
        for name in ("models", "fixed_effects", "covariance_parameters", "lsmeans", "contrasts")
    }


def _rows(table: pd.DataFrame, model_id: str) -> pd.DataFrame:
    return table[table["model_id"] == model_id]


def sas_parameters(
    sas: dict[str, pd.DataFrame], model_id: str, kind: str
) -> tuple[dict[str, float], dict[str, float]]:
    """SAS's covariance parameters keyed by our parameter names, and their rounding (+-tol).

    Our unstructured parameters are ``UN(i,j)`` with i >= j in the data's visit order
    VIS1..VIS4; SAS's indices follow its internal order, so they are matched through the
    ``row_visit`` / ``col_visit`` labels. The other structures use SAS's own names (all their
    fits used the natural visit order, README point 4).
    """
    rows = _rows(sas["covariance_parameters"], model_id)
    assert len(rows) == make_structure(kind, 4).n_params
    values: dict[str, float] = {}
    tols: dict[str, float] = {}
    for row in rows.itertuples():
        if kind == "unstructured":
            i, j = VISITS.index(row.row_visit), VISITS.index(row.col_visit)
            name = f"UN({max(i, j) + 1},{min(i, j) + 1})"
        else:
            name = row.sas_cov_parm
        values[name] = float(row.estimate)
        tols[name] = float(row.estimate_tol)
    return values, tols


def close_to_printed(got: float, ref: float, tol: float) -> bool:
    """Issue 3: within max(1e-4 relative, half a unit of SAS's printed digit)."""
    return abs(got - ref) <= max(1e-4 * abs(ref), tol)


def lsmean_matrix(res) -> np.ndarray:
    """LS-mean rows of the fev full model built independently (SAS: equal weights per level)."""
    names = list(res.fit.coef_names)
    rows = []
    for arm, visit in zip(res.lsmeans["arm"], res.lsmeans["visit"], strict=True):
        x = dict.fromkeys(names, 0.0)
        x["Intercept"] = 1.0
        if arm == "TRT":
            x["ARMCD[TRT]"] = 1.0
        if visit != "VIS1":
            x[f"AVISIT[{visit}]"] = 1.0
            if arm == "TRT":
                x[f"ARMCD[TRT]:AVISIT[{visit}]"] = 1.0
        x["RACE[Black or African American]"] = x["RACE[White]"] = 1 / 3
        x["SEX[Female]"] = 1 / 2
        rows.append([x[n] for n in names])
    return np.array(rows)


FULL_MODELS = [("UN_FULL_REML_SAT", True), ("UN_FULL_ML_SAT", False)]


@pytest.fixture(scope="module", params=FULL_MODELS, ids=["REML", "ML"])
def full_at_sas(request, fev, sas):
    model_id, reml = request.param
    values, _ = sas_parameters(sas, model_id, "unstructured")
    res = mmrm(fev, **FULL, reml=reml, control={"fixed_covariance": values})
    return model_id, res


@pytest.fixture(scope="module")
def arm_only(fev):
    data = fev.dropna(subset=["FEV1"])
    design = pd.DataFrame({"Intercept": 1.0, "ARMCD[TRT]": (data["ARMCD"] == "TRT").astype(float)})
    return data, design


def fit_arm_only(arm_only, kind: str, df_method: str, values: dict[str, float] | None):
    data, design = arm_only
    control = None if values is None else {"fixed_covariance": values}
    return fit_gls(
        data["FEV1"],
        design,
        data["USUBJID"],
        data["AVISIT"],
        covariance=kind,
        df_method=df_method,
        control=control,
    )


# ----------------------------------------------------------------------------- (a) full UN model
def test_full_model_likelihood_at_sas_parameters(full_at_sas, sas):
    model_id, res = full_at_sas
    ref = sas["models"].set_index("model_id").loc[model_id]
    # measured: REML +1.7e-7, ML +1.6e-8 (issue asks for 1e-3 or better)
    assert res.neg2_log_likelihood == pytest.approx(ref["neg2_loglik"], abs=1e-5)
    # the covariance really is SAS's: every parameter reproduced exactly
    cov = res.covariance
    for row in _rows(sas["covariance_parameters"], model_id).itertuples():
        assert cov.loc[row.row_visit, row.col_visit] == row.estimate
    assert res.convergence.iterations == 0 and not res.convergence.converged


def test_full_model_fixed_effects_at_sas_parameters(full_at_sas, sas):
    model_id, res = full_at_sas
    ours = res.coefficients.set_index("term")
    ref = _rows(sas["fixed_effects"], model_id)
    assert len(ref) == len(ours) == 11
    for row in ref.itertuples():
        got = ours.loc[row.parameter]
        assert close_to_printed(got["estimate"], row.estimate, row.estimate_tol), row.parameter
        assert close_to_printed(got["std_error"], row.std_error, row.std_error_tol), row.parameter
        assert abs(got["df"] - row.df) <= row.df_tol == 0.5, row.parameter
        assert got["statistic"] == pytest.approx(row.t_value, abs=0.005 + 1e-4 * abs(row.t_value))


def test_full_model_tiny_interaction_estimate_at_sas_parameters(fev, sas):
    """The value the converged fit cannot meet (-0.0421 vs printed -0.04231, tol 5e-6)."""
    values, _ = sas_parameters(sas, "UN_FULL_REML_SAT", "unstructured")
    res = mmrm(fev, **FULL, control={"fixed_covariance": values})
    got = res.coefficients.set_index("term").loc["ARMCD[TRT]:AVISIT[VIS2]", "estimate"]
    assert got == pytest.approx(-0.04231, abs=5e-6)


def test_full_model_lsmeans_at_sas_parameters(fev, sas):
    values, _ = sas_parameters(sas, "UN_FULL_REML_SAT", "unstructured")
    res = mmrm(fev, **FULL, control={"fixed_covariance": values})
    ours = res.lsmeans.set_index(["visit", "arm"])
    ref = _rows(sas["lsmeans"], "UN_FULL_REML_SAT")
    assert len(ref) == len(ours) == 8
    for row in ref.itertuples():
        got = ours.loc[(row.AVISIT, row.ARMCD)]
        assert close_to_printed(got["estimate"], row.estimate, row.estimate_tol)
        assert close_to_printed(got["std_error"], row.std_error, row.std_error_tol)
        assert abs(got["df"] - row.df) <= row.df_tol  # measured max 0.480 (VIS2/TRT 143.520)


def test_full_model_contrasts_at_sas_parameters(fev, sas):
    """All 28 differences of LS-means, and the 4 visit-wise effects of the effects table."""
    values, _ = sas_parameters(sas, "UN_FULL_REML_SAT", "unstructured")
    res = mmrm(fev, **FULL, control={"fixed_covariance": values})
    grid = lsmean_matrix(res)
    np.testing.assert_allclose(grid @ res.fit.beta, res.lsmeans["estimate"], rtol=1e-12)
    key = {
        (v, a): i
        for i, (v, a) in enumerate(zip(res.lsmeans["visit"], res.lsmeans["arm"], strict=True))
    }
    ref = _rows(sas["contrasts"], "UN_FULL_REML_SAT").reset_index(drop=True)
    assert len(ref) == 28
    lmat = np.vstack(
        [
            grid[key[(r.avisit_1, r.armcd_1)]] - grid[key[(r.avisit_2, r.armcd_2)]]
            for r in ref.itertuples()
        ]
    )
    got = res.fit.contrast(lmat, names=list(ref["contrast"]))
    for row, ours in zip(ref.itertuples(), got.itertuples(), strict=True):
        assert close_to_printed(ours.estimate, row.estimate, row.estimate_tol), row.contrast
        assert close_to_printed(ours.std_error, row.std_error, row.std_error_tol), row.contrast
        assert abs(ours.df - row.df) <= row.df_tol, row.contrast  # measured max 0.480
    effects = res.to_frame().set_index("wave")
    same_visit = ref[ref["avisit_1"] == ref["avisit_2"]]
    assert len(same_visit) == 4
    for row in same_visit.itertuples():
        eff = effects.loc[row.avisit_1]
        assert close_to_printed(eff["estimate"], row.estimate, row.estimate_tol)
        assert close_to_printed(eff["std_error"], row.std_error, row.std_error_tol)
        assert abs(eff["df"] - row.df) <= row.df_tol


def test_intercept_only_model_at_sas_parameters(fev, sas):
    data = fev.dropna(subset=["FEV1"])
    values, _ = sas_parameters(sas, "UN_INT_REML_SAT", "unstructured")
    fit = fit_gls(
        data["FEV1"],
        np.ones((len(data), 1)),
        data["USUBJID"],
        data["AVISIT"],
        control={"fixed_covariance": values},
    )
    model = sas["models"].set_index("model_id").loc["UN_INT_REML_SAT"]
    assert fit.neg2_log_likelihood == pytest.approx(model["neg2_loglik"], abs=1e-5)
    ref = _rows(sas["fixed_effects"], "UN_INT_REML_SAT").iloc[0]
    coef = fit.coefficients.iloc[0]
    # the converged fit gives 42.8330; at SAS's parameters 42.83377 (printed 42.8338)
    assert abs(coef["estimate"] - ref["estimate"]) <= ref["estimate_tol"]
    assert close_to_printed(coef["std_error"], ref["std_error"], ref["std_error_tol"])
    assert abs(coef["df"] - ref["df"]) <= ref["df_tol"]


# ----------------------------------------------------------------------------- (b) KR fits
@pytest.mark.parametrize(("df_method", "suffix"), KR_METHODS)
@pytest.mark.parametrize(("kind", "prefix"), STRUCTURES)
def test_kenward_roger_at_sas_parameters(arm_only, sas, kind, prefix, df_method, suffix):
    """SE to 1e-4 relative and df within 1e-2 of SAS's full-precision values.

    The rounding of SAS's printed covariance parameters moves these by at most 7e-3 (df) and
    2.5e-5 (relative SE) (module docstring table), so the tolerance covers it.
    """
    model_id = f"{prefix}_ARMCD_REML_{suffix}"
    values, _ = sas_parameters(sas, model_id, kind)
    fit = fit_arm_only(arm_only, kind, df_method, values)
    ref = _rows(sas["contrasts"], model_id).iloc[0]
    assert ref["precision"].startswith("full")
    trt = fit.coefficients.set_index("term").loc["ARMCD[TRT]"]
    assert trt["estimate"] == pytest.approx(ref["estimate"], rel=1e-5)
    assert trt["std_error"] == pytest.approx(ref["std_error"], rel=1e-4)
    assert trt["df"] == pytest.approx(ref["df"], abs=1e-2)
    model = sas["models"].set_index("model_id").loc[model_id]
    assert fit.neg2_log_likelihood == pytest.approx(model["neg2_loglik"], abs=1e-5)
    # printed LS-means (intercept + arm; intercept) with KR-adjusted SE and KR df. Printed
    # values carry both roundings: the printed digit AND the parameter rounding (<= 2.5e-5
    # relative on KR SEs, module docstring). Both are needed for ARH1 KR, TRT: ours 0.5504449,
    # printed 0.5505 (so SAS >= 0.55045, 5.1e-6 away), parameter-rounding band 1.2e-5.
    lsm = fit.contrast([[1.0, 1.0], [1.0, 0.0]], names=["TRT", "PBO"]).set_index("contrast")
    for row in _rows(sas["lsmeans"], model_id).itertuples():
        got = lsm.loc[row.ARMCD]
        assert close_to_printed(got["estimate"], row.estimate, row.estimate_tol)
        band = 2.5e-5 * row.std_error
        assert abs(got["std_error"] - row.std_error) <= (
            max(1e-4 * row.std_error, row.std_error_tol) + band
        )
        assert abs(got["df"] - row.df) <= row.df_tol


@pytest.mark.parametrize(("kind", "prefix"), STRUCTURES)
def test_kr_difference_is_within_parameter_rounding(arm_only, sas, kind, prefix):
    """Perturb each SAS parameter by +-half a printed unit: the df / SE band this spans.

    Asserts (1) the band is inside the issue's tolerance (df 1e-2, SE 1e-4 relative) and (2)
    our value at SAS's printed parameters differs from SAS's by no more than that band, i.e.
    what is left is rounding of the printed parameters, not a formula difference.
    """
    model_id = f"{prefix}_ARMCD_REML_KR"
    values, tols = sas_parameters(sas, model_id, kind)
    base = fit_arm_only(arm_only, kind, "kenward_roger", values).coefficients.iloc[1]
    band_df = 0.0
    band_se = 0.0
    for name in values:
        moved = [
            fit_arm_only(
                arm_only, kind, "kenward_roger", {**values, name: values[name] + sign * tols[name]}
            ).coefficients.iloc[1]
            for sign in (1.0, -1.0)
        ]
        band_df += max(abs(m["df"] - base["df"]) for m in moved)
        band_se += max(abs(m["std_error"] / base["std_error"] - 1.0) for m in moved)
    assert band_df < 1e-2 and band_se < 1e-4
    ref = _rows(sas["contrasts"], model_id).iloc[0]
    assert abs(base["df"] - ref["df"]) <= band_df
    assert abs(base["std_error"] / ref["std_error"] - 1.0) <= band_se


# ----------------------------------------------------------------------------- engine pieces
def test_profiled_information_is_what_sas_uses(arm_only, sas):
    """Toeplitz at SAS's (not exactly stationary) point: W = 2 H^-1 in eta misses SAS's df.

    SAS profiles the residual variance; its observed information is taken in
    ``(Residual, TOEP(k)/Residual)``. With ``W = 2 H_eta^-1`` the df is 0.0107 away from SAS's
    160.027408; with the profiled information it is 2e-4 away.
    """
    data, design = arm_only
    structure = make_structure("toeplitz", 4)
    values, _ = sas_parameters(sas, "TOEP_ARMCD_REML_KR", "toeplitz")
    names = [rec["parameter"] for rec in structure.param_names(VISITS)]
    eta = np.array([values[n] for n in names])
    patterns = engine.build_patterns(
        data["FEV1"].to_numpy(),
        design.to_numpy(),
        pd.factorize(data["USUBJID"])[0].astype(np.int64),
        data["AVISIT"].map({v: i for i, v in enumerate(VISITS)}).to_numpy().astype(np.int64),
        4,
    )
    der = engine.derivatives_eta(patterns, structure, eta, reml=True)
    contrast = np.array([0.0, 1.0])
    ref = _rows(sas["contrasts"], "TOEP_ARMCD_REML_KR").iloc[0]["df"]
    cov_beta = der.evaluation.cov_beta
    naive = engine.kr_df(cov_beta, 2.0 * np.linalg.inv(der.hessian), der.pmat, contrast)[0]
    sas_like = engine.kr_df(
        cov_beta, engine.covariance_parameter_vcov(structure, eta, der), der.pmat, contrast
    )[0]
    assert abs(naive - ref) > 1e-2
    assert abs(sas_like - ref) < 1e-3


@pytest.mark.parametrize("kind", ["compound_symmetry", "toeplitz", "ar1", "unstructured"])
def test_profile_jacobian_matches_finite_differences(kind):
    structure = make_structure(kind, 4)
    eta = {
        "compound_symmetry": np.array([3.0, 80.0]),
        "toeplitz": np.array([84.0, 36.0, 2.0, -22.0]),
        "ar1": np.array([84.0, 0.39]),
        "unstructured": np.arange(1.0, 11.0),
    }[kind]
    jac, d2 = structure.profile_jacobian(eta)
    if kind in ("ar1", "unstructured"):  # not profiled: psi = eta
        np.testing.assert_array_equal(jac, np.eye(len(eta)))
        assert not d2.any()
        return
    res = 1 if kind == "compound_symmetry" else 0
    other = np.arange(len(eta)) != res

    def eta_of(psi: np.ndarray) -> np.ndarray:
        out = psi * psi[res]
        out[res] = psi[res]
        return out

    psi = np.where(other, eta / eta[res], eta)
    np.testing.assert_allclose(eta_of(psi), eta)
    h = 1e-6
    for j in range(len(eta)):
        step = np.zeros(len(eta))
        step[j] = h * max(1.0, abs(psi[j]))
        num = (eta_of(psi + step) - eta_of(psi - step)) / (2 * step[j])
        np.testing.assert_allclose(jac[:, j], num, rtol=1e-7, atol=1e-9)
        jac_up = structure.profile_jacobian(eta_of(psi + step))[0]
        jac_dn = structure.profile_jacobian(eta_of(psi - step))[0]
        num2 = (jac_up - jac_dn) / (2 * step[j])  # [k, i] = d2 eta_k / d psi_i d psi_j
        np.testing.assert_allclose(d2[:, :, j], num2, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("kind", "prefix"), [("toeplitz", "TOEP"), ("compound_symmetry", "CS")])
def test_profiled_information_equals_inverse_hessian_at_the_optimum(arm_only, kind, prefix):
    fit = fit_arm_only(arm_only, kind, "kenward_roger", None)
    assert fit.convergence.converged
    data, design = arm_only
    structure = make_structure(kind, 4)
    patterns = engine.build_patterns(
        data["FEV1"].to_numpy(),
        design.to_numpy(),
        pd.factorize(data["USUBJID"])[0].astype(np.int64),
        data["AVISIT"].map({v: i for i, v in enumerate(VISITS)}).to_numpy().astype(np.int64),
        4,
    )
    der = engine.derivatives_eta(patterns, structure, np.array(fit.eta), reml=True)
    np.testing.assert_allclose(fit.eta_vcov, 2.0 * np.linalg.inv(der.hessian), rtol=1e-5)


# ----------------------------------------------------------------------------- the control option
def test_fixed_covariance_at_own_estimates_reproduces_the_fit(fev):
    fitted = mmrm(fev, **FULL, covariance="toeplitz", df_method="kenward_roger")
    given = fitted.covariance_parameters.set_index("parameter")["estimate"]  # a Series
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning although nothing was optimised
        again = mmrm(
            fev,
            **FULL,
            covariance="toeplitz",
            df_method="kenward_roger",
            control={"fixed_covariance": given},
        )
    a, b = fitted.to_frame(), again.to_frame()
    np.testing.assert_allclose(b["estimate"], a["estimate"], rtol=1e-12)
    np.testing.assert_allclose(b["std_error"], a["std_error"], rtol=1e-10)
    np.testing.assert_allclose(b["df"], a["df"], rtol=1e-6)
    assert again.neg2_log_likelihood == pytest.approx(fitted.neg2_log_likelihood, abs=1e-9)
    report = again.convergence
    assert (report.converged, report.iterations) == (False, 0)
    assert "fixed_covariance" in report.optimizer and "not optimised" in report.message
    np.testing.assert_array_equal(again.fit.eta, given.to_numpy())


@pytest.mark.parametrize(
    ("fixed", "error", "match"),
    [
        ({"CS": 1.0}, ValueError, r"missing \['Residual'\]"),
        ({"CS": 1.0, "Residual": 80.0, "UN(1,1)": 3.0}, ValueError, "key` must be one of"),
        ([1.0, 80.0], TypeError, "must be a mapping"),
        ({"CS": "a", "Residual": 80.0}, TypeError, "must be numbers"),
        ({"CS": np.nan, "Residual": 80.0}, ValueError, "finite"),
        ({"CS": 50.0, "Residual": -60.0}, ValueError, "positive-definite"),
    ],
)
def test_fixed_covariance_is_validated(fev, fixed, error, match):
    with pytest.raises(error, match=match):
        mmrm(fev, **FULL, covariance="cs", control={"fixed_covariance": fixed})
