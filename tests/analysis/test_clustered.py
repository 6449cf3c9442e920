"""Mixed-model (partially nested) ANCOVA against R; see tests/reference/clustered/.

Golden values: ``make_golden.R`` fits the simulated group-coaching trial ``group_trial.csv``
(20 coached groups of 3-4, 70 wait-list controls) with
- ``lme4::lmer(followup ~ arm + baseline [+ age + site] + (0 + treat | cl))`` (partially nested,
  homoscedastic) and ``(1 | group_all)`` (fully nested), Satterthwaite df from lmerTest,
  Kenward-Roger SE/df from ``pbkrtest::vcovAdj`` / ``get_Lb_ddf``;
- ``nlme::lme(random = list(cl = pdDiag(~ 0 + treat)), weights = varIdent(form = ~ 1 | arm),
  method = "REML")`` (partially nested, heteroscedastic) and ``random = ~ 1 | group_all`` +
  ``varIdent`` (fully nested, heteroscedastic); their Satterthwaite/KR df come from a dense-matrix
  R implementation that the script checks against lmerTest/pbkrtest on the lmer fits. nlme's own
  df are containment df, which this package does not compute (see
  ``test_nlme_containment_df_are_a_different_method``).
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import coaching_trials as ct
from coaching_trials._errors import DataValidationError
from coaching_trials._results import EFFECT_COLUMNS
from coaching_trials.analysis.clustered import ClusteredAncovaResult, clustered_ancova

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "clustered"
REL = 1e-4  # estimates, standard errors, variance components (R optimiser tolerance)
REL_DF = 1e-3  # degrees of freedom (lmerTest/numDeriv use numerical derivatives)
COVS = ("age", "site")
# case -> (outcome, cluster, partially_nested, heteroscedastic, covariates)
CASES = {
    "pn_het": ("followup", "group", True, True, ()),
    "pn_het_cov": ("followup", "group", True, True, COVS),
    "pn_hom": ("followup", "group", True, False, ()),
    "pn_hom_cov": ("followup", "group", True, False, COVS),
    "fn_hom": ("followup_full", "group_all", False, False, ()),
    "fn_het": ("followup_full", "group_all", False, True, ()),
}
R_TERMS = {
    "(Intercept)": "(Intercept)",
    "armimmediate": "arm[immediate]",
    "baseline": "baseline",
    "age": "age",
    "sitesouth": "site[south]",
    "sitewest": "site[west]",
}
HEADLINE = ("estimate", "std_error", "df", "statistic", "p_value", "conf_low", "conf_high")
SETTINGS = settings(max_examples=12, deadline=None)


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "group_trial.csv")


@pytest.fixture(scope="module")
def golden() -> dict[str, dict[str, float]]:
    frame = pd.read_csv(REFERENCE / "golden_clustered.csv")
    return {
        case: dict(zip(part["quantity"], part["value"].astype(float), strict=True))
        for case, part in frame.groupby("case", sort=False)
    }


def fit(frame: pd.DataFrame, case: str = "pn_het", **kw) -> ClusteredAncovaResult:
    outcome, cluster, nested, hetero, covs = CASES[case]
    args = dict(
        outcome=outcome,
        arm="arm",
        baseline="baseline",
        treated="immediate",
        cluster=cluster,
        covariates=covs,
        partially_nested=nested,
        heteroscedastic=hetero,
    )
    return clustered_ancova(frame, **{**args, **kw})


# ----------------------------------------------------------------------------- against R
@pytest.mark.parametrize("df_method", ["satterthwaite", "kenward_roger"])
@pytest.mark.parametrize("case", list(CASES))
def test_coefficients_match_r(trial, golden, case, df_method):
    ref = golden[case]
    # the R Kenward-Roger reference is pbkrtest's convention: expected information
    res = fit(trial, case, df_method=df_method, kr_information="expected")
    coefs = res.coefficients.set_index("term")
    r_terms = [q.split(":", 1)[1] for q in ref if q.startswith("estimate:")]
    assert [R_TERMS[t] for t in r_terms] == list(coefs.index)
    se_key = "std_error" if df_method == "satterthwaite" else "std_error_kr"
    df_key = "df_satterthwaite" if df_method == "satterthwaite" else "df_kr"
    for r_term in r_terms:
        row = coefs.loc[R_TERMS[r_term]]
        assert row["estimate"] == pytest.approx(ref[f"estimate:{r_term}"], rel=REL), r_term
        assert row["std_error"] == pytest.approx(ref[f"{se_key}:{r_term}"], rel=REL), r_term
        assert row["df"] == pytest.approx(ref[f"{df_key}:{r_term}"], rel=REL_DF), r_term
    assert res.n_treated + res.n_control == ref["n_obs"]


@pytest.mark.parametrize("case", list(CASES))
def test_variance_components_and_loglik_match_r(trial, golden, case):
    ref = golden[case]
    res = fit(trial, case)
    vc = res.variance_components
    assert vc["variance"].iloc[0] == pytest.approx(ref["var_cluster"], rel=REL)
    if res.heteroscedastic:
        resid = vc.loc[vc["component"] == "residual"].set_index("arm")["variance"]
        assert resid["immediate"] == pytest.approx(ref["var_residual_treated"], rel=REL)
        assert resid["delayed"] == pytest.approx(ref["var_residual_control"], rel=REL)
    else:
        assert vc["variance"].iloc[1] == pytest.approx(ref["var_residual"], rel=REL)
    assert vc["std_dev"].to_numpy() == pytest.approx(np.sqrt(vc["variance"].to_numpy()))
    # R's logLik (REML) - our optimum is at least as good as R's and equal to 1e-8
    assert res.log_likelihood == pytest.approx(ref["loglik"], rel=1e-8)
    assert res.converged and not res.boundary


def test_icc_and_design_effect_from_components(trial, golden):
    ref = golden["pn_het"]
    res = fit(trial, "pn_het")
    icc = ref["var_cluster"] / (ref["var_cluster"] + ref["var_residual_treated"])
    assert res.icc == pytest.approx(icc, rel=REL)
    # cluster sizes counted directly from the input
    used = trial.dropna(subset=["followup", "baseline", "group"])
    sizes = used.groupby("group").size()
    m_w = float((sizes**2).sum() / sizes.sum())
    assert res.design_effect == pytest.approx(1 + (m_w - 1) * icc, rel=REL)
    assert res.n_clusters == 20 == len(res.cluster_sizes)
    assert res.mean_cluster_size == pytest.approx(sizes.mean())
    got = res.cluster_sizes.set_index("cluster")["n"]
    pd.testing.assert_series_equal(got.sort_index(), sizes.sort_index(), check_names=False)
    assert set(res.cluster_sizes["arm"]) == {"immediate"}


def test_fully_nested_counts_clusters_of_both_arms(trial):
    res = fit(trial, "fn_hom")
    assert res.n_clusters == 40
    assert set(res.cluster_sizes["arm"]) == {"immediate", "delayed"}
    assert res.variance_components["arm"].tolist() == ["both", "both"]


def test_nlme_containment_df_are_a_different_method(trial, golden):
    # nlme::lme reports containment df (85 for the arm effect: 133 rows - 45 groups - ...);
    # we report Satterthwaite / Kenward-Roger, which are much smaller here.
    ref = golden["pn_het"]
    res = fit(trial, "pn_het")
    assert ref["df_containment_nlme:armimmediate"] == 85
    assert res.df < 0.8 * ref["df_containment_nlme:armimmediate"]


def test_headline_is_the_arm_row_with_t_inference(trial):
    res = fit(trial, "pn_het", conf_level=0.9)
    row = res.coefficients.set_index("term").loc["arm[immediate]"]
    for name in HEADLINE:
        assert getattr(res, name) == pytest.approx(row[name], rel=1e-12)
    q = stats.t.ppf(0.95, res.df)
    assert res.conf_low == pytest.approx(res.estimate - q * res.std_error, rel=1e-12)
    assert res.p_value == pytest.approx(2 * stats.t.sf(abs(res.statistic), res.df), rel=1e-10)


def test_audit_counts_every_excluded_row_once(trial, golden):
    res = fit(trial, "pn_het")
    audit = res.audit.set_index("reason")["n_rows"]
    missing_y = trial["followup"].isna()
    missing_b = trial["baseline"].isna() & ~missing_y
    missing_c = (trial["arm"] == "immediate") & trial["group"].isna() & ~missing_y & ~missing_b
    assert audit["missing outcome 'followup'"] == missing_y.sum()
    assert audit.get("missing baseline 'baseline'", 0) == missing_b.sum()
    assert audit["missing cluster 'group'"] == missing_c.sum() == 1
    excluded = audit[audit.index.str.startswith("missing")].sum()
    assert excluded == len(trial) - golden["pn_het"]["n_obs"]
    nested = [r for r in audit.index if r.startswith("partially nested")]
    assert len(nested) == 1 and audit[nested[0]] == res.n_control
    assert list(res.audit.columns) == ["step", "reason", "n_rows", "detail"]


def test_to_frame_schema_and_labels(trial):
    res = fit(trial, "pn_het")
    frame = res.to_frame()
    assert tuple(frame.columns) == EFFECT_COLUMNS
    row = frame.iloc[0]
    assert row["analysis"] == "ancova_mixed"
    assert row["contrast"] == "immediate - delayed"
    assert row["estimand"] == (
        "randomized: immediate vs delayed, followup adjusted for baseline "
        "(partially nested random coach/group effect)"
    )
    assert row["estimate"] == res.estimate and row["df"] == res.df
    assert (row["n_treated"], row["n_control"]) == (res.n_treated, res.n_control)
    full = fit(trial, "fn_hom").to_frame()["estimand"].iloc[0]
    assert full.endswith("(random coach/group effect in both arms)")
    assert "Variance components" in res.summary() and "<table" in res._repr_html_()


def test_result_is_frozen_and_input_untouched(trial):
    frame = trial.copy()
    res = fit(frame, "pn_het_cov")
    pd.testing.assert_frame_equal(frame, trial)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 0.0
    coefs = res.coefficients
    coefs.loc[0, "estimate"] = 99.0
    assert res.coefficients.loc[0, "estimate"] != 99.0


def test_public_export():
    assert "clustered_ancova" in ct.__all__
    assert ct.clustered_ancova is clustered_ancova


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("change", "kwargs", "error", "match"),
    [
        ("none", {"cluster": "coach"}, ValueError, "Cluster column 'coach' not found"),
        ("none", {"cluster": 3}, TypeError, "`cluster` must be a column name"),
        ("none", {"df_method": "containment"}, ValueError, "`df_method` must be one of"),
        ("none", {"partially_nested": "yes"}, TypeError, "`partially_nested` must be True"),
        ("none", {"heteroscedastic": 1}, TypeError, "`heteroscedastic` must be True"),
        ("none", {"conf_level": 95}, ValueError, "conf_level"),
        ("none", {"treated": "coached"}, ValueError, "`treated` must be one of"),
        ("control_ids", {}, DataValidationError, "partially_nested=False"),
        ("one_group", {}, DataValidationError, "at least 2 clusters"),
        ("singletons", {}, DataValidationError, "single participant"),
        ("none", {"covariates": ("group",)}, ValueError, "must not repeat"),
    ],
)
def test_clear_errors(trial, change, kwargs, error, match):
    frame = trial.copy()
    treated = frame["arm"] == "immediate"
    if change == "control_ids":
        frame.loc[~treated, "group"] = frame.loc[~treated, "group_all"]
    elif change == "one_group":
        frame = frame.loc[~treated | (frame["group"] == "G01")]
    elif change == "singletons":
        frame.loc[treated, "group"] = [f"S{i}" for i in range(int(treated.sum()))]
    with pytest.raises(error, match=match):
        fit(frame, "pn_het", **kwargs)


def test_control_ids_error_lists_the_rows(trial):
    frame = trial.copy()
    rows = frame.index[frame["arm"] == "delayed"][:3]
    frame.loc[rows, "group"] = "G01"
    with pytest.raises(DataValidationError) as info:
        fit(frame, "pn_het")
    cases = info.value.failure_cases
    assert cases["check"].tolist() == ["cluster_in_control_arm"]
    assert cases["n"].iloc[0] == 3 and list(cases["rows"].iloc[0]) == list(rows)
    assert "pd.NA" in str(info.value)


def test_cluster_spanning_both_arms_is_an_error(trial):
    frame = trial.copy()
    first_control = frame.index[frame["arm"] == "delayed"][0]
    frame.loc[first_control, "group_all"] = "G05"
    with pytest.raises(DataValidationError, match="both arms") as info:
        fit(frame, "fn_hom")
    assert info.value.failure_cases["check"].tolist() == ["cluster_spans_arms"]
    assert info.value.failure_cases["values"].iloc[0] == ["G05"]


# ----------------------------------------------------------------------------- properties
def simulate(seed: int, *, k: float = 1.0, zero_noise_means: bool = False) -> pd.DataFrame:
    """A small group-coaching trial; ``k`` scales the group effect."""
    rng = np.random.default_rng(seed)
    n_groups = int(rng.integers(5, 9))
    sizes = rng.integers(2, 5, size=n_groups)
    group = np.repeat(np.arange(n_groups), sizes)
    n_t, n_c = group.size, int(rng.integers(12, 25))
    noise = rng.normal(0, 0.5, n_t)
    if zero_noise_means:  # no between-group component in the noise at all
        noise -= (np.bincount(group, noise) / np.bincount(group))[group]
    u = rng.normal(0, 0.5, n_groups)[group]
    base = rng.normal(2, 0.7, n_t + n_c)
    follow = 0.6 * base
    follow[:n_t] += -0.4 + k * u + noise
    follow[n_t:] += rng.normal(0, 0.6, n_c)
    return pd.DataFrame(
        {
            "arm": ["coached"] * n_t + ["waitlist"] * n_c,
            "grp": [f"g{g}" for g in group] + [None] * n_c,
            "grp_all": [f"g{g}" for g in group] + [f"w{i // 3}" for i in range(n_c)],
            "base": base,
            "follow": follow,
        }
    )


def quiet_fit(frame: pd.DataFrame, **kw) -> ClusteredAncovaResult:
    args = dict(outcome="follow", arm="arm", baseline="base", treated="coached", cluster="grp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # boundary fits are fine here
        return clustered_ancova(frame, **{**args, **kw})


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    shift=st.floats(-50, 50, allow_nan=False),
    hetero=st.booleans(),
)
def test_shifting_outcome_or_baseline_changes_no_contrast(seed, shift, hetero):
    frame = simulate(seed)
    ref = quiet_fit(frame, heteroscedastic=hetero)
    moved = frame.assign(follow=frame["follow"] + shift, base=frame["base"] - shift / 3)
    res = quiet_fit(moved, heteroscedastic=hetero)
    for name in ("estimate", "std_error", "df", "p_value", "icc"):
        assert getattr(res, name) == pytest.approx(getattr(ref, name), rel=1e-5, abs=1e-9), name
    assert res.conf_low <= res.estimate <= res.conf_high


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    hetero=st.booleans(),
    method=st.sampled_from(["satterthwaite", "kenward_roger"]),
)
def test_swapping_treated_flips_the_sign(seed, hetero, method):
    frame = simulate(seed)
    kw = dict(cluster="grp_all", partially_nested=False, heteroscedastic=hetero, df_method=method)
    a = quiet_fit(frame, **kw)
    b = quiet_fit(frame, **{**kw, "treated": "waitlist"})
    assert b.estimate == pytest.approx(-a.estimate, rel=1e-5, abs=1e-9)
    for name in ("std_error", "df", "p_value"):
        assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-5), name
    assert b.contrast == "waitlist - coached"


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_row_order_changes_nothing(seed):
    frame = simulate(seed)
    shuffled = frame.sample(frac=1.0, random_state=seed % 97)
    a, b = quiet_fit(frame), quiet_fit(shuffled)
    for name in (*HEADLINE, "icc", "log_likelihood"):
        assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-6, abs=1e-10), name


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_group_variation_gives_ols_ancova(seed):
    # the noise has no between-group part, so the group variance is estimated at 0 and the
    # homoscedastic model is OLS: same estimate, SE and residual df as ct.ancova
    frame = simulate(seed, k=0.0, zero_noise_means=True)
    with pytest.warns(UserWarning, match="boundary"):
        res = clustered_ancova(
            frame,
            outcome="follow",
            arm="arm",
            baseline="base",
            treated="coached",
            cluster="grp",
            heteroscedastic=False,
        )
    ols = ct.ancova(frame, outcome="follow", arm="arm", baseline="base", treated="coached")
    assert res.boundary and res.icc == 0.0 and res.design_effect == 1.0
    for name in ("estimate", "std_error", "df", "p_value"):
        assert getattr(res, name) == pytest.approx(getattr(ols, name), rel=1e-7), name


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_estimate_approaches_ols_as_icc_goes_to_zero(seed):
    ols = None
    gaps, iccs = [], []
    for k in (2.0, 0.5, 0.1, 0.0):
        frame = simulate(seed, k=k, zero_noise_means=True)
        res = quiet_fit(frame, heteroscedastic=False)
        ols = ct.ancova(frame, outcome="follow", arm="arm", baseline="base", treated="coached")
        gaps.append(abs(res.estimate - ols.estimate))
        iccs.append(res.icc)
    assert iccs[0] > iccs[-1] == 0.0
    assert gaps[-1] < 1e-8 and gaps[-1] <= gaps[0]
