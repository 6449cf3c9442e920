"""MMRM Type 3 F tests, effect slices and user F tests against SAS PROC MIXED (fev_data).

Golden values
-------------
``tests/reference/mmrm_fev/tests.csv`` (README section "tests.csv"): SAS PROC MIXED "Type 3 Tests
of Fixed Effects" for the full model ``FEV1 ~ RACE + SEX + ARMCD + AVISIT + ARMCD:AVISIT`` (UN
covariance, REML and ML, DDFM=SATTERTHWAITE), the "Tests of Effect Slices" of ``AVISIT*ARMCD``
sliced by ``AVISIT`` (REML), and the Type 3 test of ARMCD for the twelve arm-only Kenward-Roger
fits (six covariance structures x KR / KR-linear). SAS printed num df exactly, den df as integers,
F to 2 decimals and p to 4 decimals (or ``<.0001``).

Tolerances: num df exact; |F - SAS| <= 0.01 + 0.005 (the requested 0.01 plus half a printed
unit); |den df - SAS| <= 0.5 (SAS rounds to integers); p within half a printed unit (5e-5) of the
printed p, or below 1e-4 when SAS printed ``<.0001``.

Where the numbers are evaluated: at SAS's own covariance parameters
(``control={"fixed_covariance": ...}``, as in ``test_mmrm_sas_point.py``), so that what remains is
a difference of formulas rather than of optimisers; the converged fit is checked too, with the
same tolerances on F and den df (measured: every den df within 0.48 of SAS's integer, the tightest
being ARMCD in the REML model, 168.53 vs 169; at SAS's parameters it is 168.54) and 2e-4 on p.

What these numbers pin down beyond the F statistic (which does not depend on how a hypothesis
is written): the multi-df Satterthwaite den df of Fai & Cornelius (1996) is not invariant to
non-orthogonal changes of the rows of L. SAS's 148 for AVISIT (REML) is reproduced only with
SAS's basis of Type 3 estimable functions (differences from the reference level of
equal-weighted marginal means, 148.15); the sum-to-zero basis tests the same hypothesis with the
same F but gives 150.07 (measured while developing this test).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coaching_trials.analysis import _mmrm_engine as engine
from coaching_trials.analysis._mmrm_cov import make_structure
from coaching_trials.analysis.mmrm import fit_gls, mmrm

REF = Path(__file__).resolve().parents[1] / "reference"
FEV = REF / "mmrm_fev"
VISITS = ["VIS1", "VIS2", "VIS3", "VIS4"]
FULL = dict(
    outcome="FEV1",
    arm="ARMCD",
    visit="AVISIT",
    subject="USUBJID",
    treated="TRT",
    covariates=("RACE", "SEX"),
)
FULL_MODELS = {"UN_FULL_REML_SAT": True, "UN_FULL_ML_SAT": False}
# SAS effect label -> ours (SAS prints interactions as A*B in its own order)
EFFECT_NAMES = {
    "ARMCD": "ARMCD",
    "AVISIT": "AVISIT",
    "AVISIT*ARMCD": "ARMCD:AVISIT",
    "RACE": "RACE",
    "SEX": "SEX",
}
STRUCTURES = {
    "UN": "unstructured",
    "CS": "compound_symmetry",
    "AR1": "ar1",
    "TOEP": "toeplitz",
    "ARH1": "ar1h",
    "CSH": "csh",
}
KR_METHODS = {"KR": "kenward_roger", "KRLIN": "kenward_roger_linear"}
F_TOL = 0.01 + 0.005
DF_TOL = 0.5


# ----------------------------------------------------------------------------- reference data
def _sas_tests() -> pd.DataFrame:
    return pd.read_csv(FEV / "tests.csv", dtype={"p_f_printed": str})


SAS_TESTS = _sas_tests()
TYPE3_FULL = [
    (r.model_id, r.effect)
    for r in SAS_TESTS.itertuples()
    if r.test == "type3" and r.model_id in FULL_MODELS
]
SLICES = [r.slice_avisit for r in SAS_TESTS.itertuples() if r.test == "slice"]
KR_ROWS = [r.model_id for r in SAS_TESTS.itertuples() if r.model_id.endswith(("_KR", "_KRLIN"))]


def _sas_row(model_id: str, test: str, effect: str, slice_avisit: str | None = None) -> pd.Series:
    sel = (
        (SAS_TESTS["model_id"] == model_id)
        & (SAS_TESTS["test"] == test)
        & (SAS_TESTS["effect"] == effect)
    )
    if slice_avisit is not None:
        sel &= SAS_TESTS["slice_avisit"] == slice_avisit
    rows = SAS_TESTS[sel]
    assert len(rows) == 1
    return rows.iloc[0]


def _sas_parameters(model_id: str, kind: str) -> dict[str, float]:
    """SAS's covariance parameters keyed by our names (UN indices mapped by visit label)."""
    table = pd.read_csv(FEV / "covariance_parameters.csv")
    rows = table[table["model_id"] == model_id]
    assert len(rows) == make_structure(kind, 4).n_params
    out = {}
    for row in rows.itertuples():
        if kind == "unstructured":
            i, j = VISITS.index(row.row_visit), VISITS.index(row.col_visit)
            out[f"UN({max(i, j) + 1},{min(i, j) + 1})"] = float(row.estimate)
        else:
            out[row.sas_cov_parm] = float(row.estimate)
    return out


