"""Export the raw sample trial that the R golden scripts read.

Run from the repository root:

    PYTHONPATH=src python tests/reference/design/export_sample.py
    Rscript tests/reference/design/make_golden.R        # scores the items first (score_sample.R)
    Rscript tests/reference/design/make_golden_extra.R

Writes ``sample_items.csv``: one row per participant x wave with the RAW item responses of the
five instruments of the Kiser 2024 analysis plan and the participant's ``sessions_attended``;
and ``sample_participants.csv``: one row per randomized participant with ``arm``, ``coach_id``
(empty when the participant left before coaching began) and ``sessions_attended`` (read by
``make_golden_extra.R``). Nothing written here is scored by the package: ``score_sample.R``
scores the items in base R and writes ``sample_scored.csv``.

:func:`scored_sample` is the package's scoring of the same responses;
``tests/design/test_delayed_golden.py::test_exported_sample_is_current`` checks that it equals
R's ``sample_scored.csv`` (so a scoring bug cannot pass into the golden numbers unseen, and the
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
ITEM_PREFIXES = ("pfi", "svs", "uwes", "qol", "iwpr")
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


def item_sample() -> pd.DataFrame:
    """The raw item responses (no scoring) with ``sessions_attended``, sorted like R's."""
    import coaching_trials as ct

    example = ct.load_example("delayed_intervention")
    responses = example.responses
    items = [c for c in responses.columns if c.split("_")[0] in ITEM_PREFIXES]
    sessions = example.participants.set_index("participant_id")["sessions_attended"]
    out = responses[["participant_id", "arm", "wave", *items]].copy()
    out["sessions_attended"] = out["participant_id"].map(sessions).astype("int64")
    return out.sort_values(["participant_id", "wave"]).reset_index(drop=True)


def participants_sample() -> pd.DataFrame:
    import coaching_trials as ct

    part = ct.load_example("delayed_intervention").participants
    out = part[["participant_id", "arm", "coach_id", "sessions_attended"]].copy()
    return out.sort_values("participant_id").reset_index(drop=True)


if __name__ == "__main__":
    item_sample().to_csv(HERE / "sample_items.csv", index=False, float_format="%.10g")
    participants_sample().to_csv(HERE / "sample_participants.csv", index=False)
