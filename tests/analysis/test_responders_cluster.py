"""Cluster-robust responder analysis against R ``sandwich::vcovCL`` (CR1).

Golden values: ``tests/reference/responders_cluster/make_golden.R`` on the two trials of
``tests/reference/analysis`` (10 coaches that cross both arms): ``lm(event ~ arm)`` for the risk
difference, ``glm(binomial(link = "log"))`` / ``glm(binomial)`` for the ratios, each with
``vcovCL(cluster = ~ coach, type = "HC1", cadjust = TRUE)`` and t(G - 1) intervals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coaching_trials.analysis.responders import responders

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
MEASURES = {
    "rd": "risk_difference",
    "rr": "risk_ratio",
    "or": "odds_ratio",
    "or_adj": "odds_ratio_adjusted",
}
CASES = [("a", 1.0), ("a", 1.5), ("b", 1.0), ("b", 1.5)]


@pytest.fixture(scope="module")
def golden() -> dict[str, dict[str, float]]:
    frame = pd.read_csv(REFERENCE / "responders_cluster" / "golden_responders_cluster.csv")
    return {
        case: dict(zip(part["quantity"], part["value"].astype(float), strict=True))
        for case, part in frame.groupby("case", sort=False)
    }


def trial(ds: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "analysis" / f"trial_{ds}.csv")


def fit(ds: str, cut: float, **kw):
    return responders(
        trial(ds),
        outcome="followup",
        arm="arm",
        treated="immediate",
        cutpoint=cut,
        baseline="baseline",
        adjust_baseline=True,
        **kw,
    )


@pytest.mark.parametrize(("ds", "cut"), CASES)
def test_every_measure_matches_vcovcl(golden, ds, cut):
    ref = golden[f"{ds}_{cut:g}"]
    res = fit(ds, cut, cluster="coach")
    assert res.n_clusters == ref["n_clusters"] and res.df == ref["n_clusters"] - 1
    assert res.n_treated + res.n_control == ref["n"]
    comp = res.comparisons.set_index("measure")
    for key, measure in MEASURES.items():
        row = comp.loc[measure]
        for q in ("estimate", "std_error", "conf_low", "conf_high", "p_value"):
            assert row[q] == pytest.approx(ref[f"{key}_{q}"], rel=1e-6, abs=1e-12), (measure, q)
    assert res.estimate == pytest.approx(ref["rd_estimate"], rel=1e-9, abs=1e-12)
    assert res.std_error == pytest.approx(ref["rd_std_error"], rel=1e-6)
    assert res.p_value == pytest.approx(ref["rd_p_value"], rel=1e-6)


def test_hand_formula_for_clusters_nested_in_arms():
    """Clusters within arms: V(p_a) = G_a-free CR1 = sum_g (x_g - p m_g)^2 / n_a^2 * c."""
    rng = np.random.default_rng(8)
    cl = np.repeat(np.arange(16), 5)
    arm = np.where(cl < 8, "coached", "waitlist")
    y = rng.random(80) < np.where(arm == "coached", 0.6, 0.35) + rng.normal(0, 0.1, 16)[cl]
    frame = pd.DataFrame({"arm": arm, "coach": cl, "y": y.astype(float)})
    res = responders(frame, outcome="y", arm="arm", treated="coached", cutpoint=1, cluster="coach")
    g, n = 16, 80
    var = 0.0
    for a in ("coached", "waitlist"):
        part = frame[frame["arm"] == a]
        p = part["y"].mean()
        sums = part.groupby("coach")["y"].agg(["sum", "size"])
        var += np.sum((sums["sum"] - p * sums["size"]) ** 2) / len(part) ** 2
    var *= g / (g - 1) * (n - 1) / (n - 2)
    assert res.std_error == pytest.approx(np.sqrt(var), rel=1e-12)
    row = res.to_frame().iloc[0]
    assert row["df"] == 15 and row["conf_low"] < row["estimate"] < row["conf_high"]


def test_without_cluster_nothing_changes():
    plain = fit("a", 1.0)
    assert plain.cluster is None and plain.n_clusters is None and np.isnan(plain.df)
    assert plain.to_frame()["df"].isna().all()
    assert "Newcombe" in plain.comparisons.loc[0, "method"]


def test_one_cluster_per_participant_is_close_to_the_unclustered_wald():
    frame = trial("a").assign(solo=lambda d: d["participant_id"])
    res = responders(
        frame,
        outcome="followup",
        arm="arm",
        treated="immediate",
        cutpoint=1.0,
        baseline="baseline",
        cluster="solo",
    )
    plain = responders(
        frame, outcome="followup", arm="arm", treated="immediate", cutpoint=1.0, baseline="baseline"
    )
    # CR1 with singletons is HC1: the Wald SE times sqrt(n / (n - 1) * (n - 1) / (n - 2))
    n = res.n_treated + res.n_control
    assert res.std_error == pytest.approx(plain.std_error * np.sqrt(n / (n - 2)), rel=1e-10)


def test_proportion_intervals_use_the_effective_sample_size(golden):
    from coaching_trials.analysis.responders import wilson_interval

    res = fit("a", 1.0, cluster="coach")
    plain = fit("a", 1.0)
    assert (res.proportions["proportion"] == plain.proportions["proportion"]).all()
    # per-arm CR1 variance by hand (coaches cross arms, so only the diagonal is needed)
    frame = trial("a").dropna(subset=["followup", "baseline", "coach"])
    frame = frame.assign(event=(frame["followup"] >= 1.0).astype(float))
    g, n = frame["coach"].nunique(), len(frame)
    for rec in res.proportions.itertuples():
        part = frame[frame["arm"] == rec.arm]
        p = part["event"].mean()
        sums = part.groupby("coach")["event"].agg(["sum", "size"])
        var = np.sum((sums["sum"] - p * sums["size"]) ** 2) / len(part) ** 2
        var *= g / (g - 1) * (n - 1) / (n - 2)
        n_eff = p * (1 - p) / var
        low, high = wilson_interval(p * n_eff, n_eff, 0.95)
        assert rec.conf_low == pytest.approx(float(low), rel=1e-10)
        assert rec.conf_high == pytest.approx(float(high), rel=1e-10)


@pytest.mark.parametrize(("cluster", "error"), [("nope", ValueError), (3, TypeError)])
def test_bad_cluster(cluster, error):
    with pytest.raises(error):
        fit("a", 1.0, cluster=cluster)


def test_missing_cluster_rows_are_audited():
    frame = trial("a")
    frame.loc[[0, 1], "coach"] = np.nan
    res = responders(
        frame, outcome="followup", arm="arm", treated="immediate", cutpoint=1.0, cluster="coach"
    )
    assert res.audit["n_rows"].sum() >= 2
    assert "coach" in " ".join(res.audit["reason"].astype(str) + res.audit["detail"].astype(str))