def _check_against_sas(ours: pd.Series, ref: pd.Series, *, p_tol: float = 5e-5) -> None:
    assert ours["num_df"] == ref["num_df"]
    assert abs(ours["f_value"] - ref["f_value"]) <= F_TOL, (ours["f_value"], ref["f_value"])
    assert abs(ours["den_df"] - ref["den_df"]) <= DF_TOL, (ours["den_df"], ref["den_df"])
    printed = str(ref["p_f_printed"]).strip()
    if printed.startswith("<"):
        assert ours["p_value"] < float(printed[1:])
    else:
        assert abs(ours["p_value"] - float(printed)) <= p_tol, (ours["p_value"], printed)


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def fev() -> pd.DataFrame:
    frame = pd.read_csv(FEV / "fev_data.csv")
    frame["SEX"] = pd.Categorical(frame["SEX"], categories=["Male", "Female"])  # SAS reference
    return frame


@pytest.fixture(scope="module")
def full_fits(fev):
    """Full model per SAS model id: at SAS's covariance parameters and converged."""
    fits = {}
    for model_id, reml in FULL_MODELS.items():
        values = _sas_parameters(model_id, "unstructured")
        at_sas = mmrm(fev, **FULL, reml=reml, control={"fixed_covariance": values})
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the converged fit must converge
            converged = mmrm(fev, **FULL, reml=reml)
        fits[model_id] = {"at_sas": at_sas, "converged": converged}
    return fits


@pytest.fixture(scope="module")
def arm_only(fev):
    data = fev.dropna(subset=["FEV1"])
    design = pd.DataFrame({"Intercept": 1.0, "ARMCD[TRT]": (data["ARMCD"] == "TRT").astype(float)})
    return data, design


def _fit_arm_only(arm_only, kind: str, df_method: str, values=None):
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


# ----------------------------------------------------------------------------- SAS Type 3
@pytest.mark.parametrize("point", ["at_sas", "converged"])
@pytest.mark.parametrize(("model_id", "sas_effect"), TYPE3_FULL)
def test_type3_matches_sas(full_fits, model_id, sas_effect, point):
    res = full_fits[model_id][point]
    table = res.anova().set_index("effect")
    ours = table.loc[EFFECT_NAMES[sas_effect]]
    assert ours["method"] == "satterthwaite"
    _check_against_sas(
        ours, _sas_row(model_id, "type3", sas_effect), p_tol=5e-5 if point == "at_sas" else 2e-4
    )


