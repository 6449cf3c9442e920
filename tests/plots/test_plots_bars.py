"""plot_percent_change and plot_responders: bar heights, intervals, labels, small cells."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from plot_helpers import OUTCOMES, all_texts, errorbar_segments
from statsmodels.stats.proportion import proportion_confint

import coaching_trials as ct
from coaching_trials.plots.bars import (
    percent_change_table,
    plot_percent_change,
    plot_responders,
    responders_table,
)

MINUS = "\N{MINUS SIGN}"


def _wide(scored: pd.DataFrame, outcome: str) -> pd.DataFrame:
    w = scored.pivot(index="participant_id", columns="wave", values=outcome)
    arm = scored.drop_duplicates("participant_id").set_index("participant_id")["arm"]
    return w.join(arm)


def _independent_percent_change(scored: pd.DataFrame, outcome: str) -> dict[str, float]:
    w = _wide(scored, outcome).dropna(subset=["baseline", "month3"])
    g = w.groupby("arm")[["baseline", "month3"]].mean()
    return (100 * (g["month3"] / g["baseline"] - 1)).to_dict()


def _bars(ax):
    return sorted((round(p.get_x() + p.get_width() / 2, 9), p.get_height()) for p in ax.patches)


@pytest.mark.parametrize("source", ["result", "table"])
def test_percent_change_bars_equal_independent_values(scored, comparison, source):
    data = comparison if source == "result" else comparison.descriptives
    ax = plot_percent_change(data)
    table = ax.ct_data
    bars = dict(_bars(ax))
    desc = comparison.descriptives
    for o in OUTCOMES:
        want = _independent_percent_change(scored, o)
        for a in ("immediate", "delayed"):
            row = table[(table["outcome"] == o) & (table["arm"] == a)].iloc[0]
            assert bars[round(row["x"], 9)] == pytest.approx(want[a], rel=1e-10)
    segs = {round(x, 9): (lo, hi) for x, lo, hi in errorbar_segments(ax)}
    assert len(segs) == len(desc)
    for row, (_, d) in zip(table.itertuples(), desc.iterrows(), strict=True):
        np.testing.assert_allclose(
            segs[round(row.x, 9)],
            d[["percent_change_conf_low", "percent_change_conf_high"]].to_numpy(float),
        )
    texts = all_texts(ax)
    for v, n in zip(desc["percent_change"], desc["percent_change_n"], strict=True):
        assert f"{v:+.1f}%".replace("-", MINUS) in texts
        assert f"n={n}" in texts
    want_labels = [ct.outcome_info(o)["short_label"] for o in OUTCOMES]
    assert [t.get_text() for t in ax.get_xticklabels()] == want_labels
    assert list(ax.ct_data.drop_duplicates("outcome")["outcome"]) == OUTCOMES
    if isinstance(data, pd.DataFrame):  # a bare table does not know its end wave
        assert "from baseline" in ax.get_ylabel()
        assert "baseline to month3" in plot_percent_change(data, end="month3").get_ylabel()
    else:
        assert "baseline to month3" in ax.get_ylabel()  # the end time point is named
    assert "descriptive, not the effect" in ax.ct_caption
    assert ax.get_legend().get_title().get_text() == "arm (descriptive)"


def test_percent_change_from_per_arm_result(scored):
    import coaching_trials as ct

    wide = _wide(scored, "pfi_we").reset_index()
    res = ct.percent_change(
        wide, outcome="month3", baseline="baseline", arm="arm", treated="immediate"
    )
    ax = plot_percent_change(res)
    want = _independent_percent_change(scored, "pfi_we")
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, [want["immediate"], want["delayed"]], rtol=1e-10)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["month3"]
    ax2 = plot_percent_change(res.per_arm)
    np.testing.assert_allclose([p.get_height() for p in ax2.patches], heights)


def test_percent_change_outcomes_subset_and_order(comparison):
    ax = plot_percent_change(comparison, outcomes=["pfi_id", "pfi_burnout"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Disengagement", "Burnout"]
    ax = plot_percent_change(comparison, outcomes=["pfi_id"], labels={"pfi_id": "ID"})
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ID"]
    ax = plot_percent_change(comparison, outcomes=["pfi_id", "pfi_burnout"])
    assert len(ax.patches) == 4
    with pytest.raises(ValueError, match="not in the table"):
        plot_percent_change(comparison, outcomes=["pfi_xx"])


def test_percent_change_min_cell(comparison):
    ax = plot_percent_change(comparison, min_cell=60)  # delayed arm has 59
    assert len(ax.patches) == len(OUTCOMES)
    texts = all_texts(ax)
    assert "n=59" not in texts and texts.count("n<60") == len(OUTCOMES)
    hidden = ax.ct_data[ax.ct_data["suppressed"]]
    assert set(hidden["arm"]) == {"delayed"} and hidden["percent_change"].isna().all()
    # the legend still shows both arms, in their colours
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["immediate", "delayed"]


def test_percent_change_table_bad_input():
    with pytest.raises(TypeError, match="descriptives"):
        percent_change_table([1, 2, 3])
    with pytest.raises(ValueError, match="missing column"):
        percent_change_table(pd.DataFrame({"arm": ["a"], "percent_change": [1.0]}))


def test_responders_bars_equal_independent_proportions(trial, responders_result):
    wide = trial.wide("pfi_burnout", waves=["baseline", "month3"])
    y = wide.dropna(subset=["pfi_burnout__month3", "pfi_burnout__baseline"])
    ev = (y["pfi_burnout__month3"] < 1.33).groupby(y["arm"]).agg(["sum", "count"])
    ax = plot_responders(responders_result)
    heights = [p.get_height() for p in ax.patches]
    want = [ev.loc[a, "sum"] / ev.loc[a, "count"] for a in ("immediate", "delayed")]
    np.testing.assert_allclose(heights, want, rtol=1e-12)
    segs = errorbar_segments(ax)
    for (_x, lo, hi), a in zip(segs, ("immediate", "delayed"), strict=True):
        w_lo, w_hi = proportion_confint(ev.loc[a, "sum"], ev.loc[a, "count"], method="wilson")
        np.testing.assert_allclose([lo, hi], [w_lo, w_hi], rtol=1e-9)
    texts = all_texts(ax)
    for a in ("immediate", "delayed"):
        s, n = ev.loc[a, "sum"], ev.loc[a, "count"]
        assert f"{100 * s / n:.0f}%\n({s}/{n})" in texts
    rd = 100 * (want[0] - want[1])
    assert ax.ct_rd.startswith("Risk difference (immediate \N{MINUS SIGN} delayed): ")
    assert f"{rd:+.1f} pp" in ax.ct_rd
    assert "NNTB" in ax.ct_rd
    assert [t.get_text() for t in ax.get_xticklabels()] == ["immediate", "delayed"]
    assert "burnout score < 1.33 at month3" in ax.get_ylabel()  # display name, not pfi_burnout
    assert "pfi_burnout" not in ax.get_ylabel()
    assert ax.get_ylim() == (0.0, 1.0)  # a proportion axis ends at 100%
    k = round(responders_result.nnt)
    assert k == round(1 / (want[0] - want[1]))  # NNT from the independent proportions
    assert ax.ct_nnt.startswith(f"For about every {k} participants coached, 1 more has ")
    assert "NNTB: number needed to treat" in ax.ct_nnt


def test_responders_min_cell_hides_arm_and_difference(responders_result):
    props = responders_result.proportions  # immediate 44/61 events, delayed 28/59
    k = 20  # immediate non-events 17 < 20
    ax = plot_responders(responders_result, min_cell=k)
    assert len(ax.patches) == 1
    assert ax.ct_rd == ""
    texts = all_texts(ax)
    assert f"suppressed\n(n<{k})" in texts
    assert not any("44" in t or "17" in t for t in texts)
    table = responders_table(responders_result, min_cell=k)
    assert list(table["suppressed"]) == [True, False]
    assert int(table.loc[1, "events"]) == props.loc[1, "events"]


def test_responders_bad_input_and_ax(responders_result):
    with pytest.raises(TypeError, match="responders result"):
        plot_responders(pd.DataFrame())
    fig, axes = plt.subplots(1, 2)
    assert plot_responders(responders_result, ax=axes[1]) is axes[1]
    assert len(axes[0].patches) == 0
    with pytest.raises(TypeError, match="ax"):
        plot_responders(responders_result, ax=fig)
