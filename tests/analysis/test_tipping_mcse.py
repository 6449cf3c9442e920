"""Monte Carlo uncertainty of the tipping-point analysis (jackknife over imputations).

What is checked: the MC SE of the tipping delta shrinks like 1/sqrt(m); it predicts the actual
spread of the tipping delta across seeds; the p-value MC SE equals a jackknife computed by hand
with the public ``pool_rubin`` on the per-imputation estimates; adaptive ``m`` stops as
documented; the plot draws the numbers of the result.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from coaching_trials.analysis.imputation import pool_rubin, tipping_point  # noqa: E402
from coaching_trials.plots import plot_tipping_point  # noqa: E402

GRID = np.arange(0.0, 3.01, 0.25)


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 80
    arm = np.where(np.arange(n) % 2 == 0, "immediate", "delayed")
    base = rng.normal(2.0, 0.7, n)
    follow = 0.5 + 0.6 * base - 0.4 * (arm == "immediate") + rng.normal(0, 0.5, n)
    follow[rng.random(n) < 0.3] = np.nan
    return pd.DataFrame({"arm": arm, "base": base, "follow": follow})


def run(frame: pd.DataFrame, **kw):
    args = dict(outcome="follow", baseline="base", arm="arm", treated="immediate", deltas=GRID)
    return tipping_point(frame, **{**args, **kw})


def test_mcse_shrinks_like_one_over_sqrt_m(trial):
    mcse = {
        m: np.mean([run(trial, m=m, seed=s).tipping_delta_mcse for s in range(4)])
        for m in (20, 80, 320)
    }
    # 4x the imputations halves the MC SE (measured: 0.092 -> 0.048 -> 0.024)
    assert mcse[20] / mcse[80] == pytest.approx(2.0, rel=0.3)
    assert mcse[80] / mcse[320] == pytest.approx(2.0, rel=0.3)
    assert mcse[20] / mcse[320] == pytest.approx(4.0, rel=0.3)


def test_mcse_predicts_the_spread_across_seeds(trial):
    results = [run(trial, m=20, seed=s) for s in range(40)]
    tips = np.array([r.tipping_delta for r in results])
    mcse = np.array([r.tipping_delta_mcse for r in results])
    assert np.all(np.isfinite(tips)) and np.all(mcse > 0)
    spread = tips.std(ddof=1)  # measured 0.114 vs root-mean-square MC SE 0.096
    assert np.sqrt(np.mean(mcse**2)) == pytest.approx(spread, rel=0.35)


def test_p_value_mcse_is_the_jackknife_of_rubins_rules(trial):
    res = run(trial, m=20, seed=5)
    imp = res.mar.imputations
    est, var = imp["estimate"].to_numpy(), imp["std_error"].to_numpy() ** 2
    df_com = float(imp["df"].iloc[0])
    reps = []
    for i in range(len(est)):
        keep = np.arange(len(est)) != i
        reps.append(float(pool_rubin(est[keep], var[keep], df_complete=df_com).p_value))
    reps = np.array(reps)
    by_hand = np.sqrt((len(reps) - 1) / len(reps) * np.sum((reps - reps.mean()) ** 2))
    at_zero = res.table.loc[res.table["delta"] == 0.0, "p_value_mcse"].iloc[0]
    assert at_zero == pytest.approx(by_hand, rel=1e-8)
    assert (res.table["p_value_mcse"] >= 0).all()


def test_adaptive_m_doubles_until_the_target(trial):
    res = run(trial, m=10, seed=3, m_max=640, mcse_fraction=0.1)
    path = res.m_path
    assert path["m"].iloc[0] == 10 and res.m == path["m"].iloc[-1]
    assert list(path["m"]) == [10 * 2**k for k in range(len(path))]
    assert res.mcse_target == pytest.approx(0.1 * 0.25)
    assert res.mcse_reached is True and res.tipping_delta_mcse <= res.mcse_target
    assert (path["tipping_delta_mcse"].iloc[:-1] > res.mcse_target).all()
    assert "below the target" in res.summary()


def test_adaptive_m_says_when_the_target_is_not_reached(trial):
    res = run(trial, m=10, seed=3, m_max=20, mcse_fraction=0.01)
    assert res.m == 20 and res.mcse_reached is False
    assert "not reached" in res.summary()


def test_fixed_m_by_default(trial):
    res = run(trial, seed=3)
    assert res.m == 20 and len(res.m_path) == 1
    assert res.mcse_reached in (True, False)


def test_no_tipping_delta_has_no_mcse(trial):
    res = run(trial.assign(follow=trial["follow"] - 5 * (trial["arm"] == "immediate")), seed=1)
    assert np.isnan(res.tipping_delta) and np.isnan(res.tipping_delta_mcse)
    assert res.mcse_reached is None


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"m_max": 5}, ValueError),
        ({"mcse_fraction": 0.0}, ValueError),
        ({"mcse_fraction": "a"}, TypeError),
    ],
)
def test_bad_options(trial, kw, error):
    with pytest.raises(error):
        run(trial, seed=1, **kw)


def test_plot_draws_the_result(trial):
    res = run(trial, m=20, seed=2)
    fig, ax = plt.subplots()
    out = plot_tipping_point(res, ax=ax)
    assert out is ax
    data = ax.ct_data
    np.testing.assert_allclose(data["p_value"], res.table["p_value"])
    np.testing.assert_allclose(data["p_value_mcse"], res.table["p_value_mcse"])
    assert (data["band_low"] <= data["p_value"]).all()
    assert (data["band_high"] >= data["p_value"]).all()
    assert data.attrs["tipping_delta"] == res.tipping_delta
    half = 1.959963984540054 * res.tipping_delta_mcse
    assert data.attrs["tipping_high"] - res.tipping_delta == pytest.approx(half)
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), res.table["p_value"])
    plt.close(fig)
    with pytest.raises(TypeError, match="TippingPointResult"):
        plot_tipping_point(res.mar)
