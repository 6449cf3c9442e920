"""MMRM with a single post-baseline visit: it used to crash (IndexError building the Type 3
contrasts of a one-level visit factor); it must reduce to the baseline-adjusted ANCOVA.

With one visit, the MMRM is the linear model ``y ~ arm + baseline`` with one residual
variance, so its REML variance is the residual mean square and the Satterthwaite df is the
residual df: the numbers must equal R's ``lm`` + ``emmeans`` ANCOVA in
``tests/reference/design/golden.csv`` (written by ``make_golden.R`` from ``sample_scored.csv``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coaching_trials.analysis.mmrm import mmrm
from coaching_trials.design.delayed import DelayedInterventionTrial

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "design"
OUTCOMES = ["pfi_burnout", "pfi_pf", "uwes9_total"]


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "sample_scored.csv")


@pytest.fixture(scope="module")
def golden() -> pd.DataFrame:
    table = pd.read_csv(REFERENCE / "golden.csv")
    return table[table["analysis"] == "ancova"].set_index("outcome")


def _endpoint_with_baseline(sample: pd.DataFrame, outcome: str) -> pd.DataFrame:
    base = sample.loc[sample["wave"] == "baseline", ["participant_id", outcome]]
    end = sample.loc[sample["wave"] == "month3", ["participant_id", "arm", "wave", outcome]]
    data = end.merge(base.rename(columns={outcome: "base"}), on="participant_id")
    return data.dropna(subset=[outcome, "base"])


@pytest.mark.parametrize("outcome", OUTCOMES)
@pytest.mark.parametrize("df_method", ["satterthwaite", "kenward_roger"])
def test_one_visit_mmrm_is_the_r_ancova(
    sample: pd.DataFrame, golden: pd.DataFrame, outcome: str, df_method: str
) -> None:
    res = mmrm(
        _endpoint_with_baseline(sample, outcome),
        outcome=outcome,
        arm="arm",
        visit="wave",
        subject="participant_id",
        treated="immediate",
        baseline="base",
        df_method=df_method,
    )
    row = res.to_frame().iloc[0]
    ref = golden.loc[outcome]
    for col in ("estimate", "std_error", "conf_low", "conf_high", "p_value"):
        np.testing.assert_allclose(row[col], ref[col], rtol=1e-6, err_msg=col)
    np.testing.assert_allclose(row["df"], ref["df"], rtol=1e-6)


def test_one_visit_type3_f_is_the_squared_t(sample: pd.DataFrame, golden: pd.DataFrame) -> None:
    res = mmrm(
        _endpoint_with_baseline(sample, "pfi_burnout"),
        outcome="pfi_burnout",
        arm="arm",
        visit="wave",
        subject="participant_id",
        treated="immediate",
        baseline="base",
    )
    table = res.anova().set_index("effect")
    assert "wave" not in table.index  # a one-level factor has no hypothesis to test
    np.testing.assert_allclose(
        table.loc["arm", "f_value"], golden.loc["pfi_burnout", "statistic"] ** 2, rtol=1e-6
    )


@pytest.mark.parametrize("followup_waves", [(), ("month6",)])
def test_trial_compare_mmrm(
    sample: pd.DataFrame, golden: pd.DataFrame, followup_waves: tuple[str, ...]
) -> None:
    """``compare(method="mmrm")`` compares the arms at the endpoint, the only randomized visit
    (the delayed arm is coached after it), so its MMRM has one post-baseline visit."""
    waves = ["baseline", "month3", *followup_waves]
    responses = sample[sample["wave"].isin(waves)].drop(columns="sessions_attended")
    trial = DelayedInterventionTrial(
        responses,
        subject="participant_id",
        arm="arm",
        wave="wave",
        immediate="immediate",
        delayed="delayed",
        baseline_wave="baseline",
        endpoint_wave="month3",
        followup_waves=followup_waves,
    )
    effects = trial.compare(["pfi_burnout"], method="mmrm").effects
    assert effects["wave"].tolist() == ["month3"]
    np.testing.assert_allclose(
        effects["estimate"].iloc[0], golden.loc["pfi_burnout", "estimate"], rtol=1e-6
    )
