"""Results cannot be changed after they are built: not by rebinding, not through their tables.

``dataclass(frozen=True)`` only stops rebinding; a caller writing into ``result.adjusted_means``
(``.loc[...] =``, ``inplace=True``) used to change what the result reported afterwards.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct

BUILDERS = {
    "ancova": lambda d: ct.ancova(
        d, outcome="followup", arm="arm", baseline="baseline", treated="immediate"
    ),
    "ancova_cluster": lambda d: ct.ancova(
        d, outcome="followup", arm="arm", baseline="baseline", treated="immediate", cluster="coach"
    ),
    "change_score": lambda d: ct.change_score(
        d, outcome="followup", arm="arm", baseline="baseline", treated="immediate"
    ),
    "percent_change": lambda d: ct.percent_change(
        d, outcome="followup", arm="arm", baseline="baseline", treated="immediate"
    ),
    "effect_size": lambda d: ct.effect_size(d, outcome="followup", arm="arm", treated="immediate"),
    "ppc_effect_size": lambda d: ct.ppc_effect_size(
        d, outcome="followup", arm="arm", baseline="baseline", treated="immediate"
    ),
    "responders": lambda d: ct.responders(
        d,
        outcome="followup",
        arm="arm",
        treated="immediate",
        cutpoint=1.33,
        direction="<",
        baseline="baseline",
        adjust_baseline=True,
    ),
    "from_summary": lambda d: ct.from_summary(
        n=(30, 30), change_mean=(-0.5, -0.1), change_sd=(0.6, 0.7), baseline_sd=(0.8, 0.8)
    ),
}


def _frame_attributes(result) -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(result)
        if isinstance(getattr(result, f.name), (pd.DataFrame, pd.Series))
    ]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_tables_of_a_result_cannot_be_changed_through_its_attributes(trials, name):
    result = BUILDERS[name](trials["b"])
    before_frame = result.to_frame()
    before_summary = result.summary()
    tables = _frame_attributes(result)
    assert tables, "every analysis result carries at least one table (audit, means, ...)"
    for attr in tables:
        original = getattr(result, attr).copy(deep=True)
        table = getattr(result, attr)
        if table.empty:
            continue
        numeric = table.select_dtypes("number").columns
        if len(numeric):
            table.loc[table.index[0], numeric[0]] = -999.0
        table[table.columns[0]] = None  # column assignment on the object itself
        pd.testing.assert_frame_equal(getattr(result, attr), original)
    pd.testing.assert_frame_equal(result.to_frame(), before_frame)
    assert result.summary() == before_summary


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_results_are_frozen_and_render(trials, name):
    result = BUILDERS[name](trials["a"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.estimate = 0.0
    assert "<table" in result._repr_html_()
    assert repr(result) == result.summary()
    frame = result.to_frame()
    assert list(frame.columns) == list(ct.EFFECT_COLUMNS)
    ok = frame["conf_low"].notna()
    assert (frame.loc[ok, "conf_low"] <= frame.loc[ok, "estimate"]).all()
    assert (frame.loc[ok, "estimate"] <= frame.loc[ok, "conf_high"]).all()


def test_adjusted_means_edit_does_not_leak_into_a_second_read(trials):
    res = BUILDERS["ancova"](trials["a"])
    means = res.adjusted_means
    means["estimate"] = np.nan
    assert res.adjusted_means["estimate"].notna().all()


@pytest.mark.parametrize(
    ("name", "heading", "attr"),
    [
        ("ancova", "Adjusted means (95% CI)", "adjusted_means"),
        ("change_score", "Mean change within each arm (95% CI)", "within"),
        ("percent_change", "Arm means and percent change", "per_arm"),
        ("responders", "Proportions per arm (Wilson 95% CI)", "proportions"),
    ],
)
def test_summary_and_html_show_the_per_arm_table(trials, name, heading, attr):
    res = BUILDERS[name](trials["a"])
    text, html = res.summary(), res._repr_html_()
    assert heading in text and heading in html
    table = getattr(res, attr)
    for arm in table["arm"]:
        assert str(arm) in text.split(heading)[1]
    assert html.count("<table") == 2
