"""Instruments as data: TOML definitions, their strict schema, and the registry.

Every instrument the package knows is one TOML file in ``instruments/definitions/``; adding a
scale is adding a file. The same loader reads a user's own instrument from a TOML path or a
plain ``dict`` (:func:`load_instrument`), so shipped and custom instruments are validated by
one schema and scored by one engine (:func:`coaching_trials.score`).

The TOML schema (every key is checked; an unknown key is an error)::

    id = "pfi"                      # lower-case; output columns are "{id}_{subscale}"
    name = "..."                    # human-readable name
    description = "..."             # optional
    citation = "..."                # primary reference
    licence = "..."                 # what may be shipped / how the scale may be used
    evidence = "..."                # [V] / [S] / [?] notes on each scoring fact
    items = ["pfi_01", ...]         # item columns, in order
    response_min = 0                # declared response range (inclusive)
    response_max = 4
    integer_responses = true        # optional (default true): responses must be whole numbers
    aggregation = "mean"            # optional default for subscales: "mean" | "sum"
    default_metric = "mean"         # optional; defaults to "raw" when no metrics are declared
    cutpoint_metric = "mean"        # optional: metric cut-point values are declared on

    [metrics.<name>]                # score = offset + factor * (item mean or prorated sum)
    label = "..."                   # optional
    description = "..."             # optional
    aggregation = "sum"             # optional: "mean" | "sum" (default: the subscale's own)
    factor = 2.5                    # optional, > 0 (default 1)
    offset = 0.0                    # optional (default 0)

    [subscales.<id>]
    name = "..."                    # optional display name ("Work exhaustion")
    short_name = "..."              # optional short label for axes and table heads
                                    # (default: the name before any " (", else the id)
    items = ["pfi_01", ...]         # either items ...
    composite_of = ["we", "id"]     # ... or the union of other subscales' items
    reverse = ["pfi_03"]            # optional reverse-keyed items: r' = min + max - r
    aggregation = "mean"            # optional (default: the instrument's)
    min_answered = 3                # optional (default: half the items, rounded up)
    higher_is = "worse"             # "better" | "worse"

    [subscales.<id>.cutpoints.<name>]   # flag column "{id}_{subscale}_{name}"
    value = 1.33
    op = ">="                       # ">=" | ">" | "<=" | "<"  (inclusive or strict)
    metric = "mean"                 # optional: the metric ``value`` is stated on
    evidence = "..."                # optional
    note = "..."                    # optional

    [flags.<name>]                  # composite flag column "{id}_{name}"
    any = ["ee.high", "dp.high"]    # exactly one of ``any`` / ``all``: "subscale.cutpoint"
    description = "..."             # optional
    evidence = "..."                # optional

Cut-points are declared once, on one metric, and move with the metric: a PFI burnout cut of
1.33 on the item-mean scale is 13.3 on the raw-sum scale of its 10 items, 3.325 on the 0-10
scale and 33.25 on the 0-100 scale (:meth:`Instrument.cutpoint_value`). Flags are evaluated on
the metric the cut-point was declared on, so they do not depend on the reporting metric.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import tomllib

from coaching_trials._errors import one_of
from coaching_trials.instruments._model import (
    AGGREGATIONS,
    DIRECTIONS,
    OPS,
    Aggregation,
    Cutpoint,
    Direction,
    Flag,
    Instrument,
    InstrumentDefinitionError,
    Metric,
    Op,
    Subscale,
    _fmt_num,
)
from coaching_trials.instruments._schema import build_instrument

__all__ = [
    "AGGREGATIONS",
    "DIRECTIONS",
    "OPS",
    "Aggregation",
    "Cutpoint",
    "Direction",
    "Flag",
    "Instrument",
    "InstrumentDefinitionError",
    "Metric",
    "Op",
    "Subscale",
    "get_instrument",
    "list_instruments",
    "load_instrument",
]

_DEFINITIONS_PACKAGE = "coaching_trials.instruments"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentDefinitionError(f"Invalid TOML in {path}: {exc}") from exc


def load_instrument(source: str | Path | Mapping[str, Any]) -> Instrument:
    """Load and validate a custom instrument from a TOML file or a dict.

    Parameters
    ----------
    source : str, pathlib.Path or mapping
        Path to a ``.toml`` file, or a dict with the same layout (see the module docstring
        for the schema).

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentDefinitionError
        (a ``ValueError``) listing every schema problem, each with the file and key.
    FileNotFoundError
        When ``source`` is a path that does not exist.

    Notes
    -----
    Every rule of the definition schema (unknown keys, an item in two subscales, bad ranges, bad
    cut-points) is tested in ``tests/instruments/test_registry.py``; all problems of a
    definition are reported in one error.

    Examples
    --------
    >>> import coaching_trials as ct
    >>> spec = {
    ...     "id": "wellbeing", "name": "Two-item well-being", "items": ["wb_1", "wb_2"],
    ...     "response_min": 1, "response_max": 5,
    ...     "subscales": {"total": {"items": ["wb_1", "wb_2"], "reverse": ["wb_2"],
    ...                             "higher_is": "better"}},
    ... }
    >>> inst = ct.load_instrument(spec)
    >>> inst.subscale_columns()
    {'total': 'wellbeing_total'}
    """
    if isinstance(source, Mapping):
        return build_instrument(source, "<dict>")
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"Instrument definition file not found: {path}")
        return build_instrument(_read_toml(path), str(path))
    raise TypeError(
        f"`source` must be a path to a TOML file or a dict, got {type(source).__name__}."
    )


@lru_cache(maxsize=1)
def _registry() -> dict[str, Instrument]:
    folder = resources.files(_DEFINITIONS_PACKAGE).joinpath("definitions")
    found: dict[str, Instrument] = {}
    entries = sorted(
        (e for e in folder.iterdir() if e.name.endswith(".toml")), key=lambda e: e.name
    )
    for entry in entries:
        label = f"definitions/{entry.name}"
        try:
            spec = tomllib.loads(entry.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InstrumentDefinitionError(f"Invalid TOML in {label}: {exc}") from exc
        inst = build_instrument(spec, label)
        if inst.id in found:
            raise InstrumentDefinitionError(
                f"Instrument id {inst.id!r} is defined twice ({found[inst.id].source}, {label})."
            )
        if entry.name != f"{inst.id}.toml":
            raise InstrumentDefinitionError(
                f"Invalid instrument definition in {label}: key `id`: {inst.id!r} does not "
                f"match the file name (expected {inst.id}.toml)"
            )
        found[inst.id] = inst
    return found


def get_instrument(instrument_id: str) -> Instrument:
    """Return a shipped instrument by id.

    Parameters
    ----------
    instrument_id : str
        One of the ids in :func:`list_instruments` (case-insensitive).

    Raises
    ------
    ValueError
        For an unknown id; the message lists the known ids.

    Notes
    -----
    The shipped definitions are checked against the facts and sources collected in
    ``shared/INSTRUMENTS.md`` (item counts, keys, ranges, cut-points) in
    ``tests/instruments/test_registry.py``.

    Examples
    --------
    >>> import coaching_trials as ct
    >>> mbi = ct.get_instrument("mbi")
    >>> [(s.id, s.n_items, s.aggregation) for s in mbi.subscales.values()]
    [('ee', 9, 'sum'), ('dp', 5, 'sum'), ('pa', 8, 'sum')]
    """
    if isinstance(instrument_id, Instrument):
        return instrument_id
    if not isinstance(instrument_id, str):
        raise TypeError(f"`instrument_id` must be a string, got {type(instrument_id).__name__}.")
    reg = _registry()
    key = instrument_id.strip().lower()
    if key not in reg:
        raise one_of("instrument", instrument_id, tuple(reg))
    return reg[key]


def list_instruments() -> pd.DataFrame:
    """Table of the shipped instruments.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, name, n_items, subscales, range, licence``; one row per instrument,
        sorted by id.

    Notes
    -----
    The shipped definitions are checked against the facts and sources collected in
    ``shared/INSTRUMENTS.md`` (item counts, keys, ranges, cut-points) in
    ``tests/instruments/test_registry.py``.

    Examples
    --------
    >>> import coaching_trials as ct
    >>> table = ct.list_instruments()
    >>> table.loc[table["id"] == "pfi", ["n_items", "subscales", "range"]].to_string(index=False)
    ' n_items          subscales range\\n      16 pf, we, id, burnout   0-4'
    """
    rows = [
        {
            "id": inst.id,
            "name": inst.name,
            "n_items": len(inst.items),
            "subscales": ", ".join(inst.subscales),
            "range": f"{_fmt_num(inst.response_min)}-{_fmt_num(inst.response_max)}",
            "licence": inst.licence,
        }
        for inst in _registry().values()
    ]
    frame = pd.DataFrame(rows, columns=["id", "name", "n_items", "subscales", "range", "licence"])
    return frame.sort_values("id", ignore_index=True)


def resolve_instrument(instrument: str | Path | Mapping[str, Any] | Instrument) -> Instrument:
    """Accept an id, an :class:`Instrument`, a TOML path or a dict; return an Instrument."""
    if isinstance(instrument, Instrument):
        return instrument
    if isinstance(instrument, Mapping):
        return load_instrument(instrument)
    if isinstance(instrument, Path):
        return load_instrument(instrument)
    if isinstance(instrument, str):
        if instrument.strip().lower() in _registry():
            return get_instrument(instrument)
        if instrument.lower().endswith(".toml") or Path(instrument).is_file():
            return load_instrument(instrument)
        raise one_of("instrument", instrument, tuple(_registry()))
    raise TypeError(
        "`instrument` must be an instrument id, an Instrument, a TOML path or a dict; got "
        f"{type(instrument).__name__}."
    )
