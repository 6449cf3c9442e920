"""Fixtures for the design tests (data helpers live in ``design_fixtures.py``)."""

from __future__ import annotations

import pandas as pd
import pytest
from design_fixtures import DESIGN, make_trial_frames


@pytest.fixture
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_trial_frames()


@pytest.fixture
def trial(frames):
    from coaching_trials.design.delayed import DelayedInterventionTrial

    long, participants = frames
    return DelayedInterventionTrial(long, participants=participants, **DESIGN)
