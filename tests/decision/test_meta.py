"""meta_analysis against R metafor 3.8.1 (tests/reference/decision/meta_reference.R)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials._errors import DataValidationError
from coaching_trials._results import EFFECT_COLUMNS

matplotlib.use("Agg")

REF = Path(__file__).resolve().parents[1] / "reference" / "decision"
INPUTS = pd.read_csv(REF / "meta_inputs.csv")
GOLDEN = pd.read_csv(REF / "golden_meta.csv")
LOO = pd.read_csv(REF / "golden_meta_loo.csv")
CASES = list(GOLDEN["case"].unique())
TOL = 1e-6


def _fit(case: str) -> ct.MetaAnalysisResult:
    dataset, method, test = case.rsplit("_", 2)
    return ct.meta_analysis(
        INPUTS[INPUTS["dataset"] == dataset],
        method=method,
        test="hksj" if test == "knha" else "z",
    )


def test_golden_covers_two_real_data_sets_both_methods_and_tests():
    assert {c.rsplit("_", 2)[0] for c in CASES} == {"bcg", "normand", "homogeneous"}
    assert len(CASES) == 12


@pytest.mark.parametrize("case", CASES)
def test_matches_metafor(case):
    # R: rma(yi, sei = se, method = <REML|DL>, test = <z|knha>); predict(); I2, H2, QE, QEp
    res = _fit(case)
    ref = GOLDEN[GOLDEN["case"] == case].set_index("quantity")["value"]
    for quantity, value in ref.items():
        assert getattr(res, quantity) == pytest.approx(value, rel=TOL, abs=1e-10), quantity


@pytest.mark.parametrize("case", CASES)
def test_leave_one_out_matches_metafor(case):
    # R: leave1out(fit)
    res = _fit(case)
    ref = LOO[LOO["case"] == case].reset_index(drop=True)
    got = res.leave_one_out
    assert got["omitted"].tolist() == ref["omitted"].tolist()
    for col in ("estimate", "std_error", "p_value", "conf_low", "conf_high", "tau2", "i2", "q"):
        np.testing.assert_allclose(got[col], ref[col], rtol=TOL, atol=1e-10, err_msg=col)


def test_hksj_interval_uses_t_on_k_minus_1_df():
    res = _fit("bcg_REML_knha")
    assert res.df == 12
    assert np.isnan(_fit("bcg_REML_z").df)


def test_to_frame_is_one_effects_row_plus_heterogeneity():
    frame = _fit("normand_DL_knha").to_frame()
    assert len(frame) == 1
    assert list(frame.columns) == [
        *EFFECT_COLUMNS,
        "tau2",
        "i2",
        "q",
        "q_p",
        "k",
        "pi_low",
        "pi_high",
    ]
    assert frame.loc[0, "estimand"].startswith("pooled: random-effects")
    assert frame.loc[0, "conf_low"] <= frame.loc[0, "estimate"] <= frame.loc[0, "conf_high"]


def test_row_order_changes_nothing_but_the_study_order():
    data = INPUTS[INPUTS["dataset"] == "bcg"]
    a = ct.meta_analysis(data, test="hksj")
    b = ct.meta_analysis(data.iloc[::-1], test="hksj")
    for name in ("estimate", "std_error", "tau2", "i2", "q", "pi_low", "pi_high"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-12)


def test_counts_are_summed_when_every_study_has_them():
    trials = ct.published_trials("pfi_burnout")
    data = pd.concat(
        [
            trials,
            pd.DataFrame(
                [
                    {
                        "study": "Our trial",
                        "estimate": -0.5,
                        "std_error": 0.2,
                        "n_treated": 40,
                        "n_control": 41,
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    res = ct.meta_analysis(data, test="hksj")
    assert res.n_treated == 67 + 40 and res.n_control == 71 + 41
    assert res.outcome == "pfi_burnout"  # the one outcome named (our row leaves it missing)


def test_bad_rows_are_reported_together():
    data = pd.DataFrame(
        {
            "study": ["a", "b", "b", None],
            "estimate": [0.1, np.nan, 0.2, 0.3],
            "std_error": [0.1, 0.1, 0.0, 0.2],
        }
    )
    with pytest.raises(DataValidationError) as err:
        ct.meta_analysis(data)
    assert set(err.value.failure_cases["check"]) == {
        "not_finite",
        "not_positive",
        "missing_label",
        "duplicate_label",
    }
    assert "std_error" in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"method": "ML"}, ValueError, "`method` must be one of"),
        ({"test": "knha"}, ValueError, "`test` must be one of"),
        ({"conf_level": 95}, ValueError, "conf_level"),
        ({"estimate": "yi"}, ValueError, "not found"),
    ],
)
def test_option_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ct.meta_analysis(INPUTS[INPUTS["dataset"] == "bcg"], **kwargs)


def test_one_study_is_refused():
    with pytest.raises(ValueError, match="at least 2 studies"):
        ct.meta_analysis(INPUTS.iloc[:1])


def test_result_is_frozen_and_tables_are_copies():
    res = _fit("bcg_REML_z")
    with pytest.raises(AttributeError):
        res.estimate = 0.0
    studies = res.studies
    studies.loc[0, "estimate"] = 99.0
    assert res.studies.loc[0, "estimate"] != 99.0
    assert "Heterogeneity" in res.summary() and "<div>" in res._repr_html_()


def test_forest_plot_highlights_the_users_trial():
    data = INPUTS[INPUTS["dataset"] == "normand"]
    res = ct.meta_analysis(data, test="hksj")
    mine = data["study"].iloc[3]
    ax = ct.plot_meta_forest(res, highlight=mine)
    drawn = ax.ct_data
    assert drawn["highlighted"].sum() == 1
    assert drawn.loc[drawn["highlighted"], "label"].item() == mine
    pooled = drawn.iloc[-1]
    assert pooled["estimate"] == res.estimate and pooled["pi_low"] == res.pi_low
    np.testing.assert_allclose(drawn["weight"].iloc[:-1].sum(), 100.0)
    with pytest.raises(ValueError, match="not a study"):
        ct.plot_meta_forest(res, highlight="nobody")
    import matplotlib.pyplot as plt

    plt.close("all")
