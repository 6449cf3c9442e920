"""plot_forest: one row per effect, intervals and text from the effects table."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from plot_helpers import all_texts, horizontal_segments

import coaching_trials as ct
from coaching_trials.plots.forest import forest_table, format_p, plot_forest

MINUS = "\N{MINUS SIGN}"


def _markers(ax):
    xs, ys = [], []
    for ln in ax.lines:
        if ln.get_marker() == "s":
            xs += list(ln.get_xdata())
            ys += list(ln.get_ydata())
    return np.asarray(xs, float), np.asarray(ys, float)


def _txt(x: float) -> str:
    return f"{x:.2f}".replace("-", MINUS)


def test_rows_intervals_and_text_match_effects(comparison):
    eff = comparison.to_frame()
    ax = plot_forest(comparison)
    x, y = _markers(ax)
    np.testing.assert_allclose(x, eff["estimate"])
    segs = horizontal_segments(ax)
    assert len(segs) == len(eff)
    got = sorted((lo, hi) for _, lo, hi in segs)
    want = sorted(zip(eff["conf_low"], eff["conf_high"], strict=True))
    np.testing.assert_allclose(got, want)
    texts = all_texts(ax)
    for r in eff.itertuples():
        assert f"{_txt(r.estimate)} ({_txt(r.conf_low)} to {_txt(r.conf_high)})" in texts
    assert "Estimate (95% CI)" in texts
    # the y tick labels are the outcomes' display names, top to bottom in table order
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert list(ax.ct_data["column"]) == list(eff["outcome"])
    want_labels = [
        f"{ct.outcome_info(o)['short_label']}, {ct.outcome_info(o)['unit']}" for o in eff["outcome"]
    ]
    assert labels == want_labels
    assert "pfi_burnout" not in labels
    assert [t.get_text() for t in plot_forest(comparison, labels=False).get_yticklabels()] == list(
        eff["outcome"]
    )
    assert np.all(np.diff(ax.get_yticks()) > 0) and ax.yaxis_inverted()


def test_p_column_shows_raw_and_adjusted(comparison):
    eff = comparison.to_frame()
    ax = plot_forest(eff)
    texts = all_texts(ax)
    assert "p" in texts
    row = eff.set_index("outcome").loc["pfi_we"]
    assert f"{row.p_value:.3f} (adj {row.p_adjusted:.3f})" in texts
    ax2 = plot_forest(eff, show_p=False)
    assert "p" not in all_texts(ax2)


@pytest.mark.parametrize(
    ("p", "text"),
    [(0.5, "0.50"), (0.0412, "0.041"), (0.0049, "0.005"), (2e-5, "<0.001"), (np.nan, "")],
)
def test_format_p(p, text):
    assert format_p(p) == text


def test_mixed_estimands_grouped_under_headers(comparison, trial):
    pre = trial.delayed_arm_prepost(["pfi_burnout", "pfi_pf"])
    table = pd.concat([comparison.to_frame(), pre.to_frame()], ignore_index=True)
    ax = plot_forest(table)
    headers = [t.get_text().replace("\n", " ") for t in ax.texts if t.get_gid() == "ct-header"]
    assert headers == list(pd.unique(table["estimand"]))
    data = ax.ct_data
    # every group's rows sit below its header and groups do not interleave
    for _g, rows in data.groupby("group", sort=False):
        ys = rows["y"].to_numpy()
        assert np.all(np.diff(ys) == 1)
    # randomized rows get filled markers, others open markers
    fills = {ln.get_label(): ln.get_markerfacecolor() for ln in ax.lines if ln.get_marker() == "s"}
    assert fills[table["estimand"].iloc[0]] != "white"
    assert all(v == "white" for k, v in fills.items() if k.startswith("non-randomized"))


def test_sort_within_group_and_null_line():
    table = pd.DataFrame(
        {
            "outcome": ["a", "b", "c", "d"],
            "estimate": [1.5, 0.8, 2.0, 1.1],
            "conf_low": [1.1, 0.5, 1.2, 0.9],
            "conf_high": [2.0, 1.3, 3.3, 1.4],
            "estimand": ["ratio g1", "ratio g1", "ratio g2", "ratio g2"],
        }
    )
    ax = plot_forest(table, sort=True, null=1.0)
    assert list(ax.ct_data["label"]) == ["b", "a", "d", "c"]
    nulls = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(nulls) == 1 and np.allclose(nulls[0].get_xdata(), 1.0)
    assert list(plot_forest(table).ct_data["label"]) == ["a", "b", "c", "d"]


def test_repeated_labels_get_the_wave():
    table = pd.DataFrame(
        {
            "outcome": ["x", "x"],
            "wave": ["month3", "month6"],
            "estimate": [0.1, 0.2],
            "conf_low": [0.0, 0.1],
            "conf_high": [0.2, 0.3],
        }
    )
    assert list(forest_table(table)["label"]) == ["x (month3)", "x (month6)"]


def test_not_estimable_and_suppressed_rows_kept_as_text():
    table = pd.DataFrame(
        {
            "outcome": ["ok", "nan", "small"],
            "estimate": [0.3, np.nan, 0.5],
            "conf_low": [0.1, np.nan, 0.2],
            "conf_high": [0.6, np.nan, 0.8],
            "n_treated": [40, 40, 3],
            "n_control": [40, 40, 40],
        }
    )
    ax = plot_forest(table, min_cell=5)
    texts = all_texts(ax)
    assert "not estimable" in texts and "suppressed (n<5)" in texts
    x, _ = _markers(ax)
    np.testing.assert_allclose(x, [0.3])
    assert list(ax.ct_data["drawn"]) == [True, False, False]
    assert not any("0.50" in t or "0.20" in t for t in texts)


def test_ax_respected(comparison):
    fig, axes = plt.subplots(2, 1)
    assert plot_forest(comparison, ax=axes[0]) is axes[0]
    assert len(axes[1].lines) == 0


@pytest.mark.parametrize(
    ("effects", "kwargs", "error", "match"),
    [
        ([1, 2], {}, TypeError, "to_frame"),
        (pd.DataFrame({"outcome": ["a"], "estimate": [1.0]}), {}, ValueError, "conf_low"),
        (
            pd.DataFrame({"name": ["a"], "estimate": [1.0], "conf_low": [0.0], "conf_high": [2.0]}),
            {},
            ValueError,
            "outcome",
        ),
        (
            pd.DataFrame(
                {"outcome": ["a"], "estimate": [1.0], "conf_low": [0.0], "conf_high": [2.0]}
            ),
            {"null": "zero"},
            TypeError,
            "null",
        ),
        (
            pd.DataFrame(
                {"outcome": ["a"], "estimate": [1.0], "conf_low": [0.0], "conf_high": [2.0]}
            ),
            {"digits": -1},
            ValueError,
            "digits",
        ),
    ],
)
def test_bad_arguments(effects, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_forest(effects, **kwargs)


def test_label_column_and_no_mutation(comparison):
    eff = comparison.to_frame()
    before = eff.copy(deep=True)
    ax = plot_forest(eff, label="contrast")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"immediate - delayed ({o})" for o in eff["outcome"]]
    pd.testing.assert_frame_equal(eff, before)