def test_anova_table_layout(full_fits):
    table = full_fits["UN_FULL_REML_SAT"]["converged"].anova()
    assert table.columns.tolist() == ["effect", "num_df", "den_df", "f_value", "p_value", "method"]
    # model order, intercept not tested; every SAS Type 3 effect present exactly once
    assert table["effect"].tolist() == ["ARMCD", "AVISIT", "ARMCD:AVISIT", "RACE", "SEX"]
    assert table["num_df"].tolist() == [1, 3, 3, 2, 1]
    assert pd.api.types.is_integer_dtype(table["num_df"])


@pytest.mark.parametrize("point", ["at_sas", "converged"])
@pytest.mark.parametrize("visit", SLICES)
def test_slices_match_sas(full_fits, visit, point):
    res = full_fits["UN_FULL_REML_SAT"][point]
    table = res.slice_tests().set_index("visit")
    ours = table.loc[visit]
    assert ours["effect"] == "ARMCD:AVISIT"
    _check_against_sas(
        ours,
        _sas_row("UN_FULL_REML_SAT", "slice", "AVISIT*ARMCD", visit),
        p_tol=5e-5 if point == "at_sas" else 2e-4,
    )


@pytest.mark.parametrize("model_id", KR_ROWS)
def test_kenward_roger_type3_matches_sas(arm_only, model_id):
    prefix, _, _, suffix = model_id.split("_")
    kind, df_method = STRUCTURES[prefix], KR_METHODS[suffix]
    fit = _fit_arm_only(arm_only, kind, df_method, _sas_parameters(model_id, kind))
    ours = fit.f_test([0.0, 1.0], name="ARMCD").iloc[0]
    assert ours["method"] == df_method
    _check_against_sas(ours, _sas_row(model_id, "type3", "ARMCD"))


# ----------------------------------------------------------------------------- the L matrices
def _hand_type3(names: list[str]) -> dict[str, np.ndarray]:
    """SAS's Type 3 estimable functions for the full model, written out by hand.

    Rows are differences from the reference level of the equal-weighted marginal means (SAS
    "general form of estimable functions" with the reference level last): ARMCD averages the
    arm difference over the 4 visits; AVISIT compares each visit with VIS1 averaged over the 2
    arms; the interaction rows are the difference-of-differences; RACE and SEX are not
    contained in any other effect, so their rows are their coefficients.
    """
    col = {n: i for i, n in enumerate(names)}
    out: dict[str, list[np.ndarray]] = {k: [] for k in EFFECT_NAMES.values()}
    row = np.zeros(len(names))
    row[col["ARMCD[TRT]"]] = 1.0
    for v in VISITS[1:]:
        row[col[f"ARMCD[TRT]:AVISIT[{v}]"]] = 1 / 4
    out["ARMCD"].append(row)
    for v in VISITS[1:]:
        row = np.zeros(len(names))
        row[col[f"AVISIT[{v}]"]] = 1.0
        row[col[f"ARMCD[TRT]:AVISIT[{v}]"]] = 1 / 2
        out["AVISIT"].append(row)
        row = np.zeros(len(names))
        row[col[f"ARMCD[TRT]:AVISIT[{v}]"]] = 1.0
        out["ARMCD:AVISIT"].append(row)
    for term in ("RACE[Black or African American]", "RACE[White]"):
        row = np.zeros(len(names))
        row[col[term]] = 1.0
        out["RACE"].append(row)
    row = np.zeros(len(names))
    row[col["SEX[Female]"]] = 1.0
    out["SEX"].append(row)
    return {k: np.vstack(v) for k, v in out.items()}


def test_type3_hypotheses_are_sas_estimable_functions(full_fits):
    res = full_fits["UN_FULL_REML_SAT"]["converged"]
    hand = _hand_type3(list(res.fit.coef_names))
    table = res.anova().set_index("effect")
    for effect, lmat in hand.items():
        direct = res.test(lmat, name=effect).iloc[0]
        np.testing.assert_allclose(
            direct[["num_df", "den_df", "f_value", "p_value"]].to_numpy(dtype=float),
            table.loc[effect, ["num_df", "den_df", "f_value", "p_value"]].to_numpy(dtype=float),
            rtol=1e-9,
        )


