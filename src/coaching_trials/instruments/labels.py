"""Display labels of scored columns, read from the instrument registry.

One place says what a column such as ``pfi_burnout`` is called on a page, on which scale it
lives and which direction is good, so that tables, figures and the report speak the same
words. Everything comes from the instrument definitions (``definitions/*.toml``): a subscale's
``name``, ``short_name`` and ``higher_is``, the instrument's response range and its metrics;
adding a scale is adding a file.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from coaching_trials.instruments.registry import Instrument, _registry, resolve_instrument

__all__ = ["LABEL_COLUMNS", "outcome_info", "outcome_labels", "scored_columns", "suggest_outcome"]

#: the keys of :func:`outcome_info` / the columns of :func:`outcome_labels`
LABEL_COLUMNS: tuple[str, ...] = (
    "column",
    "label",
    "short_label",
    "instrument",
    "instrument_id",
    "subscale",
    "kind",
    "higher_is",
    "low",
    "high",
    "metric",
    "unit",
)


def _instruments(instruments: Any) -> list[Instrument]:
    extra = [] if instruments is None else instruments
    if isinstance(extra, (str, Instrument, Mapping)):
        extra = [extra]
    own = [resolve_instrument(i) for i in extra]
    seen = {i.id for i in own}
    return own + [i for i in _registry().values() if i.id not in seen]


def _fmt(x: float) -> str:
    return f"{x:g}"


def _unit(inst: Instrument, metric: str, lo: float, hi: float) -> str:
    span = f"{_fmt(lo)}-{_fmt(hi)}"
    base = (inst.metric(metric).label or metric).split(" (")[0].strip()
    return span if base in (span, "") else f"{base} ({span})"


def _lookup(column: str, insts: Sequence[Instrument], metric: str | None) -> dict[str, Any]:
    for inst in insts:
        if not column.startswith(inst.id + "_"):
            continue
        met = inst.default_metric if metric is None or metric not in inst.metrics else metric
        for sid, col in inst.subscale_columns().items():
            if col != column:
                continue
            sub = inst.subscales[sid]
            lo, hi = inst.score_range(sid, met)
            return dict(
                column=column,
                label=sub.label,
                short_label=sub.short_label,
                instrument=inst.name,
                instrument_id=inst.id,
                subscale=sid,
                kind="score",
                higher_is=sub.higher_is,
                low=lo,
                high=hi,
                metric=met,
                unit=_unit(inst, met, lo, hi),
            )
        for key, col in inst.flag_columns().items():
            if col != column:
                continue
            if "." in key:
                sid, cname = key.split(".", 1)
                sub = inst.subscales[sid]
                cut = sub.cutpoints[cname]
                value = inst.cutpoint_value(sid, cname, metric=cut.metric)
                rule = f"{cut.op} {_fmt(value)} on the {cut.metric} scale"
                label = f"{sub.label}: {cname} ({rule})"
                short = f"{cname.capitalize()} {sub.short_label.lower()}"
                # a flag of high scores is bad when high scores are bad, and the reverse
                upward = cut.op in (">=", ">")
                good = sub.higher_is if upward else _flip(sub.higher_is)
            else:
                flag = inst.flags[key]
                label = flag.description or key.replace("_", " ")
                short = key.replace("_", " ").capitalize()
                good = None
            return dict(
                column=column,
                label=label,
                short_label=short,
                instrument=inst.name,
                instrument_id=inst.id,
                subscale=None,
                kind="flag",
                higher_is=good,
                low=0.0,
                high=1.0,
                metric=None,
                unit="proportion",
            )
    return dict(
        column=column,
        label=column,
        short_label=column,
        instrument=None,
        instrument_id=None,
        subscale=None,
        kind=None,
        higher_is=None,
        low=math.nan,
        high=math.nan,
        metric=None,
        unit="",
    )


def _flip(direction: str) -> str:
    return "worse" if direction == "better" else "better"


def outcome_info(
    column: str, *, metric: str | None = None, instruments: Any = None
) -> dict[str, Any]:
    """What a scored column is: its display names, scale range, direction and unit.

    Parameters
    ----------
    column : str
        A column written by :func:`coaching_trials.score`: a subscale score
        (``{instrument}_{subscale}``, e.g. ``"pfi_burnout"``) or a cut-point / composite flag
        (``"pfi_burnout_high"``).
    metric : str, optional
        The metric the scores were computed on (``score(..., metric=)``); default the
        instrument's default metric. Sets ``low``, ``high`` and ``unit``.
    instruments : Instrument, id, TOML path, dict or a list of them, optional
        Custom instruments to look in first (the shipped ones are always searched).

    Returns
    -------
    dict
        Keys ``column, label, short_label, instrument, instrument_id, subscale, kind`` (``"score"``
        or ``"flag"``), ``higher_is`` (``"better"``/``"worse"``), ``low``, ``high`` (the possible
        range on ``metric``; 0-1 for a flag), ``metric`` and ``unit``. A column no instrument
        writes gets ``label`` = ``short_label`` = the column, ``kind``, ``instrument`` and
        ``higher_is`` None and a NaN range, so callers can always use the result.

    Notes
    -----
    Names, ranges and directions are those of the instrument definitions, which are checked
    against ``shared/INSTRUMENTS.md`` in ``tests/instruments/test_registry.py``; the mapping
    itself is tested in ``tests/instruments/test_labels.py``.

    Examples
    --------
    >>> import coaching_trials as ct
    >>> info = ct.outcome_info("pfi_burnout")
    >>> info["short_label"], info["higher_is"], info["low"], info["high"]
    ('Burnout', 'worse', 0.0, 4.0)
    >>> ct.outcome_info("pfi_we", metric="sum")["high"]
    16.0
    >>> ct.outcome_info("my_score")["label"]
    'my_score'
    """
    if not isinstance(column, str):
        raise TypeError(f"`column` must be a column name (str); got {column!r}.")
    return _lookup(column, _instruments(instruments), metric)


def outcome_labels(
    columns: Iterable[str] | None = None, *, metric: str | None = None, instruments: Any = None
) -> pd.DataFrame:
    """:func:`outcome_info` of several columns as a tidy table, one row per column.

    Parameters
    ----------
    columns : iterable of str, optional
        Column names (e.g. a DataFrame's columns; unknown names get a row with the column as
        its label). Default: every subscale score column of every shipped instrument.
    metric : str, optional
        The metric the scores were computed on (see :func:`outcome_info`).
    instruments : optional
        Custom instruments to look in first.

    Returns
    -------
    pandas.DataFrame
        Columns ``column, label, short_label, instrument, instrument_id, subscale, kind,
        higher_is, low, high, metric, unit``.

    Examples
    --------
    >>> import coaching_trials as ct
    >>> tab = ct.outcome_labels(["pfi_pf", "pfi_burnout", "arm"])
    >>> tab[["column", "short_label", "higher_is", "high"]].iloc[:2]
            column  short_label higher_is  high
    0       pfi_pf  Fulfillment    better   4.0
    1  pfi_burnout      Burnout     worse   4.0
    >>> tab.loc[2, "label"]  # not an instrument's column: its own name
    'arm'
    """
    insts = _instruments(instruments)
    if columns is None:
        columns = [c for i in insts for c in i.subscale_columns().values()]
    elif isinstance(columns, str):
        columns = [columns]
    rows = [_lookup(str(c), insts, metric) for c in columns]
    return pd.DataFrame(rows, columns=list(LABEL_COLUMNS))


def scored_columns(columns: Iterable[Any], *, instruments: Any = None) -> list[str]:
    """The subscale score columns among ``columns`` (in their order)."""
    insts = _instruments(instruments)
    known = {c for i in insts for c in i.subscale_columns().values()}
    return [str(c) for c in columns if str(c) in known]


def suggest_outcome(name: str, columns: Iterable[Any]) -> list[str]:
    """Scored columns of ``columns`` that ``name`` probably meant (best first).

    Matches a subscale id or display name (``"burnout"`` -> ``pfi_burnout``), then close
    spellings of the column names (``"pfi_burnot"``), ignoring case.

    Examples
    --------
    >>> suggest_outcome("burnout", ["pfi_01", "pfi_pf", "pfi_burnout", "pfi_burnout_high"])
    ['pfi_burnout']
    """
    cols = [str(c) for c in columns]
    scored = scored_columns(cols)
    key = str(name).strip().lower()
    hits = []
    for c in scored:
        info = outcome_info(c)
        names = {info["subscale"], info["label"].lower(), info["short_label"].lower()}
        if key in names or c.lower() == key or c.lower().endswith("_" + key):
            hits.append(c)
    if hits:
        return hits
    pool = scored or cols
    lower = {c.lower(): c for c in pool}
    close = difflib.get_close_matches(key, list(lower), n=3, cutoff=0.6)
    return [lower[c] for c in close]
