"""Export the scored sample trial that ``make_golden.R`` reads.

Run from the repository root:

    PYTHONPATH=src python tests/reference/design/export_sample.py
    Rscript tests/reference/design/make_golden.R

Writes ``sample_scored.csv``: one row per participant x wave with the scored outcomes of the
Kiser 2024 analysis plan (item means / totals from ``coaching_trials.score``) and the
participant's ``sessions_attended``; and ``sample_participants.csv``: one row per randomized
participant with ``arm``, ``coach_id`` (empty when the participant left before coaching began)
and ``sessions_attended`` (read by ``make_golden_extra.R``).
``tests/design/test_delayed_golden.py`` checks that both files still equal the sample (so the
golden numbers cannot silently drift from the data).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

OUTCOMES = (
    "pfi_burnout",
    "pfi_pf",
    "pfi_id",
    "iwpr_score",
    "qol_score",
    "uwes9_total",
    "svs_total",
)
INSTRUMENTS = ("pfi", "svs", "uwes9", "qol", "iwpr")
HERE = Path(__file__).parent


def scored_sample() -> pd.DataFrame:
    import coaching_trials as ct

    example = ct.load_example("delayed_intervention")
    scored = example.responses
    for instrument in INSTRUMENTS:
        scored = ct.score(scored, instrument)
    sessions = example.participants.set_index("participant_id")["sessions_attended"]
    out = scored[["participant_id", "arm", "wave", *OUTCOMES]].copy()
    out["wave"] = out["wave"].astype("string")
    out["sessions_attended"] = out["participant_id"].map(sessions).astype("int64")
    out[list(OUTCOMES)] = out[list(OUTCOMES)].round(10)
    return out.sort_values(["participant_id", "wave"]).reset_index(drop=True)


def participants_sample() -> pd.DataFrame:
    import coaching_trials as ct

    part = ct.load_example("delayed_intervention").participants
    out = part[["participant_id", "arm", "coach_id", "sessions_attended"]].copy()
    return out.sort_values("participant_id").reset_index(drop=True)


if __name__ == "__main__":
    scored_sample().to_csv(HERE / "sample_scored.csv", index=False, float_format="%.10g")
    participants_sample().to_csv(HERE / "sample_participants.csv", index=False)
