"""Cross-checks against pingouin (a test-time dependency only).

pingouin is not needed to use the package; it is a second, independent implementation that the
tests compare with: Cronbach's alpha with its Feldt interval, the ANCOVA F test of the arm
(its square root is our t for the arm difference), and Cohen's d / Hedges' g.
"""

from __future__ import annotations

import numpy as np
import pytest

import coaching_trials as ct

pg = pytest.importorskip("pingouin")  # in the test extra: installed wherever the suite runs


@pytest.fixture(scope="module")
def example():
    return ct.load_example("delayed_intervention")


@pytest.mark.parametrize(
    "items", [[f"pfi_0{i}" for i in range(1, 7)], [f"svs_0{i}" for i in range(1, 5)]]
)
def test_alpha_matches_pingouin(example, items):
    data = example.responses[items].dropna()
    ours = ct.cronbach_alpha(data, nan_policy="listwise", conf_level=0.95)
    alpha, ci = pg.cronbach_alpha(data=data, nan_policy="listwise", ci=0.95)
    assert ours.estimate == pytest.approx(alpha, abs=1e-10)
    # pingouin prints its Feldt interval to 3 decimals
    assert ours.conf_low == pytest.approx(ci[0], abs=5e-4)
    assert ours.conf_high == pytest.approx(ci[1], abs=5e-4)


def test_ancova_matches_pingouin(example):
    scored = ct.score(example.responses, "pfi")
    trial = ct.DelayedInterventionTrial(scored, participants=example.participants, **example.design)
    wide = trial.wide("pfi_burnout", waves=["baseline", "month3"]).dropna()
    ours = ct.ancova(
        wide,
        outcome="pfi_burnout__month3",
        arm="arm",
        baseline="pfi_burnout__baseline",
        treated="immediate",
    )
    table = pg.ancova(
        data=wide, dv="pfi_burnout__month3", between="arm", covar="pfi_burnout__baseline"
    )
    f_arm = float(table.loc[table["Source"] == "arm", "F"].iloc[0])
    p_col = "p_unc" if "p_unc" in table.columns else "p-unc"  # renamed in pingouin 0.6
    p_arm = float(table.loc[table["Source"] == "arm", p_col].iloc[0])
    assert ours.statistic**2 == pytest.approx(f_arm, rel=1e-8)
    assert ours.p_value == pytest.approx(p_arm, rel=1e-6)


@pytest.mark.parametrize(("kind", "eftype"), [("cohen_d", "cohen"), ("hedges_g", "hedges")])
def test_effect_size_matches_pingouin(example, kind, eftype):
    scored = ct.score(example.responses, "pfi")
    end = scored[(scored["wave"] == "month3") & scored["pfi_burnout"].notna()]
    ours = ct.effect_size(end, outcome="pfi_burnout", arm="arm", treated="immediate", kind=kind)
    x = end.loc[end["arm"] == "immediate", "pfi_burnout"].to_numpy()
    y = end.loc[end["arm"] == "delayed", "pfi_burnout"].to_numpy()
    theirs = pg.compute_effsize(x, y, paired=False, eftype=eftype)
    # Cohen's d is the same formula; for Hedges' g we use the exact gamma-function correction
    # (Hedges 1981) and pingouin the approximation 1 - 3 / (4 (n1 + n2) - 9), which differ by
    # O(n^-3): 2e-6 relative at n = 120.
    assert ours.estimate == pytest.approx(theirs, rel=1e-10 if kind == "cohen_d" else 1e-5)
    assert np.isfinite(ours.conf_low)
