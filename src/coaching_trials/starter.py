"""A commented starter plan for ``coaching-trials analyze``, guessed from a data file.

:func:`starter_plan` looks at a responses file (or at nothing: then it writes the plan of the
shipped synthetic example) and writes a TOML analysis plan with every guess said in a comment:
which column holds the participant id, the arm and the wave, which arm looks like the coached-first
one, the wave order, and which instruments' items are present (with an item-name pattern when the
file numbers items without zero padding, ``pfi_1`` instead of ``pfi_01``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["starter_plan"]

_ID = re.compile(r"^(participant_?id|record_?id|subject(_?id)?|person_?id|id|.*_id)$", re.I)
_ARM = re.compile(r"^(arm|group|condition|allocation|randomi[sz]ation|treatment)$", re.I)
_WAVE = re.compile(r"^(wave|time(point)?|visit|event|redcap_event_name|survey|round)$", re.I)
_FIRST = re.compile(r"imm|coach|interv|early|treat|active", re.I)
_LATER = re.compile(r"del|wait|control|usual|later", re.I)


def _pick(columns: Sequence[str], pattern: re.Pattern[str], avoid: Sequence[str] = ()) -> Any:
    for col in columns:
        if col not in avoid and pattern.match(str(col)):
            return col
    return None


def _toml(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _instruments(columns: Sequence[str]) -> list[tuple[str, str | None, int, int]]:
    """(instrument id, item pattern or None, items found, items expected) for each present."""
    from coaching_trials.instruments.registry import get_instrument, list_instruments

    present = set(map(str, columns))
    found = []
    for iid in list_instruments()["id"]:
        items = list(get_instrument(iid).items)
        exact = sum(i in present for i in items)
        unpadded = {re.sub(r"_0+(\d)", r"_\1", i) for i in items}
        loose = sum(i in present for i in unpadded)
        if exact == len(items):
            found.append((iid, None, exact, len(items)))
        elif loose == len(items):
            prefix = items[0].rsplit("_", 1)[0]
            found.append((iid, f"{prefix}_{{n}}", loose, len(items)))
    # a short form whose items are also those of a longer one (uwes3 within uwes9): keep the long
    ids = {f[0] for f in found}
    found = [f for f in found if not (f[0] == "uwes3" and "uwes9" in ids)]
    # the PFI first: the default primary outcome is the first score of the first instrument
    return sorted(found, key=lambda f: (f[0] != "pfi", f[0]))


def _design_lines(frame: pd.DataFrame, arm: str | None, wave: str | None) -> list[str]:
    """The [design] table: arms guessed from their labels, waves in file order."""
    arms = [] if arm is None else [str(v) for v in pd.unique(frame[arm].dropna())]
    waves = [] if wave is None else [str(v) for v in pd.unique(frame[wave].dropna())]
    first = next((a for a in arms if _FIRST.search(a)), None)
    later = next((a for a in arms if _LATER.search(a) and a != first), None)
    if first is None or later is None:
        first, later = (arms + ["?", "?"])[:2]
        arm_note = f"GUESS: arms found {arms}; say which is coached first"
    else:
        arm_note = f"guessed from the labels {arms}"
    return [
        "",
        "[design]",
        f"immediate = {_toml(first)}   # the coached-first arm ({arm_note})",
        f"delayed = {_toml(later)}   # the wait-list arm",
        f"baseline_wave = {_toml(waves[0] if waves else '?')}   # waves in file order: {waves}",
        f"endpoint_wave = {_toml(waves[1] if len(waves) > 1 else '?')}   # end of the waiting "
        "period",
        "followup_waves = [" + ", ".join(_toml(w) for w in waves[2:]) + "]   # after the delayed "
        "arm's coaching",
    ]


def _instrument_lines(cols: Sequence[str]) -> list[str]:
    """One [[instruments]] table per instrument whose items are among ``cols``."""
    lines: list[str] = []
    found = _instruments(cols)
    if not found:
        lines += [
            "",
            "# No instrument's items were recognised; name yours, e.g.",
            '# [[instruments]]\n# id = "pfi"\n# items = ... (see `coaching-trials instruments`)',
        ]
    for iid, pattern, n_found, n_items in found:
        lines += [
            "",
            "[[instruments]]",
            f"id = {_toml(iid)}   # {n_found} of {n_items} items found",
        ]
        if pattern is not None:
            lines.append(
                f"# your items are numbered without zero padding: map them with {pattern!r}"
                " ([data.rename] one line per item, or items = ... where supported)"
            )
    return lines


def starter_plan(
    datafile: str | Path | None = None,
    *,
    participants: str | Path | None = None,
    plan_dir: str | Path | None = None,
) -> str:
    """A commented TOML plan for ``coaching-trials analyze``, guessed from ``datafile``.

    Parameters
    ----------
    datafile : path, optional
        A long responses file (any format :func:`coaching_trials.read_survey` reads). Without
        it the plan runs the shipped synthetic example.
    participants : path, optional
        A participants file to name in the plan.
    plan_dir : path, optional
        The folder the plan will be written to: the data paths are written relative to it
        (default: the data file's folder).

    Returns
    -------
    str
        The plan, with a comment on every guess; ``coaching_trials.pipeline.load_config``
        accepts it as written when the guesses are right.

    Examples
    --------
    >>> plan = starter_plan()
    >>> 'example = "delayed_intervention"' in plan
    True
    """
    lines = [
        "# Starter plan for `coaching-trials analyze PLAN.toml --out results` (coaching_trials).",
        "# Every guess is said in a comment: check each before running. The full reference is",
        '# the docstring of coaching_trials.pipeline (python3 -c "import coaching_trials.pipeline',
        '# as p; print(p.__doc__)").',
        "",
        "schema_version = 1",
        "",
        "[data]",
    ]
    if datafile is None:
        lines += [
            'example = "delayed_intervention"   # the shipped SYNTHETIC trial; replace by',
            '# responses = "your_waves.csv"      # ... your long file (one row per person x wave)',
            '# reader = "redcap"                 # ... or a REDCap export (responses = the',
            "#                                   # export; dictionary, [data.events]) or",
            '# reader = "qualtrics"              # one Qualtrics export per wave ([data.waves])',
            "",
            "[[instruments]]",
            'id = "pfi"',
            "",
            "[analysis]",
            'primary = "pfi_burnout"',
            'method = "ancova"                  # "ancova" | "change" | "mmrm"',
            "",
            "[report]",
            'title = "Coaching trial (synthetic example)"',
            'policy = "suppress"                # or "round" (OpenSAFELY: redact <= 7, round to 5)',
            "min_cell = 5",
        ]
        return "\n".join(lines) + "\n"

    from coaching_trials.io.readers import read_survey

    path = Path(datafile)
    frame = read_survey(path)
    here = Path(plan_dir) if plan_dir is not None else path.parent

    def rel(p: str | Path) -> str:
        return Path(os.path.relpath(Path(p).resolve(), here.resolve())).as_posix()

    cols = [str(c) for c in frame.columns]
    subject = _pick(cols, _ID)
    arm = _pick(cols, _ARM, avoid=[subject])
    wave = _pick(cols, _WAVE, avoid=[subject, arm])
    lines.append(f"responses = {_toml(rel(path))}   # relative to this plan's folder")
    if "redcap_event_name" in cols or "ResponseId" in cols or "ResponseID" in cols:
        kind = "redcap" if "redcap_event_name" in cols else "qualtrics"
        lines.append(
            f"# this looks like a {'REDCap' if kind == 'redcap' else 'Qualtrics'} export: "
            f'reader = "{kind}" reads it as it comes (see the reference)'
        )
    if participants is not None:
        lines.append(f"participants = {_toml(rel(participants))}")
    lines += ["", "[data.columns]                     # the design columns as named in your file"]
    for key, col, what in (
        ("subject", subject, "participant id"),
        ("arm", arm, "arm"),
        ("wave", wave, "wave"),
    ):
        if col is None:
            lines.append(f'{key} = "?"   # GUESS FAILED: name the {what} column of your file')
        else:
            lines.append(f"{key} = {_toml(col)}   # guessed from the column name")
    lines += _design_lines(frame, arm, wave)
    lines += _instrument_lines(cols)
    lines += [
        "",
        "[analysis]",
        'method = "ancova"                  # "ancova" | "change" | "mmrm"',
        'adjust = "holm"                    # secondary outcomes',
        "# primary = ...                    # default: the first score of the first instrument",
        "",
        "[report]",
        'title = "Coaching trial"',
        'policy = "suppress"                # or "round" (OpenSAFELY: redact <= 7, round to 5)',
        "min_cell = 5",
    ]
    return "\n".join(lines) + "\n"