# ----------------------------------------------------------------------------- 1-df consistency
def test_one_df_type3_is_squared_t_with_its_satterthwaite_df(full_fits):
    res = full_fits["UN_FULL_REML_SAT"]["converged"]
    table = res.anova().set_index("effect")
    coefs = res.coefficients.set_index("term")
    sex = coefs.loc["SEX[Female]"]
    assert table.loc["SEX", "f_value"] == pytest.approx(sex["statistic"] ** 2, rel=1e-10)
    assert table.loc["SEX", "den_df"] == pytest.approx(sex["df"], rel=1e-10)
    assert table.loc["SEX", "p_value"] == pytest.approx(sex["p_value"], rel=1e-8)
    # ARMCD (averaged over visits) is the t test of its own contrast row
    hand = _hand_type3(list(res.fit.coef_names))["ARMCD"]
    t_row = res.fit.contrast(hand).iloc[0]
    assert table.loc["ARMCD", "f_value"] == pytest.approx(t_row["statistic"] ** 2, rel=1e-10)
    assert table.loc["ARMCD", "den_df"] == pytest.approx(t_row["df"], rel=1e-10)


def test_slices_are_squared_visit_contrasts(full_fits):
    res = full_fits["UN_FULL_REML_SAT"]["converged"]
    slices = res.slice_tests()
    effects = res.to_frame()
    assert slices["visit"].tolist() == effects["wave"].tolist() == VISITS
    np.testing.assert_allclose(slices["f_value"], effects["statistic"] ** 2, rtol=1e-10)
    np.testing.assert_allclose(slices["den_df"], effects["df"], rtol=1e-10)
    np.testing.assert_allclose(slices["p_value"], effects["p_value"], rtol=1e-8)
    assert (slices["num_df"] == 1).all()


@pytest.mark.parametrize("df_method", ["kenward_roger", "kenward_roger_linear"])
def test_one_df_kenward_roger_is_squared_adjusted_t(fev, df_method):
    """For one row KR's scale lambda is 1 and m is the KR df of the t test."""
    res = mmrm(fev, **FULL, covariance="cs", df_method=df_method)
    slices = res.slice_tests()
    effects = res.to_frame()
    np.testing.assert_allclose(slices["f_value"], effects["statistic"] ** 2, rtol=1e-8)
    np.testing.assert_allclose(slices["den_df"], effects["df"], rtol=1e-8)
    assert (res.anova()["method"] == df_method).all()


def test_residual_df_method(fev):
    res = mmrm(fev, **FULL, covariance="cs", df_method="residual")
    table = res.anova()
    assert (table["den_df"] == res.n_obs - len(res.fit.beta)).all()


# ----------------------------------------------------------------------------- invariances
@pytest.fixture(scope="module")
def kr_full(fev):
    return mmrm(fev, **FULL, df_method="kenward_roger")


@pytest.mark.parametrize("effect", ["AVISIT", "ARMCD:AVISIT", "RACE"])
def test_kenward_roger_f_test_is_invariant_to_the_basis(kr_full, effect):
    """KR's F and m depend only on the hypothesis, not on how its rows are written."""
    lmat = _hand_type3(list(kr_full.fit.coef_names))[effect]
    q = lmat.shape[0]
    mix = np.triu(np.ones((q, q))) + np.diag(np.arange(1.0, q + 1.0))  # invertible, not orthogonal
    base = kr_full.test(lmat).iloc[0]
    other = kr_full.test(mix @ lmat).iloc[0]
    for col in ("den_df", "f_value", "p_value"):
        assert other[col] == pytest.approx(base[col], rel=1e-8)
    assert base["num_df"] == q


