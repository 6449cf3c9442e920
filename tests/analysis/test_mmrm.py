"""MMRM against SAS PROC MIXED (fev_data) and R nlme::gls + emmeans.

Golden values
-------------
* ``tests/reference/mmrm_fev/``: a copy of ``/work/shared/reference/mmrm_fev`` (fev_data and the
  SAS PROC MIXED results stored in the openpharma ``mmrm`` repository, Apache-2.0; see its
  README for provenance, the SAS level-ordering trap and the suggested tolerances). SAS stopped
  at its default convergence criterion, so a tightly converged fit differs from the printed
  values by up to ~1e-3 in estimates and a fraction of a unit in df (README "Precision").
  Issue 3's tolerances (1e-4 relative / half a printed unit, df within 0.5, KR df within 1e-2)
  are used here wherever our converged fit meets them; the rest is proven at SAS's own
  covariance parameters in ``test_mmrm_sas_point.py``.
* ``tests/reference/mmrm_r/``: ``make_data.py`` writes ``trial3.csv``; ``make_golden.R`` fits
  ``nlme::gls(corSymm + varIdent, REML)`` and ``emmeans`` and writes ``golden_*.csv``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from coaching_trials._errors import DataValidationError
from coaching_trials._results import EFFECT_COLUMNS
from coaching_trials.analysis import _mmrm_engine as engine
from coaching_trials.analysis._mmrm_cov import make_structure
from coaching_trials.analysis.mmrm import ConvergenceWarning, fit_gls, mmrm

REF = Path(__file__).resolve().parents[1] / "reference"
FEV = REF / "mmrm_fev"
RGOLD = REF / "mmrm_r"


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def fev() -> pd.DataFrame:
    frame = pd.read_csv(FEV / "fev_data.csv")
    # SAS used Male as the SEX reference (README: level-ordering trap)
    frame["SEX"] = pd.Categorical(frame["SEX"], categories=["Male", "Female"])
    return frame


@pytest.fixture(scope="module")
def sas() -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_csv(FEV / f"{name}.csv")
        for name in ("models", "fixed_effects", "covariance_parameters", "lsmeans", "contrasts")
    }


FULL = dict(
    outcome="FEV1",
    arm="ARMCD",
    visit="AVISIT",
    subject="USUBJID",
    treated="TRT",
    covariates=("RACE", "SEX"),
)


@pytest.fixture(scope="module")
def full_reml(fev):
    return mmrm(fev, **FULL)


@pytest.fixture(scope="module")
def full_ml(fev):
    return mmrm(fev, **FULL, reml=False)


def _rows(table: pd.DataFrame, model_id: str) -> pd.DataFrame:
    return table[table["model_id"] == model_id]


# ----------------------------------------------------------------------------- SAS: full model
@pytest.mark.parametrize(
    ("model_id", "fixture"), [("UN_FULL_REML_SAT", "full_reml"), ("UN_FULL_ML_SAT", "full_ml")]
)
def test_full_model_fixed_effects_match_sas(request, sas, model_id, fixture):
    res = request.getfixturevalue(fixture)
    ours = res.coefficients.set_index("term")
    ref = _rows(sas["fixed_effects"], model_id)
    assert len(ref) == len(ours) == 11
    for _, row in ref.iterrows():
        got = ours.loc[row["parameter"]]
        # Converged fit vs SAS's loosely converged one (README "Precision and tolerances": -2LL
        # 6e-6 lower than SAS's; estimates differ by up to ~1e-3, e.g. ARMCD[TRT]:AVISIT[VIS2]
        # -0.0421 vs printed -0.04231; SEs by ~1e-4, measured up to 1.6e-4 relative): issue 3's
        # 1e-4 relative is met only at SAS's parameters (test_mmrm_sas_point.py).
        assert got["estimate"] == pytest.approx(row["estimate"], abs=2e-3), row["parameter"]
        assert got["std_error"] == pytest.approx(row["std_error"], rel=1e-3), row["parameter"]
        # issue 3: df within 0.5 of SAS's printed integers (measured max 0.459 REML, 0.496 ML)
        assert abs(got["df"] - row["df"]) <= 0.5, row["parameter"]
        assert got["statistic"] == pytest.approx(
            row["t_value"], abs=0.01 + 1e-3 * abs(row["t_value"])
        )


@pytest.mark.parametrize(
    ("model_id", "fixture"), [("UN_FULL_REML_SAT", "full_reml"), ("UN_FULL_ML_SAT", "full_ml")]
)
def test_full_model_likelihood_and_information_criteria_match_sas(request, sas, model_id, fixture):
    res = request.getfixturevalue(fixture)
    ref = sas["models"].set_index("model_id").loc[model_id]
    # a tightly converged optimum sits ~6e-6 below SAS's stopping point (README)
    assert res.neg2_log_likelihood == pytest.approx(ref["neg2_loglik"], abs=1e-3)
    assert res.neg2_log_likelihood <= ref["neg2_loglik"] + 1e-8
    assert res.log_likelihood == pytest.approx(-ref["neg2_loglik"] / 2, abs=1e-3)
    for crit in ("aic", "aicc", "bic"):
        assert getattr(res, crit) == pytest.approx(ref[crit], abs=0.051), crit
    assert res.n_obs == ref["n_obs_used"] == 537
    assert res.fit.n_cov_params == ref["n_cov_params"]
    assert res.convergence.converged


@pytest.mark.parametrize(
    ("model_id", "fixture"), [("UN_FULL_REML_SAT", "full_reml"), ("UN_FULL_ML_SAT", "full_ml")]
)
def test_full_model_covariance_matches_sas(request, sas, model_id, fixture):
    res = request.getfixturevalue(fixture)
    cov = res.covariance
    ref = _rows(sas["covariance_parameters"], model_id)
    assert len(ref) == 10
    for _, row in ref.iterrows():
        got = cov.loc[row["row_visit"], row["col_visit"]]
        assert got == pytest.approx(row["estimate"], abs=0.01), row["sas_cov_parm"]
        assert cov.loc[row["col_visit"], row["row_visit"]] == got  # symmetric
    corr = res.correlation.to_numpy()
    np.testing.assert_allclose(np.diag(corr), 1.0)


def test_full_model_lsmeans_match_sas(full_reml, sas):
    ours = full_reml.lsmeans.set_index(["visit", "arm"])
    ref = _rows(sas["lsmeans"], "UN_FULL_REML_SAT")
    assert len(ref) == len(ours) == 8
    for _, row in ref.iterrows():
        got = ours.loc[(row["AVISIT"], row["ARMCD"])]
        assert got["estimate"] == pytest.approx(row["estimate"], abs=2e-3)
        assert got["std_error"] == pytest.approx(row["std_error"], rel=1e-3)
        # LS-mean df at our optimum are up to 0.515 from SAS's integers (VIS2/TRT 143.485 vs
        # 144; README: "Satterthwaite df by a fraction of a unit"); at SAS's own parameters
        # 143.520, within 0.5 (test_mmrm_sas_point.py). Kept at 1.0 for the converged fit.
        assert got["df"] == pytest.approx(row["df"], abs=1.0)
        assert got["conf_low"] == pytest.approx(row["lower_95"], abs=5e-3)
        assert got["conf_high"] == pytest.approx(row["upper_95"], abs=5e-3)
    # README worked example: VIS1/PBO = intercept + race mean + sex mean (equal weights)
    assert ours.loc[("VIS1", "PBO"), "estimate"] == pytest.approx(33.332, abs=2e-3)


def test_full_model_visit_contrasts_match_sas(full_reml, sas):
    frame = full_reml.to_frame().set_index("wave")
    ref = _rows(sas["contrasts"], "UN_FULL_REML_SAT")
    same_visit = ref[ref["avisit_1"] == ref["avisit_2"]]
    assert len(same_visit) == 4
    for _, row in same_visit.iterrows():
        got = frame.loc[row["avisit_1"]]
        assert (row["armcd_1"], row["armcd_2"]) == ("TRT", "PBO")
        assert got["estimate"] == pytest.approx(row["estimate"], abs=2e-3)
        assert got["std_error"] == pytest.approx(row["std_error"], rel=1e-3)
        assert abs(got["df"] - row["df"]) <= 0.5  # issue 3; measured max 0.453 (VIS1)
        assert got["conf_low"] == pytest.approx(row["lower_95"], abs=5e-3)
        assert got["conf_high"] == pytest.approx(row["upper_95"], abs=5e-3)
    # headline = last visit (README: VIS4 4.3985, SE 1.6805, df 133)
    assert full_reml.estimate == pytest.approx(4.3985, abs=2e-3)
    assert full_reml.std_error == pytest.approx(1.6805, rel=1e-3)
    assert abs(full_reml.df - 133) <= 0.5  # 133.389


def test_all_pairwise_lsmean_differences_match_sas(full_reml, sas):
    """The 28 SAS differences of LS-means, rebuilt as contrasts of the LS-mean rows."""
    ls = full_reml.lsmeans.reset_index(drop=True)
    key = {(r.visit, r.arm): i for i, r in ls.iterrows()}
    ref = _rows(sas["contrasts"], "UN_FULL_REML_SAT")
    assert len(ref) == 28
    # LS-mean linear functions: recover L by regressing LS-means on the fit's coefficients
    fit = full_reml.fit
    grid = _lsmean_matrix(full_reml)
    np.testing.assert_allclose(grid @ fit.beta, ls["estimate"].to_numpy(), rtol=1e-12)
    lmat = np.vstack(
        [
            grid[key[(r.avisit_1, r.armcd_1)]] - grid[key[(r.avisit_2, r.armcd_2)]]
            for r in ref.itertuples()
        ]
    )
    got = fit.contrast(lmat)
    np.testing.assert_allclose(got["estimate"], ref["estimate"], atol=2e-3)
    np.testing.assert_allclose(got["std_error"], ref["std_error"], rtol=1e-3)
    # issue 3: within 0.5 of SAS's integers; measured max 0.498 (VIS2:PBO - VIS4:PBO 153.502)
    assert np.all(np.abs(got["df"].to_numpy() - ref["df"].to_numpy()) <= 0.5)


def _lsmean_matrix(res) -> np.ndarray:
    """LS-mean rows for the fev full model, built independently of the package (SAS convention)."""
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


def test_intercept_only_model_matches_sas(fev, sas):
    data = fev.dropna(subset=["FEV1"])
    fit = fit_gls(data["FEV1"], np.ones((len(data), 1)), data["USUBJID"], data["AVISIT"])
    ref_model = sas["models"].set_index("model_id").loc["UN_INT_REML_SAT"]
    assert fit.neg2_log_likelihood == pytest.approx(ref_model["neg2_loglik"], abs=1e-3)
    ref = _rows(sas["fixed_effects"], "UN_INT_REML_SAT").iloc[0]
    coef = fit.coefficients.iloc[0]
    # issue 3 tolerances hold even at our optimum: 42.83299 vs 42.8338 (1.9e-5 relative),
    # SE 0.350925 vs 0.3509 (7e-5), df 170.69 vs 171
    assert coef["estimate"] == pytest.approx(ref["estimate"], rel=1e-4)
    assert coef["std_error"] == pytest.approx(ref["std_error"], rel=1e-4)
    assert abs(coef["df"] - ref["df"]) <= 0.5
    cov = fit.covariance
    for _, row in _rows(sas["covariance_parameters"], "UN_INT_REML_SAT").iterrows():
        assert cov.loc[row["row_visit"], row["col_visit"]] == pytest.approx(
            row["estimate"], abs=0.01, rel=1e-3
        )


# ----------------------------------------------------------------------------- SAS: KR fits
KR_CASES = [
    # structure, SAS model prefix, rel tol SE, rel tol df, abs tol printed LS-mean df.
    # CS and AR1 meet issue 3 (SE 1e-4 relative, df within 1e-2) at our optimum with room to
    # spare (rel 1e-5 on df is 1.8e-3 absolute). For UN, TOEP, ARH1 and CSH SAS's own, looser
    # stopping point is the limit (README "Precision and tolerances": SAS's -2LL is above the
    # optimum; KR df measured at our optimum vs SAS: UN 0.043, TOEP 0.014, ARH1 0.014, CSH
    # 0.070, all < 4e-4 relative; CSH SE 1.2e-4 relative). At SAS's own covariance
    # parameters every structure meets issue 3 (test_mmrm_sas_point.py).
    ("unstructured", "UN", 1e-4, 1e-3, 1.0),  # LS-mean df 0.521 from printed at our optimum
    ("compound_symmetry", "CS", 1e-5, 1e-5, 0.5),
    ("ar1", "AR1", 1e-5, 1e-5, 0.5),
    ("toeplitz", "TOEP", 1e-4, 5e-4, 0.5),
    ("ar1h", "ARH1", 1e-4, 5e-4, 0.5),
    ("csh", "CSH", 3e-4, 1e-3, 0.5),
]


@pytest.fixture(scope="module")
def arm_only(fev):
    data = fev.dropna(subset=["FEV1"])
    design = pd.DataFrame({"Intercept": 1.0, "ARMCD[TRT]": (data["ARMCD"] == "TRT").astype(float)})
    return data, design


@pytest.mark.parametrize("df_method", ["kenward_roger", "kenward_roger_linear"])
@pytest.mark.parametrize(("covariance", "prefix", "tol_se", "tol_df", "tol_lsm_df"), KR_CASES)
def test_kenward_roger_matches_sas_full_precision(
    arm_only, sas, covariance, prefix, tol_se, tol_df, tol_lsm_df, df_method
):
    data, design = arm_only
    model_id = f"{prefix}_ARMCD_REML_{'KR' if df_method == 'kenward_roger' else 'KRLIN'}"
    fit = fit_gls(
        data["FEV1"],
        design,
        data["USUBJID"],
        data["AVISIT"],
        covariance=covariance,
        df_method=df_method,
    )
    ref = _rows(sas["contrasts"], model_id).iloc[0]
    assert ref["precision"].startswith("full")
    trt = fit.coefficients.set_index("term").loc["ARMCD[TRT]"]
    assert trt["estimate"] == pytest.approx(ref["estimate"], rel=1e-4)
    assert trt["std_error"] == pytest.approx(ref["std_error"], rel=tol_se)
    assert trt["df"] == pytest.approx(ref["df"], rel=tol_df)
    assert trt["conf_low"] == pytest.approx(ref["lower_95"], rel=10 * tol_se)
    model = sas["models"].set_index("model_id").loc[model_id]
    assert fit.neg2_log_likelihood == pytest.approx(model["neg2_loglik"], abs=2e-5)
    assert fit.aic == pytest.approx(model["aic"], abs=0.051)
    # SAS's BIC counts 200 subjects (3 have no observed FEV1); fit_gls only sees the 197 with data
    assert fit.n_subjects == 197
    assert fit.bic == pytest.approx(
        model["bic"] - model["n_cov_params"] * np.log(200 / 197), abs=0.051
    )
    # printed LS-means (intercept and intercept + arm) with KR-adjusted SEs and KR df
    lsm = fit.contrast([[1.0, 1.0], [1.0, 0.0]], names=["TRT", "PBO"]).set_index("contrast")
    for _, row in _rows(sas["lsmeans"], model_id).iterrows():
        got = lsm.loc[row["ARMCD"]]
        assert got["estimate"] == pytest.approx(row["estimate"], abs=2e-3)
        # printed to 4 decimals; at our optimum CSH's LS-mean SE is 1.0e-4 away (README: SEs
        # differ by about 1e-4 between converged and SAS's fits), so 1.5e-4 absolute is kept
        assert got["std_error"] == pytest.approx(row["std_error"], abs=1.5e-4)
        assert abs(got["df"] - row["df"]) <= tol_lsm_df
    # covariance parameters in SAS's parameterisation
    params = fit.covariance_parameters.set_index("parameter")["estimate"]
    for _, row in _rows(sas["covariance_parameters"], model_id).iterrows():
        assert params[row["sas_cov_parm"]] == pytest.approx(row["estimate"], abs=0.01, rel=1e-3), (
            row["sas_cov_parm"]
        )


def test_kenward_roger_linear_differs_only_for_nonlinear_structures(arm_only):
    data, design = arm_only
    se = {}
    for cov in ("ar1", "toeplitz"):
        for method in ("kenward_roger", "kenward_roger_linear"):
            fit = fit_gls(
                data["FEV1"],
                design,
                data["USUBJID"],
                data["AVISIT"],
                covariance=cov,
                df_method=method,
            )
            se[cov, method] = fit.coefficients["std_error"].iloc[1]
    assert se["toeplitz", "kenward_roger"] == se["toeplitz", "kenward_roger_linear"]
    # SAS: 0.95865 (KR) vs 0.96058 (KR-linear) for AR(1)
    assert se["ar1", "kenward_roger_linear"] - se["ar1", "kenward_roger"] == pytest.approx(
        0.0019270, abs=2e-6
    )


def test_kenward_roger_in_mmrm_adjusts_standard_errors(fev):
    sat = mmrm(fev, **FULL)
    kr = mmrm(fev, **FULL, df_method="kenward_roger")
    np.testing.assert_allclose(kr.to_frame()["estimate"], sat.to_frame()["estimate"], rtol=1e-12)
    assert np.all(kr.to_frame()["std_error"].to_numpy() >= sat.to_frame()["std_error"].to_numpy())
    assert kr.df_method == "kenward_roger"


# ----------------------------------------------------------------------------- R: nlme + emmeans
@pytest.fixture(scope="module")
def trial3() -> pd.DataFrame:
    return pd.read_csv(RGOLD / "trial3.csv")


R_MODEL = dict(
    outcome="pfi_burnout",
    arm="arm",
    visit="wave",
    subject="participant_id",
    treated="immediate",
    baseline="pfi_burnout_bl",
)


@pytest.fixture(scope="module")
def r_fit(trial3):
    return mmrm(trial3, **R_MODEL)


R_TERMS = {  # R coefficient name -> ours
    "(Intercept)": "Intercept",
    "armimmediate": "arm[immediate]",
    "wavemonth6": "wave[month6]",
    "wavemonth9": "wave[month9]",
    "pfi_burnout_bl": "pfi_burnout_bl",
    "armimmediate:wavemonth6": "arm[immediate]:wave[month6]",
    "armimmediate:wavemonth9": "arm[immediate]:wave[month9]",
    "wavemonth6:pfi_burnout_bl": "pfi_burnout_bl:wave[month6]",
    "wavemonth9:pfi_burnout_bl": "pfi_burnout_bl:wave[month9]",
}


def test_matches_r_gls_coefficients_and_likelihood(r_fit):
    # R: gls(pfi_burnout ~ arm * wave + pfi_burnout_bl * wave, corSymm, varIdent, REML)
    ref = pd.read_csv(RGOLD / "golden_coefficients.csv").set_index("r_term")
    ours = r_fit.coefficients.set_index("term")
    assert sorted(ours.index) == sorted(R_TERMS[t] for t in ref.index)
    for r_term, row in ref.iterrows():
        term = R_TERMS[r_term]
        assert ours.loc[term, "estimate"] == pytest.approx(row["estimate"], rel=1e-4, abs=1e-7), (
            term
        )
        assert ours.loc[term, "std_error"] == pytest.approx(row["std_error"], rel=1e-4), term
    fit_stats = pd.read_csv(RGOLD / "golden_fit.csv").iloc[0]
    assert r_fit.neg2_log_likelihood == pytest.approx(fit_stats["neg2_loglik"], rel=1e-7)
    assert r_fit.n_obs == fit_stats["n_obs"]
    cov = pd.read_csv(RGOLD / "golden_covariance.csv")
    for row in cov.itertuples():
        assert r_fit.covariance.loc[row.row_wave, row.col_wave] == pytest.approx(
            row.estimate, rel=1e-4
        )


def test_matches_r_emmeans_lsmeans_and_contrasts(r_fit):
    lsm = pd.read_csv(RGOLD / "golden_lsmeans.csv")
    ours = r_fit.lsmeans.set_index(["arm", "visit"])
    for row in lsm.itertuples():
        got = ours.loc[(row.arm, row.wave)]
        assert got["estimate"] == pytest.approx(row.estimate, rel=1e-4)
        assert got["std_error"] == pytest.approx(row.std_error, rel=1e-4)
        # emmeans' appx-satterthwaite for gls is a numerical, randomised approximation
        # (three unseeded runs gave 86.48, 86.71, 86.77 for the month3 contrast): loose df check
        assert got["df"] == pytest.approx(row.df, rel=1e-2)
    con = pd.read_csv(RGOLD / "golden_contrasts.csv")
    frame = r_fit.to_frame().set_index("wave")
    for row in con.itertuples():
        assert row.contrast == "immediate - delayed"
        got = frame.loc[row.wave]
        assert got["contrast"] == row.contrast
        assert got["estimate"] == pytest.approx(row.estimate, rel=1e-4)
        assert got["std_error"] == pytest.approx(row.std_error, rel=1e-4)
        assert got["df"] == pytest.approx(row.df, rel=1e-2)
        assert got["p_value"] == pytest.approx(row.p_value, rel=1e-2)


# ----------------------------------------------------------------------------- result object
def test_effects_table_schema(r_fit, trial3):
    frame = r_fit.to_frame()
    assert tuple(frame.columns) == EFFECT_COLUMNS
    assert frame["wave"].tolist() == ["month3", "month6", "month9"]
    assert set(frame["analysis"]) == {"mmrm"}
    assert set(frame["contrast"]) == {"immediate - delayed"}
    assert frame["estimand"].iloc[1] == "randomized: immediate vs delayed at month6"
    assert (frame["conf_level"] == 0.95).all()
    assert frame["p_adjusted"].isna().all()
    observed = trial3.dropna(subset=["pfi_burnout"])
    counts = observed.groupby(["wave", "arm"]).size()
    assert frame["n_treated"].tolist() == [counts[w, "immediate"] for w in frame["wave"]]
    assert frame["n_control"].tolist() == [counts[w, "delayed"] for w in frame["wave"]]
    last = frame.iloc[-1]
    for name in ("estimate", "std_error", "df", "statistic", "p_value", "conf_low", "conf_high"):
        assert getattr(r_fit, name) == last[name]
    assert "MMRM" in r_fit.summary() and "<table" in r_fit._repr_html_()
    assert "month9" in repr(r_fit)


def test_result_is_frozen_and_tables_are_copies(r_fit):
    with pytest.raises(dataclasses.FrozenInstanceError):
        r_fit.estimate = 0.0  # type: ignore[misc]
    frame = r_fit.to_frame()
    frame.loc[0, "estimate"] = 99.0
    assert r_fit.to_frame().loc[0, "estimate"] != 99.0
    ls = r_fit.lsmeans
    ls.loc[0, "estimate"] = 99.0
    assert r_fit.lsmeans.loc[0, "estimate"] != 99.0
    with pytest.raises(ValueError):
        r_fit.fit.beta[0] = 1.0


def test_audit_counts_dropped_rows(fev, full_reml):
    audit = full_reml.audit
    assert list(audit.columns) == ["step", "reason", "n_rows", "detail"]
    row = audit.set_index("reason").loc["missing outcome"]
    assert row["n_rows"] == fev["FEV1"].isna().sum() == 263
    assert full_reml.n_obs + row["n_rows"] == len(fev)
    assert full_reml.n_subjects == fev.dropna(subset=["FEV1"])["USUBJID"].nunique()


def test_missing_baseline_and_covariates_are_dropped_and_counted(trial3):
    frame = trial3.copy()
    frame.loc[[0, 1], "pfi_burnout_bl"] = np.nan
    res = mmrm(frame, **R_MODEL)
    audit = res.audit.set_index("reason")
    n_missing_y = int(trial3["pfi_burnout"].isna().sum())
    assert audit.loc["missing outcome", "n_rows"] == n_missing_y
    extra = int(frame.loc[[0, 1], "pfi_burnout"].notna().sum())
    assert audit.loc["missing baseline", "n_rows"] == extra
    assert res.n_obs == len(frame) - n_missing_y - extra


def test_does_not_mutate_input(trial3):
    before = trial3.copy(deep=True)
    mmrm(trial3, **R_MODEL, covariance="cs")
    pd.testing.assert_frame_equal(trial3, before)


def test_convergence_report_and_warning(trial3):
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = mmrm(trial3, **R_MODEL, control={"maxiter": 1, "gtol": 1e-300})
    report = res.convergence
    assert report.converged is False
    assert report.gradient_norm >= 0
    assert "not converged" in report.message
    assert report.to_frame().shape == (1, 5)


# ----------------------------------------------------------------------------- options
def test_level_order_trap_sex_reference(fev):
    plain = fev.assign(SEX=fev["SEX"].astype(str))  # alphabetical: Female is the reference
    res_alpha = mmrm(plain, **FULL).coefficients.set_index("term")
    res_cat = mmrm(fev, **FULL).coefficients.set_index("term")
    assert res_alpha.loc["SEX[Male]", "estimate"] == pytest.approx(
        -res_cat.loc["SEX[Female]", "estimate"], rel=1e-6
    )
    assert "SEX[Female]" not in res_alpha.index


@pytest.mark.parametrize(
    ("alias", "name"),
    [("us", "unstructured"), ("cs", "compound_symmetry"), ("toep", "toeplitz"), ("arh1", "ar1h")],
)
def test_covariance_aliases(trial3, alias, name):
    a = mmrm(trial3, **R_MODEL, covariance=alias)
    b = mmrm(trial3, **R_MODEL, covariance=name)
    assert a.covariance_structure == b.covariance_structure == name
    assert a.estimate == b.estimate


def test_conf_level_is_metadata_and_sets_t_intervals(trial3):
    res = mmrm(trial3, **R_MODEL, conf_level=0.9)
    frame = res.to_frame()
    assert (frame["conf_level"] == 0.9).all()
    crit = stats.t.ppf(0.95, frame["df"])
    np.testing.assert_allclose(frame["conf_low"], frame["estimate"] - crit * frame["std_error"])
    np.testing.assert_allclose(frame["conf_high"], frame["estimate"] + crit * frame["std_error"])
    p = 2 * stats.t.sf(np.abs(frame["estimate"] / frame["std_error"]), frame["df"])
    np.testing.assert_allclose(frame["p_value"], p)


def test_residual_df_method(trial3):
    res = mmrm(trial3, **R_MODEL, df_method="residual")
    p = len(res.fit.beta)
    assert (res.to_frame()["df"] == res.n_obs - p).all()


def test_visits_argument_sets_reference_and_order(trial3):
    res = mmrm(trial3, **R_MODEL, visits=["month9", "month6", "month3"])
    assert res.to_frame()["wave"].tolist() == ["month9", "month6", "month3"]
    default = mmrm(trial3, **R_MODEL)
    # the visit-wise differences do not depend on which visit is the reference (UN covariance)
    a = res.to_frame().set_index("wave")["estimate"].sort_index()
    b = default.to_frame().set_index("wave")["estimate"].sort_index()
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_ar1_uses_visit_positions_so_gaps_count_as_lags(fev):
    # with VIS3 removed from the order the data are rejected, not silently re-spaced
    with pytest.raises(DataValidationError, match="not in `visits`"):
        mmrm(fev, **FULL, covariance="ar1", visits=["VIS1", "VIS2", "VIS4"])


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"covariance": "banded"}, ValueError, "`covariance` must be one of"),
        ({"df_method": "containment"}, ValueError, "`df_method` must be one of"),
        ({"df_method": "kenward_roger", "reml": False}, ValueError, "requires `reml=True`"),
        ({"conf_level": 95}, ValueError, "strictly between 0 and 1"),
        ({"treated": "placebo"}, DataValidationError, "not a level"),
        ({"outcome": "nope"}, DataValidationError, "not found"),
        ({"control": {"tolerance": 1}}, ValueError, "`control key` must be one of"),
        ({"reml": "yes"}, TypeError, "`reml` must be True or False"),
    ],
)
def test_bad_options(trial3, kwargs, error, match):
    with pytest.raises(error, match=match):
        mmrm(trial3, **{**R_MODEL, **kwargs})


def test_data_problems_are_reported_together(trial3):
    bad = trial3.copy()
    bad = pd.concat([bad, bad.iloc[[0]]], ignore_index=True)  # duplicated subject x wave
    bad.loc[3, "arm"] = (
        "delayed" if bad.loc[3, "arm"] == "immediate" else "immediate"
    )  # arm changes
    bad["pfi_burnout"] = bad["pfi_burnout"].astype(str)  # non-numeric outcome
    with pytest.raises(DataValidationError) as info:
        mmrm(bad, **R_MODEL)
    checks = set(info.value.failure_cases["check"])
    assert {"duplicate_visit", "arm_varies", "not_numeric"} <= checks


def test_three_arms_rejected(trial3):
    bad = trial3.copy()
    bad.loc[bad["participant_id"] == "P001", "arm"] = "other"
    with pytest.raises(DataValidationError, match="exactly 2 levels"):
        mmrm(bad, **R_MODEL)


def test_rank_deficient_design_names_the_term(trial3):
    bad = trial3[~((trial3["arm"] == "immediate") & (trial3["wave"] == "month9"))]
    with pytest.raises(DataValidationError, match=r"arm\[immediate\]:wave\[month9\]"):
        mmrm(bad, **R_MODEL)


def test_long_df_type_checked():
    with pytest.raises(TypeError, match="pandas DataFrame"):
        mmrm([1, 2, 3], **R_MODEL)  # type: ignore[arg-type]


def test_fit_gls_input_checks():
    with pytest.raises(ValueError, match="same number of rows"):
        fit_gls([1.0, 2.0], np.ones((3, 1)), [1, 2], [1, 1])
    with pytest.raises(ValueError, match="finite"):
        fit_gls([1.0, np.nan], np.ones((2, 1)), [1, 2], [1, 1])
    with pytest.raises(ValueError, match="one observation per subject x visit"):
        fit_gls([1.0, 2.0, 3.0], np.ones((3, 1)), [1, 1, 2], [1, 1, 1])


# ----------------------------------------------------------------------------- engine
@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize(
    "kind", ["unstructured", "compound_symmetry", "ar1", "toeplitz", "ar1h", "csh"]
)
def test_analytic_hessian_matches_finite_differences(fev, kind, reml):
    data = fev.dropna(subset=["FEV1"])
    visit = data["AVISIT"].map({"VIS1": 0, "VIS2": 1, "VIS3": 2, "VIS4": 3}).to_numpy()
    x = np.column_stack(
        [np.ones(len(data)), (data["ARMCD"] == "TRT").to_numpy(float), data["FEV1_BL"]]
    )
    patterns = engine.build_patterns(
        data["FEV1"].to_numpy(), x, pd.factorize(data["USUBJID"])[0], visit.astype(np.int64), 4
    )
    structure = make_structure(kind, 4)
    sigma = np.array([[60, 20, 5, -10], [20, 40, 3, 0], [5, 3, 30, 10], [-10, 0, 10, 120.0]])
    eta = structure.eta_from_theta(structure.theta_from_sigma(sigma) + 0.03)
    der = engine.derivatives_eta(patterns, structure, eta, reml=reml)
    numeric = engine.hessian_eta_numeric(patterns, structure, eta, reml=reml)
    np.testing.assert_allclose(der.hessian, numeric, rtol=1e-5, atol=1e-6 * np.abs(numeric).max())
    np.testing.assert_allclose(
        der.gradient, engine.grad_eta(patterns, structure, eta, reml=reml), rtol=1e-10
    )


@pytest.mark.parametrize("kind", ["toeplitz", "ar1h", "csh", "compound_symmetry"])
def test_every_theta_gives_positive_definite_sigma(kind):
    structure = make_structure(kind, 5)
    rng = np.random.default_rng(0)
    for _ in range(50):
        theta = rng.normal(scale=1.0, size=structure.n_params)
        sigma, _ = structure.sigma_theta(theta)
        assert np.linalg.eigvalsh(sigma).min() > 0


# ----------------------------------------------------------------------------- properties
@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1), shift=st.floats(-5, 5, allow_nan=False))
def test_row_order_and_outcome_shift_invariance(trial3, seed, shift):
    base = mmrm(trial3, **R_MODEL, covariance="cs").to_frame()
    shuffled = trial3.sample(frac=1.0, random_state=seed % (2**32 - 1))
    shuffled = shuffled.assign(pfi_burnout=shuffled["pfi_burnout"] + shift)
    res = mmrm(shuffled, **R_MODEL, covariance="cs")
    frame = res.to_frame()
    np.testing.assert_allclose(frame["estimate"], base["estimate"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(frame["std_error"], base["std_error"], rtol=1e-6)
    assert (frame["conf_low"] <= frame["estimate"]).all() and (
        frame["estimate"] <= frame["conf_high"]
    ).all()


def test_swapping_treated_flips_every_visit_contrast(trial3):
    model = dict(R_MODEL)
    arms = sorted(trial3[model["arm"]].unique())
    other = next(a for a in arms if a != model["treated"])
    first = mmrm(trial3, **model, covariance="cs").to_frame()
    swapped = mmrm(trial3, **{**model, "treated": other}, covariance="cs").to_frame()
    np.testing.assert_allclose(swapped["estimate"], -first["estimate"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(swapped["std_error"], first["std_error"], rtol=1e-6)
    np.testing.assert_allclose(swapped["conf_low"], -first["conf_high"], rtol=1e-6, atol=1e-8)
    assert (swapped["n_treated"].to_numpy() == first["n_control"].to_numpy()).all()


def test_interval_widens_with_conf_level(trial3):
    narrow = mmrm(trial3, **R_MODEL, covariance="cs", conf_level=0.90).to_frame()
    wide = mmrm(trial3, **R_MODEL, covariance="cs", conf_level=0.99).to_frame()
    assert (
        (wide["conf_high"] - wide["conf_low"]) > (narrow["conf_high"] - narrow["conf_low"])
    ).all()
    assert (narrow["conf_level"] == 0.90).all() and (wide["conf_level"] == 0.99).all()
