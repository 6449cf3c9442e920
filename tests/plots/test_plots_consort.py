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
