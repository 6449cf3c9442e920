"""Fixtures for the plots tests: the sample delayed-intervention trial and its results."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from plot_helpers import OUTCOMES  # noqa: E402


@pytest.fixture(scope="session")
def example():
    import coaching_trials as ct

    return ct.load_example("delayed_intervention")


@pytest.fixture(scope="session")
def scored(example):
    import coaching_trials as ct

    return ct.score(example.responses, "pfi")


@pytest.fixture(scope="session")
def trial(example, scored):
    import coaching_trials as ct

    return ct.DelayedInterventionTrial(scored, participants=example.participants, **example.design)


@pytest.fixture(scope="session")
def comparison(trial):
    return trial.compare(OUTCOMES, primary="pfi_burnout")


@pytest.fixture(scope="session")
def flow(trial):
    return trial.flow()


@pytest.fixture(scope="session")
def responders_result(trial):
    return trial.responders("pfi_burnout", cutpoint=1.33, direction="<")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
