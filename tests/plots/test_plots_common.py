"""Contract shared by every plot: returns the Axes, deterministic, no ids, inputs untouched."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.axes import Axes
from plot_helpers import all_texts

import coaching_trials as ct
from coaching_trials.plots import (
    plot_consort,
    plot_forest,
    plot_percent_change,
    plot_responders,
    plot_trajectories,
)
from coaching_trials.plots.trajectories import trajectory_table

CROSS = {"immediate": ("baseline", "month3"), "delayed": ("month3", "month6")}

# name -> (fixture holding the input, how to call the plot)
CASES = {
    "trajectories": (
        "scored",
        lambda d, **k: plot_trajectories(d, outcome="pfi_burnout", crossover=CROSS, **k),
    ),
    "forest": ("comparison", lambda d, **k: plot_forest(d, **k)),
    "percent_change": ("comparison", lambda d, **k: plot_percent_change(d, **k)),
    "responders": ("responders_result", lambda d, **k: plot_responders(d, **k)),
    "consort": ("flow", lambda d, **k: plot_consort(d, **k)),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("min_cell", [None, 5])
def test_contract(request, name, min_cell):
    fixture, draw = CASES[name]
    data = request.getfixturevalue(fixture)
    snapshot = data.copy(deep=True) if isinstance(data, pd.DataFrame) else None
    ax1 = draw(data, min_cell=min_cell)
    ax2 = draw(data, min_cell=min_cell)
    assert isinstance(ax1, Axes) and ax1 is not ax2
    assert isinstance(ax1.ct_data, pd.DataFrame) and len(ax1.ct_data)
    pd.testing.assert_frame_equal(ax1.ct_data, ax2.ct_data)  # deterministic
    assert all_texts(ax1) == all_texts(ax2)
    ids = set(request.getfixturevalue("scored")["participant_id"])
    texts = all_texts(ax1)
    assert not any(re.search(r"\bP\d{3}\b", t) for t in texts)
    assert not ids & set(texts)
    if snapshot is not None:
        pd.testing.assert_frame_equal(data, snapshot)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_min_cell(request, name):
    fixture, draw = CASES[name]
    with pytest.raises(ValueError, match="min_cell"):
        draw(request.getfixturevalue(fixture), min_cell=-1)


def test_public_names():
    import coaching_trials.plots as plots

    assert set(plots.__all__) == {
        "plot_consort",
        "plot_forest",
        "plot_percent_change",
        "plot_power_curve",
        "plot_responders",
        "plot_tipping_point",
        "plot_trajectories",
    }
    assert ct.__version__


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.none(), st.floats(0, 4, allow_nan=False)), min_size=4, max_size=40
    ),
    min_cell=st.one_of(st.none(), st.integers(1, 6)),
)
def test_trajectory_table_property(values, min_cell):
    """Means equal pandas means, lie inside their interval, and small cells are blanked."""
    n = len(values)
    frame = pd.DataFrame(
        {
            "participant_id": [f"S{i // 2}" for i in range(n)],
            "arm": ["a" if (i // 2) % 2 == 0 else "b" for i in range(n)],
            "wave": ["w1" if i % 2 == 0 else "w2" for i in range(n)],
            "y": pd.array(values, dtype="Float64").astype(float),
        }
    )
    tab = trajectory_table(frame, outcome="y", min_cell=min_cell).set_index(["arm", "wave"])
    counts = frame.groupby(["arm", "wave"])["y"].count()
    means = frame.groupby(["arm", "wave"])["y"].mean()
    for key, n_obs in counts.items():
        row = tab.loc[key]
        small = min_cell is not None and n_obs < min_cell
        assert bool(row["suppressed"]) == small
        if small or n_obs == 0:
            assert np.isnan(row["mean"]) and row["n_label"] in (f"<{min_cell}", "0")
            continue
        assert row["mean"] == pytest.approx(means[key])
        if n_obs > 1 and np.isfinite(row["conf_low"]):
            assert row["conf_low"] - 1e-12 <= row["mean"] <= row["conf_high"] + 1e-12
