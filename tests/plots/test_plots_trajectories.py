"""plot_trajectories: the drawn means, intervals and counts are the data's, small cells hidden."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from plot_helpers import all_texts, errorbar_segments
from scipy import stats

from coaching_trials.plots.trajectories import plot_trajectories, trajectory_table

WAVES = ["baseline", "month3", "month6"]
CROSS = {"immediate": ("baseline", "month3"), "delayed": ("month3", "month6")}


def _expected(scored: pd.DataFrame, outcome: str, conf_level: float) -> pd.DataFrame:
    """Per arm x wave mean and t interval, computed independently with pandas/scipy."""
    rows = []
    for (a, w), x in scored.groupby(["arm", "wave"], observed=True)[outcome]:
        x = x.dropna()
        lo, hi = stats.t.interval(conf_level, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        rows.append(dict(arm=a, wave=w, n=len(x), mean=x.mean(), low=lo, high=hi))
    return pd.DataFrame(rows).set_index(["arm", "wave"])


def _data_lines(ax):
    """The mean lines (error-bar caps are unlabelled lines)."""
    return [ln for ln in ax.lines if not ln.get_label().startswith("_")]


def _line(ax, label):
    (line,) = [ln for ln in ax.lines if ln.get_label() == label]
    return line


@pytest.mark.parametrize("outcome", ["pfi_burnout", "pfi_pf"])
@pytest.mark.parametrize("conf_level", [0.95, 0.90])
def test_lines_and_errorbars_equal_independent_means(scored, outcome, conf_level):
    ax = plot_trajectories(scored, outcome=outcome, conf_level=conf_level, crossover=CROSS)
    exp = _expected(scored, outcome, conf_level)
    segments = errorbar_segments(ax)
    assert len(segments) == 6
    for a in ("immediate", "delayed"):
        line = _line(ax, a)
        want = [exp.loc[(a, w), "mean"] for w in WAVES]
        np.testing.assert_allclose(line.get_ydata(), want, rtol=1e-12)
        # x positions keep the wave order (dodged a little per arm)
        assert np.all(np.diff(line.get_xdata()) > 0.9)
        for x, w in zip(line.get_xdata(), WAVES, strict=True):
            (seg,) = [s for s in segments if np.isclose(s[0], x)]
            np.testing.assert_allclose(seg[1:], exp.loc[(a, w), ["low", "high"]], rtol=1e-10)


def test_counts_shown_per_point(scored):
    ax = plot_trajectories(scored, outcome="pfi_burnout", crossover=CROSS)
    counts = scored.groupby(["arm", "wave"], observed=True)["pfi_burnout"].count()
    texts = all_texts(ax)
    for n in counts:
        assert str(n) in texts
    assert ax.ct_data.set_index(["arm", "wave"])["n"].astype(int).to_dict() == counts.to_dict()


def test_min_cell_hides_small_cells(scored):
    counts = scored.groupby(["arm", "wave"], observed=True)["pfi_burnout"].count()
    k = 60  # hides delayed month3 (59) and month6 (54)
    small = counts[counts < k]
    assert len(small) == 2
    ax = plot_trajectories(scored, outcome="pfi_burnout", min_cell=k, crossover=CROSS)
    line = _line(ax, "delayed")
    y = dict(zip(WAVES, line.get_ydata(), strict=True))
    for (_, w), _n in small.items():
        assert np.isnan(y[w])
    assert np.isfinite(y["baseline"])
    texts = all_texts(ax)
    for n in small:
        assert str(n) not in texts
    assert texts.count(f"<{k}") == 2
    data = ax.ct_data
    hidden = data[data["suppressed"]]
    assert set(zip(hidden["arm"], hidden["wave"], strict=True)) == set(small.index)
    assert hidden["n"].isna().all() and hidden["mean"].isna().all()
    assert len(errorbar_segments(ax)) == 4


def test_trial_input_uses_design_and_crossover(trial, scored):
    ax = plot_trajectories(trial, outcome="pfi_burnout")
    texts = all_texts(ax)
    assert "immediate arm coached" in texts and "delayed arm coached" in texts
    assert [ln.get_label() for ln in _data_lines(ax)] == ["immediate", "delayed"]
    direct = plot_trajectories(scored, outcome="pfi_burnout", crossover=CROSS)
    pd.testing.assert_frame_equal(ax.ct_data, direct.ct_data)
    none = plot_trajectories(trial, outcome="pfi_burnout", crossover={})
    assert "immediate arm coached" not in all_texts(none)


def test_mmrm_result_draws_lsmeans(scored):
    import coaching_trials as ct

    fit = ct.mmrm(
        scored,
        outcome="pfi_burnout",
        arm="arm",
        visit="wave",
        subject="participant_id",
        treated="immediate",
    )
    ax = plot_trajectories(fit, crossover=CROSS)
    ls = fit.lsmeans.set_index(["arm", "visit"])
    segments = errorbar_segments(ax)
    for a in ("immediate", "delayed"):
        line = _line(ax, a)
        np.testing.assert_allclose(line.get_ydata(), [ls.loc[(a, w), "estimate"] for w in WAVES])
        for x, w in zip(line.get_xdata(), WAVES, strict=True):
            (seg,) = [s for s in segments if np.isclose(s[0], x)]
            np.testing.assert_allclose(seg[1:], ls.loc[(a, w), ["conf_low", "conf_high"]])
    assert "adjusted mean" in ax.get_ylabel()


def test_ax_respected_and_returned(scored):
    fig, axes = plt.subplots(1, 2)
    out = plot_trajectories(scored, outcome="pfi_burnout", ax=axes[1])
    assert out is axes[1]
    assert len(axes[0].lines) == 0 and len(_data_lines(axes[1])) == 2


def test_wave_order_follows_categories_and_row_order_changes_nothing(scored):
    shuffled = scored.sample(frac=1.0, random_state=3)
    a = trajectory_table(scored, outcome="pfi_burnout")
    b = trajectory_table(shuffled, outcome="pfi_burnout")
    pd.testing.assert_frame_equal(a, b)
    plain = scored.assign(wave=scored["wave"].astype(str)).sample(frac=1.0, random_state=4)
    c = trajectory_table(plain, outcome="pfi_burnout")
    assert list(pd.unique(c["wave"])) == WAVES
    renamed = scored.assign(
        wave=scored["wave"]
        .astype(str)
        .map({"baseline": "month0", "month3": "month3", "month6": "month12"})
    )
    d = trajectory_table(renamed, outcome="pfi_burnout")
    assert list(pd.unique(d["wave"])) == ["month0", "month3", "month12"]


def test_does_not_mutate_input(scored):
    before = scored.copy(deep=True)
    plot_trajectories(scored, outcome="pfi_burnout", min_cell=60, crossover=CROSS)
    pd.testing.assert_frame_equal(scored, before)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(outcome="nope"), ValueError, "not a column of the data"),
        (dict(outcome="arm"), TypeError, "numeric"),
        (dict(outcome=None), TypeError, "outcome"),
        (dict(outcome="pfi_burnout", ax="not an axes"), TypeError, "ax"),
        (dict(outcome="pfi_burnout", min_cell=0), ValueError, "min_cell"),
        (dict(outcome="pfi_burnout", conf_level=1.5), ValueError, "conf_level"),
        (
            dict(outcome="pfi_burnout", crossover={"other": ("baseline", "month3")}),
            ValueError,
            "arm 'other'",
        ),
        (
            dict(outcome="pfi_burnout", crossover={"immediate": ("baseline", "month9")}),
            ValueError,
            "wave 'month9'",
        ),
        (
            dict(outcome="pfi_burnout", crossover={"immediate": ("month6", "month3")}),
            ValueError,
            "before",
        ),
        (dict(outcome="pfi_burnout", crossover={"immediate": "month3"}), TypeError, "pair"),
        (dict(outcome="pfi_burnout", crossover=["immediate"]), TypeError, "mapping"),
    ],
)
def test_bad_arguments(scored, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_trajectories(scored, **kwargs)


def test_duplicate_rows_rejected(scored):
    doubled = pd.concat([scored, scored.iloc[:2]])
    with pytest.raises(ValueError, match="one row per participant x wave"):
        plot_trajectories(doubled, outcome="pfi_burnout")