@pytest.mark.parametrize("effect", ["AVISIT", "ARMCD:AVISIT", "RACE"])
def test_satterthwaite_f_test_basis_dependence(full_fits, effect):
    """Fai-Cornelius df: invariant to orthogonal changes (here a signed permutation), not to
    others; the Wald F is invariant to any invertible change."""
    res = full_fits["UN_FULL_REML_SAT"]["converged"]
    lmat = _hand_type3(list(res.fit.coef_names))[effect]
    q = lmat.shape[0]
    base = res.test(lmat).iloc[0]
    perm = np.eye(q)[::-1] * np.where(np.arange(q) % 2 == 0, -1.0, 1.0)[:, None]
    same = res.test(perm @ lmat).iloc[0]
    assert same["den_df"] == pytest.approx(base["den_df"], rel=1e-9)
    assert same["f_value"] == pytest.approx(base["f_value"], rel=1e-9)
    mix = np.triu(np.ones((q, q))) + np.diag(np.arange(1.0, q + 1.0))
    other = res.test(mix @ lmat).iloc[0]
    assert other["f_value"] == pytest.approx(base["f_value"], rel=1e-8)
    assert other["den_df"] != pytest.approx(base["den_df"], rel=1e-6)


def test_redundant_rows_reduce_to_the_rank(full_fits):
    res = full_fits["UN_FULL_REML_SAT"]["converged"]
    lmat = _hand_type3(list(res.fit.coef_names))["RACE"]
    doubled = np.vstack([lmat, lmat.sum(axis=0), 2.0 * lmat[0]])
    base = res.test(lmat).iloc[0]
    red = res.test(doubled, name="RACE again").iloc[0]
    assert red["num_df"] == 2 and red["effect"] == "RACE again"
    assert red["f_value"] == pytest.approx(base["f_value"], rel=1e-8)


def test_satterthwaite_den_df_is_zero_without_usable_rows():
    """SAS: den df 0 when E = sum nu_m / (nu_m - 2) over nu_m > 2 does not exceed q."""
    cov = np.eye(2)
    w = np.array([[1.0]])
    pmat = np.array([10.0 * np.eye(2)])  # nu_m = 2 / 100 < 2 for every row
    assert engine.satterthwaite_f_df(cov, w, pmat, np.eye(2)) == 0.0
    res = engine.f_test(
        np.array([1.0, 1.0]),
        cov,
        cov,
        w,
        pmat,
        np.eye(2),
        df_method="satterthwaite",
        residual_df=10.0,
    )
    assert res.num_df == 2 and res.den_df == 0.0 and math.isnan(res.p_value)
    assert res.f_value == pytest.approx(1.0)


def test_satterthwaite_multi_df_formula_by_hand():
    """Two rows with known per-row nu: den df = 2E / (E - 2), E = sum nu / (nu - 2)."""
    cov = np.diag([1.0, 4.0])
    # one covariance parameter; g_m = -b_m C P C b_m'; pick P so that g = (-1, -8)
    pmat = np.array([np.diag([1.0, 0.5])])
    w = np.array([[0.02]])
    nu = 2.0 * np.array([1.0, 4.0]) ** 2 / (np.array([1.0, 8.0]) ** 2 * 0.02)  # 100, 25
    e_sum = float(np.sum(nu / (nu - 2.0)))
    got = engine.satterthwaite_f_df(cov, w, pmat, engine.reduce_contrast(np.eye(2), cov))
    assert got == pytest.approx(2.0 * e_sum / (e_sum - 2.0), rel=1e-12)


# ----------------------------------------------------------------------------- baseline model
@pytest.fixture(scope="module")
def trial3() -> pd.DataFrame:
    return pd.read_csv(REF / "mmrm_r" / "trial3.csv")


def _trial3_fit(frame: pd.DataFrame):
    return mmrm(
        frame,
        outcome="pfi_burnout",
        arm="arm",
        visit="wave",
        subject="participant_id",
        treated="immediate",
        baseline="pfi_burnout_bl",
    )


