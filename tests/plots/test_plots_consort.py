"""plot_consort: one box per flow stage, counts from the flow table, small counts hidden."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.patches import FancyBboxPatch
from plot_helpers import all_texts

from coaching_trials.plots.consort import consort_boxes, plot_consort


def _boxes(ax):
    return [p for p in ax.patches if isinstance(p, FancyBboxPatch) and p.get_gid() == "ct-box"]


def _expected_box_count(flow: pd.DataFrame) -> int:
    arms = flow.loc[flow["arm"] != "overall"]
    n = 1  # randomized
    for _, f in arms.groupby("arm"):
        n += 1  # allocated
        n += int((f["stage"] == "assessed").sum())
        n += f.loc[f["stage"] == "not assessed", "wave"].nunique()
        n += int((f["stage"] == "analysed").sum())
        n += int((f["stage"] == "not analysed").any())
    return n


def test_one_box_per_stage_with_flow_counts(flow):
    ax = plot_consort(flow)
    boxes = _boxes(ax)
    assert len(boxes) == _expected_box_count(flow) == len(ax.ct_data)
    texts = all_texts(ax)
    rand = flow.query("arm == 'overall' and stage == 'randomized'")["n"].item()
    assert f"Randomized\nn = {rand}" in texts
    for r in flow[flow["arm"] != "overall"].itertuples():
        if r.stage == "randomized":
            assert f"Allocated to {r.arm}\nn = {r.n}" in texts
        elif r.stage == "assessed":
            assert f"Assessed at {r.wave}\nn = {r.n}" in texts
        elif r.stage == "analysed":
            assert f"Analysed at {r.wave}\nn = {r.n}" in texts
        else:  # losses listed with their reason inside the side box of the arm and wave
            side = ax.ct_data[
                (ax.ct_data["arm"] == r.arm)
                & (ax.ct_data["stage"] == r.stage)
                & (ax.ct_data["wave"] == r.wave)
            ]
            assert f"{r.reason}: {r.n}" in side["text"].item()
    # side-box totals equal the sum of their reasons
    lost = flow[(flow["stage"] == "not assessed") & (flow["arm"] != "overall")]
    for (_a, w), n in lost.groupby(["arm", "wave"])["n"].sum().items():
        assert any(t.startswith(f"Not assessed at {w} (n = {n})") for t in texts)


def test_boxes_do_not_overlap(flow):
    data = plot_consort(flow).ct_data
    for i, a in data.iterrows():
        for j, b in data.iterrows():
            if i >= j:
                continue
            apart_x = a.x + a.width <= b.x or b.x + b.width <= a.x
            apart_y = a.y + a.height <= b.y or b.y + b.height <= a.y
            assert apart_x or apart_y, (a.box, a.arm, b.box, b.arm)


@pytest.mark.parametrize("k", [3, 5, 10])
def test_min_cell_hides_small_counts(flow, k):
    ax = plot_consort(flow, min_cell=k)
    counts = []
    for t in all_texts(ax):
        counts += [int(v) for v in re.findall(r"(?:n = |: )(\d+)", t)]
    assert counts and min(counts) >= k
    small = flow.loc[flow["n"] < k, "n"]
    if len(small):
        assert any(f"<{k}" in t for t in all_texts(ax))
    assert len(_boxes(ax)) == _expected_box_count(flow)


def test_trial_input_ax_and_no_ids(trial, flow):
    fig, axes = plt.subplots(1, 2, figsize=(22, 7))
    out = plot_consort(trial, ax=axes[0])
    assert out is axes[0] and not axes[1].patches
    pd.testing.assert_frame_equal(out.ct_data, consort_boxes(flow))
    assert not any(re.search(r"P\d{3}", t) for t in all_texts(out))


def test_three_arms_layout():
    flow = pd.DataFrame(
        {
            "arm": ["a", "a", "b", "b", "c", "c", "c"],
            "stage": [
                "randomized",
                "assessed",
                "randomized",
                "assessed",
                "randomized",
                "assessed",
                "not assessed",
            ],
            "wave": [None, "t0", None, "t0", None, "t0", "t0"],
            "reason": [None, None, None, None, None, None, "moved away"],
            "n": [10, 10, 12, 12, 9, 8, 1],
        }
    )
    ax = plot_consort(flow)
    assert len(_boxes(ax)) == 1 + 3 * 2 + 1
    assert "Randomized\nn = 31" in all_texts(ax)  # no 'overall' rows: summed over arms


@pytest.mark.parametrize(
    ("mutate", "error", "match"),
    [
        (lambda f: f.drop(columns="reason"), ValueError, "missing column"),
        (
            lambda f: f.assign(stage=f["stage"].replace({"analysed": "kept"})),
            ValueError,
            "unknown value",
        ),
        (lambda f: f.assign(n=-f["n"]), ValueError, "non-negative"),
        (lambda f: f.assign(arm="overall"), ValueError, "no arm"),
        (lambda f: f.to_dict(), TypeError, "DataFrame"),
    ],
)
def test_bad_flow(flow, mutate, error, match):
    with pytest.raises(error, match=match):
        plot_consort(mutate(flow))


def test_min_cell_validated(flow):
    with pytest.raises(ValueError, match="min_cell"):
        plot_consort(flow, min_cell=2.5)


# --------------------------------------------------------------------------------------------
# already-suppressed tables: counts drawn as given, no number the table hides
# --------------------------------------------------------------------------------------------
def _small_flow(n_lost_a, n_lost_b, n_assessed):
    """One arm (plus overall): 20 randomized, assessed at t1, two loss reasons."""
    return pd.DataFrame(
        {
            "arm": ["x", "x", "x", "x", "overall"],
            "stage": ["randomized", "assessed", "not assessed", "not assessed", "randomized"],
            "wave": [None, "t1", "t1", "t1", None],
            "reason": [None, None, "moved", "ill", None],
            "n": pd.Series([20, n_assessed, n_lost_a, n_lost_b, 20], dtype=object),
        }
    )


@pytest.mark.parametrize(
    ("lost_a", "lost_b", "assessed", "head", "reasons"),
    [
        # every reason shown: the side box total is their sum
        (6, 7, 7, "Not assessed at t1 (n = 13)", ["moved: 6", "ill: 7"]),
        # a hidden reason: the total is allocated - assessed, both shown in the table
        ("<5", "—", 7, "Not assessed at t1 (n = 13)", ["moved: <5", "ill: —"]),
        # the assessed count hidden too: no total can be drawn
        ("<5", "—", "—", "Not assessed at t1", ["moved: <5", "ill: —"]),
    ],
)
def test_suppressed_table_drawn_as_given(lost_a, lost_b, assessed, head, reasons):
    flow = _small_flow(lost_a, lost_b, assessed)
    ax = plot_consort(flow, min_cell=5)
    boxes = ax.ct_data.set_index("box")
    side = boxes.loc["not assessed", "text"].splitlines()
    assert side[0] == head
    assert [line.removeprefix("\N{BULLET} ") for line in side[1:]] == reasons
    assert boxes.loc["assessed", "n_label"] == str(assessed)
    assert boxes.loc["allocated", "text"] == "Allocated to x\nn = 20"
    # the only numbers drawn are the table's, or the total worked out from shown numbers
    shown = {str(v) for v in flow["n"] if not isinstance(v, str)}
    derived = {"13"} if not isinstance(assessed, str) else set()
    drawn = {m for t in all_texts(ax) for m in re.findall(r"(?:n = |: )(\d+)", t)}
    assert drawn <= shown | derived
    plt.close("all")


def test_suppressed_mask_equals_the_markers(flow):
    # flag every count below 5, and the counts of the delayed arm at month6 reason not given
    mask = (flow["n"] < 5) | (
        (flow["arm"] == "delayed") & (flow["wave"] == "month6") & (flow["reason"].notna())
    )
    as_text = flow.assign(
        n=[
            ("<5" if v < 5 else "\N{EM DASH}") if m else int(v)
            for v, m in zip(flow["n"], mask, strict=True)
        ]
    )
    by_mask = consort_boxes(flow, min_cell=5, suppressed=mask)
    by_text = consort_boxes(as_text, min_cell=5)
    pd.testing.assert_frame_equal(by_mask, by_text)
    side = by_mask[(by_mask["arm"] == "delayed") & (by_mask["box"] == "not assessed")]
    assert "reason not given: \N{EM DASH}" in side["text"].iloc[-1]
    # no flag: the raw drawing is unchanged
    pd.testing.assert_frame_equal(
        consort_boxes(flow, min_cell=5, suppressed=[False] * len(flow)),
        consort_boxes(flow, min_cell=5),
    )


@pytest.mark.parametrize(
    ("kwargs", "n", "match"),
    [
        ({}, [20, 7, None, "—", 20], "markers of a suppressed table"),
        ({}, [20, 7, "", "—", 20], "markers of a suppressed table"),
        ({"suppressed": [True, False]}, [20, 7, 6, 7, 20], "`suppressed` must be 5"),
        ({"suppressed": ["yes"] * 5}, [20, 7, 6, 7, 20], "True/False"),
        (
            {"suppressed": pd.Series([False] * 5, index=range(1, 6))},
            [20, 7, 6, 7, 20],
            "same index",
        ),
    ],
)
def test_suppressed_input_validated(kwargs, n, match):
    flow = _small_flow(0, 0, 0).assign(n=pd.Series(n, dtype=object))
    with pytest.raises(ValueError, match=match):
        plot_consort(flow, **kwargs)
