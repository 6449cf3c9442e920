"""Regenerate the synthetic sample trial shipped in ``src/coaching_trials/data/sample/``.

The sample is simulated by the package itself (``simulate_trial(seed=2024)``, 67 immediate and
71 delayed participants, the size of Kiser et al. 2024); it is NOT real trial data. A test
(``tests/test_datasets.py``) regenerates the tables with :func:`build_tables` and checks they are
byte-identical to the shipped CSVs, so the generator and the files cannot drift apart.

Usage::

    python scripts/make_sample_data.py            # writes into src/coaching_trials/data/sample
    python scripts/make_sample_data.py --out DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from coaching_trials.simulate.trial import simulate_trial

SEED = 2024
N_IMMEDIATE = 67
N_DELAYED = 71
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src" / "coaching_trials" / "data" / "sample"


def _csv_text(frame: pd.DataFrame) -> str:
    """Deterministic CSV text: ISO dates, integers without decimals, empty cells for missing."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(series):
            values = series.dropna()
            if (values == values.round()).all():
                out[col] = series.astype("Int64")
            else:
                out[col] = series.round(4)
    return out.to_csv(index=False, lineterminator="\n")


def build_tables(seed: int = SEED) -> dict[str, str]:
    """Simulate the sample trial and return ``{file name: CSV text}``."""
    sim = simulate_trial(n_immediate=N_IMMEDIATE, n_delayed=N_DELAYED, seed=seed)
    responses = sim.responses.sort_values(["participant_id", "wave"], kind="stable")
    participants = sim.participants.sort_values("participant_id", kind="stable")
    return {
        "responses.csv": _csv_text(responses),
        "participants.csv": _csv_text(participants),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in build_tables().items():
        (args.out / name).write_text(text, encoding="utf-8", newline="")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