def test_baseline_model_effects_and_containment(trial3):
    """With baseline x visit, SAS's containment rule makes the visit effect the visit
    difference at baseline 0 (a class effect is not contained in its interaction with a
    numeric variable), while the arm, arm:visit, baseline (slope averaged over visits) and
    baseline:visit hypotheses do not move when the baseline is shifted by a constant."""
    res = _trial3_fit(trial3)
    table = res.anova().set_index("effect")
    assert table.index.tolist() == [
        "arm",
        "wave",
        "arm:wave",
        "pfi_burnout_bl",
        "pfi_burnout_bl:wave",
    ]
    assert table["num_df"].tolist() == [1, 2, 2, 1, 2]
    shifted = trial3.assign(pfi_burnout_bl=trial3["pfi_burnout_bl"] + 1.5)
    moved = _trial3_fit(shifted).anova().set_index("effect")
    for effect in ("arm", "arm:wave", "pfi_burnout_bl", "pfi_burnout_bl:wave"):
        assert moved.loc[effect, "f_value"] == pytest.approx(table.loc[effect, "f_value"], rel=1e-5)
        assert moved.loc[effect, "den_df"] == pytest.approx(table.loc[effect, "den_df"], rel=1e-4)
    assert moved.loc["wave", "f_value"] != pytest.approx(table.loc["wave", "f_value"], rel=1e-2)
    # baseline (averaged slope) is the t test of the mean of the visit-specific slopes
    names = list(res.fit.coef_names)
    row = np.zeros(len(names))
    row[names.index("pfi_burnout_bl")] = 1.0
    for name in names:
        if name.startswith("pfi_burnout_bl:wave["):
            row[names.index(name)] = 1.0 / 3.0
    t_row = res.fit.contrast(row).iloc[0]
    assert table.loc["pfi_burnout_bl", "f_value"] == pytest.approx(t_row["statistic"] ** 2)


def test_row_order_changes_nothing(trial3):
    base = _trial3_fit(trial3).anova()
    shuffled = trial3.sample(frac=1.0, random_state=3).reset_index(drop=True)
    other = _trial3_fit(shuffled).anova()
    pd.testing.assert_frame_equal(other, base, rtol=1e-5)


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("bad", [2, "II", True, None])
def test_anova_type_is_validated(full_fits, bad):
    res = full_fits["UN_FULL_REML_SAT"]["converged"]
    with pytest.raises(ValueError, match="`type` must be one of"):
        res.anova(type=bad)


@pytest.mark.parametrize("good", [3, "3", "III"])
def test_anova_type_spellings(full_fits, good):
    res = full_fits["UN_FULL_REML_SAT"]["converged"]
    pd.testing.assert_frame_equal(res.anova(type=good), res.anova())


@pytest.mark.parametrize(
    ("contrasts", "error", "match"),
    [
        (np.ones((1, 3)), ValueError, "11 columns"),
        (np.zeros((2, 11)), ValueError, "non-zero"),
        (np.full((1, 11), np.nan), ValueError, "finite"),
        (np.ones((2, 2, 11)), ValueError, "11 columns"),
        ([["a"] * 11], TypeError, "numeric"),
    ],
)
def test_test_validates_the_contrast_matrix(full_fits, contrasts, error, match):
    res = full_fits["UN_FULL_REML_SAT"]["converged"]
    with pytest.raises(error, match=match):
        res.test(contrasts)


def test_vector_contrast_is_one_row(full_fits):
    res = full_fits["UN_FULL_REML_SAT"]["converged"]
    vec = np.zeros(len(res.fit.beta))
    vec[res.fit.coef_names.index("SEX[Female]")] = 1.0
    pd.testing.assert_frame_equal(res.test(vec), res.test(vec[None, :]))


def test_baseline_model_type3_f_matches_r_nlme(trial3):
    """F statistics against nlme::gls + anova(type="marginal") with sum-to-zero contrasts
    (tests/reference/mmrm_r/make_golden_anova.R -> golden_anova.csv). nlme uses n - p
    denominator df, so only num_df and F are compared here."""
    golden = pd.read_csv(REF / "mmrm_r" / "golden_anova.csv").set_index("effect")
    ours = _trial3_fit(trial3).anova().set_index("effect")
    assert sorted(golden.index) == sorted(ours.index)
    for effect, row in golden.iterrows():
        assert ours.loc[effect, "num_df"] == row["num_df"], effect
        assert ours.loc[effect, "f_value"] == pytest.approx(row["f_value"], rel=1e-4), effect
