"""Figures for readers: display names, direction, full scale ranges, time order, hidden cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from plot_helpers import all_texts

import coaching_trials as ct
from coaching_trials.plots.bars import plot_percent_change
from coaching_trials.plots.consort import plot_consort
from coaching_trials.plots.forest import plot_forest
from coaching_trials.plots.trajectories import plot_trajectories

LEFT, RIGHT = "\N{BLACK LEFT-POINTING TRIANGLE}", "\N{BLACK RIGHT-POINTING TRIANGLE}"


def _effects(outcomes, estimates=None):
    k = len(outcomes)
    est = np.asarray(estimates if estimates is not None else [-0.4] * k, dtype=float)
    return pd.DataFrame(
        {
            "outcome": outcomes,
            "estimate": est,
            "conf_low": est - 0.2,
            "conf_high": est + 0.2,
            "estimand": "randomized: immediate vs delayed at month3",
        }
    )


# ---- forest ---------------------------------------------------------------------------------


def test_forest_favours_side_follows_lower_is_better():
    ax = plot_forest(_effects(["pfi_burnout", "pfi_we"]))
    assert ax.ct_favours == "lower"
    assert list(ax.ct_data["favours"]) == ["lower", "lower"]
    texts = all_texts(ax)
    assert f"{LEFT} favours coaching" in texts and f"favours control {RIGHT}" in texts


def test_forest_favours_side_follows_higher_is_better():
    ax = plot_forest(_effects(["pfi_pf"]), favours=("coaching", "wait-list"))
    assert ax.ct_favours == "higher"
    texts = all_texts(ax)
    assert f"{LEFT} favours wait-list" in texts and f"favours coaching {RIGHT}" in texts


def test_forest_mixed_directions_get_a_column_per_row():
    ax = plot_forest(_effects(["pfi_burnout", "pfi_pf"], [-0.4, 0.2]))
    assert ax.ct_favours == "mixed"
    texts = all_texts(ax)
    assert "Coaching better if" in texts
    assert f"{LEFT} lower" in texts and f"higher {RIGHT}" in texts
    assert not any(t.startswith(f"{LEFT} favours") for t in texts)  # no single side


def test_forest_labels_scale_and_override():
    ax = plot_forest(_effects(["pfi_burnout", "svs_total"]))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Burnout, item mean (0-4)", "Self-valuation, sum (0-16)"]
    # two scales on one axis: the figure says so
    assert any(t.startswith("Outcomes on different scales") for t in all_texts(ax))
    ax = plot_forest(_effects(["pfi_burnout"]), labels={"pfi_burnout": "Burnout (PFI)"})
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Burnout (PFI)"]
    assert ax.get_xlabel() == "Difference, coaching \N{MINUS SIGN} control (item mean (0-4))"
    with pytest.raises(TypeError, match="labels"):
        plot_forest(_effects(["pfi_burnout"]), labels=["x"])
    with pytest.raises(ValueError, match="scale"):
        plot_forest(_effects(["pfi_burnout"]), scale="z")


def test_forest_standardized_draws_morris_d(comparison):
    std = comparison.standardized
    ax = plot_forest(comparison, scale="standardized")
    drawn = ax.ct_data.set_index("column")
    np.testing.assert_allclose(drawn.loc[std["outcome"], "estimate"], std["estimate"])
    np.testing.assert_allclose(drawn.loc[std["outcome"], "conf_low"], std["conf_low"])
    assert "baseline SD units" in ax.get_xlabel()
    assert set(drawn["unit"]) == {"SD units"}
    # the same table passed directly
    ax2 = plot_forest(std, scale="standardized")
    np.testing.assert_allclose(ax2.ct_data["estimate"], std["estimate"])
    with pytest.raises(TypeError, match="standardized"):
        plot_forest(object(), scale="standardized")


def test_forest_accepts_released_tables_with_hidden_cells():
    eff = _effects(["pfi_burnout", "pfi_pf"], [-0.4, 0.2]).astype({"estimate": object})
    eff["n_treated"] = ["[hidden]", 61]
    eff.loc[1, "estimate"] = "[hidden]"
    ax = plot_forest(eff)
    tab = ax.ct_data
    assert tab.loc[tab["column"] == "pfi_pf", "text"].item() == "not shown"
    assert not tab.loc[tab["column"] == "pfi_pf", "drawn"].item()
    assert tab.loc[tab["column"] == "pfi_burnout", "drawn"].item()


# ---- trajectories ---------------------------------------------------------------------------


def test_trajectories_full_range_by_default_and_zoom_is_marked(trial, scored):
    ax = plot_trajectories(trial, outcome="pfi_burnout")
    assert ax.ct_ylim == (0.0, 4.0, False)
    lo, hi = ax.get_ylim()
    assert lo == 0.0 and hi >= 4.0  # the coaching strips sit above the range
    assert not any("zoomed" in t for t in all_texts(ax))
    assert ax.get_ylabel().startswith("Burnout, item mean (0-4)\n")
    assert "lower is better" in ax.get_ylabel()
    ax = plot_trajectories(trial, outcome="pfi_burnout", zoom=True)
    data = ax.ct_data[["conf_low", "conf_high"]].to_numpy(float)
    assert ax.ct_ylim[2] is True
    assert ax.ct_ylim[0] > 0 and ax.ct_ylim[0] < np.nanmin(data)
    assert any(t.startswith("y axis zoomed (full range 0") for t in all_texts(ax))
    # a column no instrument defines: drawn on the data's range, not marked
    own = scored.assign(my_score=scored["pfi_burnout"] * 10)
    ax = plot_trajectories(own, outcome="my_score", label="My score")
    assert ax.ct_ylim[2] is True and not any("zoomed" in t for t in all_texts(ax))
    assert ax.get_ylabel().startswith("My score\n")


def test_trajectories_near_miss_outcome_suggests_scored_columns(scored):
    with pytest.raises(ValueError, match="Did you mean 'pfi_burnout'") as err:
        plot_trajectories(scored, outcome="burnout")
    assert "pfi_01" not in str(err.value)  # raw items are not offered
    with pytest.raises(ValueError, match="Did you mean 'immediate'"):
        plot_trajectories(
            scored, outcome="pfi_burnout", crossover={"Immediate": ("baseline", "month3")}
        )


def test_trial_arm_case_mismatch_suggests_the_arm(example, scored):
    design = dict(example.design, immediate="Immediate")
    with pytest.raises(ct.DataValidationError, match="Did you mean 'immediate'"):
        ct.DelayedInterventionTrial(scored, **design)


# ---- CONSORT --------------------------------------------------------------------------------


def test_consort_boxes_in_time_order(flow):
    boxes = plot_consort(flow).ct_data
    for arm in ("immediate", "delayed"):
        b = boxes[boxes["arm"] == arm].set_index(["box", "wave"])["y"]
        # y is the box bottom in inches, decreasing down the page
        assert b[("assessed", "month3")] > b[("analysed", "month3")] > b[("assessed", "month6")]
        assert b[("assessed", "baseline")] > b[("assessed", "month3")]


# ---- percent change with hidden cells -------------------------------------------------------


def test_percent_change_accepts_hidden_cells_and_draws_no_hidden_count(comparison):
    desc = comparison.descriptives.astype(object)
    hide = (desc["outcome"] == "pfi_burnout") & (desc["arm"] == "delayed")
    n_hidden = int(desc.loc[hide, "percent_change_n"].item())
    desc.loc[hide, ["percent_change_n", "percent_change"]] = "[hidden]"
    ax = plot_percent_change(desc, outcomes=["pfi_burnout"])
    row = ax.ct_data.set_index("arm").loc["delayed"]
    assert row["suppressed"] and row["n_label"] == "hidden" and pd.isna(row["percent_change"])
    texts = all_texts(ax)
    assert f"n={n_hidden}" not in texts and "n=hidden" in texts
    assert len(ax.patches) == 1  # only the shown arm has a bar
