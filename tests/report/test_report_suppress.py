"""Small-cell suppression: hand-built tables with known answers, errors, and properties.

The expected hidden cells of the hand-built tables were worked out by hand (see the comments);
the property tests check the two promises by brute force, independently of the implementation:
no visible count is below ``min_cell``, and no hidden count can be recovered from the visible
cells, the totals and what the markers say.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coaching_trials._errors import DataValidationError
from coaching_trials.report import suppress_small_cells
from coaching_trials.report.suppress import SUPPRESSION_LOG_COLUMNS

HIDDEN = {"<5", "—", "<3"}


def hidden_cells(shown: pd.DataFrame, columns) -> set[tuple]:
    return {(r, c) for c in columns for r, v in shown[c].items() if isinstance(v, str)}


# --------------------------------------------------------------------------------------------
# hand-built tables
# --------------------------------------------------------------------------------------------
def test_primary_only_blanks_count_and_dependents():
    t = pd.DataFrame(
        {
            "group": ["a", "b", "c"],
            "n": [3, 12, 0],
            "mean": [1.0, 2.0, np.nan],
            "pct": [10.0, 40.0, 0.0],
            "label": ["x", "y", "z"],
        }
    )
    shown, log = suppress_small_cells(t, dependent_columns={"n": ["mean", "pct", "label"]})
    assert shown["n"].tolist() == ["<5", 12, 0]  # zero shown by default
    assert np.isnan(shown.loc[0, "mean"]) and np.isnan(shown.loc[0, "pct"])
    assert shown.loc[0, "label"] is None
    assert shown.loc[1, "mean"] == 2.0 and shown.loc[1, "label"] == "y"
    assert list(log.columns) == list(SUPPRESSION_LOG_COLUMNS)
    assert log[["row", "column", "kind"]].values.tolist() == [[0, "n", "primary"]]
    assert log.loc[0, "blanked"] == "mean, pct, label"


@pytest.mark.parametrize(
    ("suppress_zero", "expected"),
    [(False, ["<5", 12, 0]), (True, ["<5", 12, "<5"])],
)
def test_zero_counts_are_configurable(suppress_zero, expected):
    t = pd.DataFrame({"n": [3, 12, 0]})
    shown, _ = suppress_small_cells(t, suppress_zero=suppress_zero)
    assert shown["n"].tolist() == expected


@pytest.mark.parametrize(
    ("values", "min_cell", "expected_hidden"),
    [
        # 3 hidden; total 60 visible -> 3 = 60 - 20 - 37: hide the next smallest (20)
        ([3, 20, 37, 60], 5, {"a", "b"}),
        # two small cells already protect each other
        ([3, 2, 40, 45], 5, {"a", "b"}),
        # interval attack: 1 + b = 6 with b >= 5 hidden would give a = 1, so the total goes too
        ([1, 5, 0, 6], 5, {"a", "b", "total"}),
        # nothing small: nothing hidden
        ([6, 20, 37, 63], 5, set()),
        # min_cell 3
        ([2, 3, 10, 15], 3, {"a", "b"}),
    ],
)
def test_row_total_complementary(values, min_cell, expected_hidden):
    t = pd.DataFrame([values], columns=["a", "b", "c", "total"])
    shown, log = suppress_small_cells(
        t,
        min_cell=min_cell,
        count_columns=["a", "b", "c", "total"],
        row_totals={"total": ["a", "b", "c"]},
    )
    hidden = {c for c in t.columns if isinstance(shown.loc[0, c], str)}
    assert hidden == expected_hidden
    assert set(log["column"]) == expected_hidden


def test_two_way_table_hides_a_rectangle():
    # gender x arm with an overall column and a "randomized" row: the small "not reported"
    # cell (1) and its overall (1) are hidden; the cheapest protection is the rectangle with the
    # "male" row (28 and 55), which leaves one free direction in the hidden cells.
    t = pd.DataFrame(
        {"imm": [67, 38, 28, 1], "dly": [71, 44, 27, 0], "all": [138, 82, 55, 1]},
        index=["randomized", "female", "male", "not reported"],
    )
    shown, log = suppress_small_cells(
        t,
        count_columns=["imm", "dly", "all"],
        row_totals={"all": ["imm", "dly"]},
        column_totals=[("randomized", ["female", "male", "not reported"])],
    )
    assert hidden_cells(shown, ["imm", "dly", "all"]) == {
        ("male", "imm"),
        ("male", "all"),
        ("not reported", "imm"),
        ("not reported", "all"),
    }
    assert shown.loc["male", "imm"] == "—" and shown.loc["not reported", "imm"] == "<5"
    assert shown.loc["not reported", "dly"] == 0
    kinds = dict(zip(zip(log["row"], log["column"], strict=True), log["kind"], strict=True))
    assert kinds[("male", "imm")] == "complementary"
    assert kinds[("not reported", "all")] == "primary"


# the rule for statistics: a statistic is blanked only when ITS OWN count is below min_cell;
# complementary suppression hides counts; percentages (they give the count away) go with every
# hidden count. Table: the overall row is the total of the two arms; "a" has 3 people.
_ARMS = pd.DataFrame(
    {
        "n": [3, 40, 43],
        "mean": [1.0, 2.0, 1.9],
        "sd": [0.5, 0.7, 0.7],
        "pct": [7.0, 93.0, 100.0],
    },
    index=["a", "b", "overall"],
)


@pytest.mark.parametrize(
    ("row", "count", "mean", "pct", "kind"),
    [
        ("a", "<5", None, None, "primary"),  # below min_cell: count, mean and percent go
        ("b", "—", 2.0, None, "complementary"),  # 40 people: the mean stays, the percent goes
        ("overall", 43, 1.9, 100.0, None),  # shown
    ],
)
def test_statistics_follow_their_own_count(row, count, mean, pct, kind):
    shown, log = suppress_small_cells(
        _ARMS,
        dependent_columns={"n": ["mean", "sd"]},
        proportion_columns={"n": ["pct"]},
        column_totals=[("overall", ["a", "b"])],
    )
    assert shown.loc[row, "n"] == count
    if mean is None:
        assert np.isnan(shown.loc[row, "mean"]) and np.isnan(shown.loc[row, "sd"])
    else:
        assert shown.loc[row, "mean"] == mean and not np.isnan(shown.loc[row, "sd"])
    if pct is None:
        assert np.isnan(shown.loc[row, "pct"])
    else:
        assert shown.loc[row, "pct"] == pct
    logged = log.set_index("row")
    if kind is None:
        assert row not in logged.index
    else:
        assert logged.loc[row, "kind"] == kind
        expected = "mean, sd, pct" if kind == "primary" else "pct"
        assert logged.loc[row, "blanked"] == expected


@pytest.mark.parametrize(("suppress_zero", "pct_of_zero"), [(False, 0.0), (True, None)])
def test_a_hidden_zero_takes_its_percentage(suppress_zero, pct_of_zero):
    t = pd.DataFrame({"n": [0, 40], "pct": [0.0, 100.0]}, index=["a", "b"])
    shown, _ = suppress_small_cells(t, proportion_columns={"n": "pct"}, suppress_zero=suppress_zero)
    if pct_of_zero is None:
        assert shown.loc["a", "n"] == "<5" and np.isnan(shown.loc["a", "pct"])
    else:
        assert shown.loc["a", "n"] == 0 and shown.loc["a", "pct"] == pct_of_zero
    assert shown.loc["b", "pct"] == 100.0


def test_one_row_total_of_several_groups():
    # CONSORT-like: randomized = assessed + lost, at two waves
    t = pd.DataFrame(
        {"n": [40, 38, 2, 30, 10]},
        index=["randomized", "assessed w1", "lost w1", "assessed w2", "lost w2"],
    )
    shown, _ = suppress_small_cells(
        t,
        column_totals=[
            ("randomized", ["assessed w1", "lost w1"]),
            ("randomized", ["assessed w2", "lost w2"]),
        ],
    )
    # lost w1 (2) hidden; assessed w1 would give it away -> hidden too; wave 2 untouched
    assert shown["n"].tolist() == [40, "—", "<5", 30, 10]


def test_markers_are_configurable_and_log_holds_no_values():
    t = pd.DataFrame({"a": [2, 30], "b": [30, 30], "tot": [32, 60]})
    shown, log = suppress_small_cells(
        t,
        count_columns=["a", "b", "tot"],
        row_totals={"tot": ["a", "b"]},
        marker="small",
        complement_marker="x",
    )
    assert shown.loc[0, "a"] == "small" and shown.loc[0, "b"] == "x"
    flat = " ".join(map(str, log.to_numpy().ravel()))
    assert "30" not in flat and " 2 " not in f" {flat} "


def test_nan_counts_are_left_alone():
    t = pd.DataFrame({"n": [np.nan, 3.0, 20.0]})
    shown, log = suppress_small_cells(t)
    assert pd.isna(shown.loc[0, "n"]) and shown.loc[1, "n"] == "<5" and shown.loc[2, "n"] == 20
    assert len(log) == 1


def test_input_is_not_mutated_and_index_kept():
    t = pd.DataFrame({"n": [3, 40], "mean": [1.0, 2.0]}, index=["x", "y"])
    before = t.copy(deep=True)
    shown, _ = suppress_small_cells(t, dependent_columns={"n": "mean"})
    pd.testing.assert_frame_equal(t, before)
    assert shown.index.tolist() == ["x", "y"] and shown is not t


def test_default_count_columns():
    t = pd.DataFrame({"baseline_n": [3, 9], "n_control": [9, 9], "mean": [1.0, 2.0]})
    shown, log = suppress_small_cells(t)
    assert shown["baseline_n"].tolist() == ["<5", 9]
    assert set(log["column"]) == {"baseline_n"}
    with pytest.raises(ValueError, match="no count column"):
        suppress_small_cells(pd.DataFrame({"mean": [1.0]}))


@pytest.mark.parametrize(
    ("kwargs", "table", "error", "match"),
    [
        ({"count_columns": ["zz"]}, {"n": [1]}, DataValidationError, "'zz'"),
        ({"count_columns": ["n"]}, {"n": [1.5]}, DataValidationError, "whole numbers"),
        ({"count_columns": ["n"]}, {"n": [-1]}, DataValidationError, "whole numbers"),
        ({"count_columns": ["n"]}, {"n": ["a"]}, DataValidationError, "numeric"),
        ({"min_cell": 0}, {"n": [1]}, ValueError, "positive integer"),
        ({"min_cell": 2.5}, {"n": [1]}, TypeError, "positive integer"),
        ({"min_cell": True}, {"n": [1]}, TypeError, "positive integer"),
        (
            {"dependent_columns": {"mean": ["n"]}},
            {"n": [1], "mean": [1.0]},
            DataValidationError,
            "not a count column",
        ),
        ({"dependent_columns": {"n": ["sd"]}}, {"n": [1]}, DataValidationError, "'sd'"),
        (
            {"proportion_columns": {"n": ["pct"]}},
            {"n": [1]},
            DataValidationError,
            r"`proportion_columns\['n'\]`.*'pct'",
        ),
        (
            {"proportion_columns": {"pct": ["n"]}},
            {"n": [1], "pct": [1.0]},
            DataValidationError,
            "`proportion_columns` key 'pct' is not a count column",
        ),
        (
            {"count_columns": ["a", "b"], "row_totals": {"b": ["a", "c"]}},
            {"a": [1], "b": [1]},
            DataValidationError,
            "not count columns",
        ),
        (
            {"count_columns": ["a", "b"], "row_totals": {"b": ["a"]}},
            {"a": [1], "b": [2]},
            DataValidationError,
            "add up",
        ),
        ({"column_totals": [(0, [1, 7])]}, {"n": [3, 3]}, DataValidationError, "index"),
        ({"suppress_zero": "yes"}, {"n": [1]}, TypeError, "suppress_zero"),
    ],
)
def test_errors(kwargs, table, error, match):
    with pytest.raises(error, match=match):
        suppress_small_cells(pd.DataFrame(table), **kwargs)


def test_error_lists_every_problem():
    t = pd.DataFrame({"n": [1.5, -2.0], "m": ["a", "b"]})
    with pytest.raises(DataValidationError) as info:
        suppress_small_cells(t, count_columns=["n", "m", "zz"])
    assert len(info.value.failure_cases) == 3


def test_not_a_dataframe():
    with pytest.raises(TypeError, match="DataFrame"):
        suppress_small_cells([1, 2, 3])


# --------------------------------------------------------------------------------------------
# properties (brute force, independent of the implementation)
# --------------------------------------------------------------------------------------------
def _feasible_values(shown_inner, hidden_kind, visible_margins, margin_kind, min_cell, cap, low):
    """All inner tables consistent with what the reader sees; returns an array (k, r, c).

    A cell shown as ``<min_cell`` lies in ``[low, min_cell - 1]``; one shown as the complement
    marker is at least ``min_cell``.
    """
    r, c = shown_inner.shape
    ranges = []
    for i, j in itertools.product(range(r), range(c)):
        kind = hidden_kind[i][j]
        if kind is None:
            ranges.append([shown_inner[i, j]])
        elif kind == "primary":
            ranges.append(list(range(low, min_cell)))
        else:
            ranges.append(list(range(min_cell, cap + 1)))
    grid = np.array(list(itertools.product(*ranges)), dtype=int).reshape(-1, r, c)
    ok = np.ones(len(grid), dtype=bool)
    margins = {
        "row": grid.sum(axis=2),  # (k, r)
        "col": grid.sum(axis=1),  # (k, c)
        "grand": grid.sum(axis=(1, 2))[:, None],
    }
    for key, m in margins.items():
        for idx in range(m.shape[1]):
            vis = visible_margins[key][idx]
            kind = margin_kind[key][idx]
            if kind is None:
                ok &= m[:, idx] == vis
            elif kind == "primary":
                ok &= (m[:, idx] >= low) & (m[:, idx] < min_cell)
            else:
                ok &= m[:, idx] >= min_cell
    return grid[ok], margins, ok


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inner=st.lists(st.lists(st.integers(0, 6), min_size=2, max_size=2), min_size=2, max_size=2),
    min_cell=st.integers(3, 5),
)
def test_two_way_table_properties(inner, min_cell):
    a = np.array(inner)
    r, c = a.shape
    table = pd.DataFrame(
        np.vstack([np.column_stack([a, a.sum(1)]), np.append(a.sum(0), a.sum())]),
        columns=[*(f"c{j}" for j in range(c)), "total"],
        index=[*(f"r{i}" for i in range(r)), "total"],
    )
    counts = list(table.columns)
    shown, log = suppress_small_cells(
        table,
        min_cell=min_cell,
        count_columns=counts,
        row_totals={"total": counts[:-1]},
        column_totals=[("total", list(table.index[:-1]))],
    )
    # 1. no visible count below min_cell (zeros may show)
    for col in counts:
        for v in shown[col]:
            if not isinstance(v, str):
                assert v == 0 or v >= min_cell
    # 2. every hidden count has at least two values consistent with everything shown
    kinds = {
        (row, col): kind
        for row, col, kind in zip(log["row"], log["column"], log["kind"], strict=True)
    }

    small_marker = f"<{min_cell}"
    zero_hidden = any(
        k == "complementary" and shown.loc[row, col] == small_marker
        for (row, col), k in kinds.items()
    )

    def kind_of(row, col):
        if (row, col) not in kinds:
            return None
        return "primary" if shown.loc[row, col] == small_marker else "complement"

    hidden_kind = [[kind_of(f"r{i}", f"c{j}") for j in range(c)] for i in range(r)]
    margin_kind = {
        "row": [kind_of(f"r{i}", "total") for i in range(r)],
        "col": [kind_of("total", f"c{j}") for j in range(c)],
        "grand": [kind_of("total", "total")],
    }
    visible = {
        "row": table["total"].to_numpy()[:r],
        "col": table.loc["total"].to_numpy()[:c],
        "grand": [table.loc["total", "total"]],
    }
    cap = int(a.sum())
    low = 0 if zero_hidden else 1
    grid, margins, ok = _feasible_values(a, hidden_kind, visible, margin_kind, min_cell, cap, low)
    assert len(grid) >= 1  # the truth is always feasible
    protected = dict(
        zip(zip(log["row"], log["column"], strict=True), log["protected"], strict=True)
    )

    def check(pinned, is_protected, info):
        # the promise: a count reported as protected cannot be worked out. (The converse is
        # exact unless zeros were hidden: then the reader here, who cannot tell a hidden zero
        # from a small count, knows less than the implementation's conservative check.)
        if is_protected:
            assert not pinned, info
        elif not zero_hidden:
            assert pinned, info

    for i, j in itertools.product(range(r), range(c)):
        if hidden_kind[i][j] is not None:
            pinned = len(set(grid[:, i, j])) < 2
            check(pinned, protected[(f"r{i}", f"c{j}")], (i, j, shown))
    names = {
        "row": lambda k: (f"r{k}", "total"),
        "col": lambda k: ("total", f"c{k}"),
        "grand": lambda k: ("total", "total"),
    }
    for key, m in margins.items():
        for idx, kind in enumerate(margin_kind[key]):
            if kind is not None:
                pinned = len(set(m[ok][:, idx])) < 2
                check(pinned, protected[names[key](idx)], (key, idx, shown))


@settings(max_examples=60, deadline=None)
@given(
    row=st.lists(st.integers(0, 12), min_size=1, max_size=4),
    min_cell=st.integers(2, 6),
    suppress_zero=st.booleans(),
)
def test_single_row_with_total_properties(row, min_cell, suppress_zero):
    cols = [f"c{j}" for j in range(len(row))]
    t = pd.DataFrame([[*row, sum(row)]], columns=[*cols, "total"])
    before = t.copy()
    shown, log = suppress_small_cells(
        t,
        min_cell=min_cell,
        count_columns=[*cols, "total"],
        row_totals={"total": cols},
        suppress_zero=suppress_zero,
    )
    pd.testing.assert_frame_equal(t, before)
    values = [*row, sum(row)]
    kinds = dict(zip(log["column"], log["kind"], strict=True))
    low = 0 if suppress_zero else 1
    for col, v in zip([*cols, "total"], values, strict=True):
        s = shown.loc[0, col]
        if not isinstance(s, str):
            assert s == v and (v >= min_cell or (v == 0 and not suppress_zero))
    # brute force over the hidden components: the hidden values are never pinned
    ranges = []
    for col, v in zip(cols, row, strict=True):
        k = kinds.get(col)
        if k is None:
            ranges.append([v])
        elif k == "primary":
            ranges.append(list(range(low, min_cell)))
        else:
            ranges.append(list(range(min_cell, sum(row) + min_cell + 1)))
    sols = []
    for combo in itertools.product(*ranges):
        tot = sum(combo)
        k = kinds.get("total")
        if k is None and tot != sum(row):
            continue
        if k == "primary" and not (low <= tot < min_cell):
            continue
        if k == "complementary" and tot < min_cell:
            continue
        sols.append((*combo, tot))
    sols = np.array(sols)
    assert len(sols) >= 1
    protected = dict(zip(log["column"], log["protected"], strict=True))
    for j, col in enumerate([*cols, "total"]):
        if col in kinds:
            assert (len(set(sols[:, j])) >= 2) == protected[col], (row, min_cell, shown)
