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

import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from coaching_trials._errors import one_of

if sys.version_info >= (3, 11):  # pragma: no cover - version dependent
    import tomllib
else:  # pragma: no cover - version dependent
    import tomli as tomllib

__all__ = [
    "Cutpoint",
    "Flag",
    "Instrument",
    "InstrumentDefinitionError",
    "Metric",
    "Subscale",
    "get_instrument",
    "list_instruments",
    "load_instrument",
]

Aggregation = Literal["mean", "sum"]
Direction = Literal["better", "worse"]
Op = Literal[">=", ">", "<=", "<"]

AGGREGATIONS: tuple[str, ...] = ("mean", "sum")
DIRECTIONS: tuple[str, ...] = ("better", "worse")
OPS: tuple[str, ...] = (">=", ">", "<=", "<")

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_DEFINITIONS_PACKAGE = "coaching_trials.instruments"


class InstrumentDefinitionError(ValueError):
    """An instrument definition (TOML file or dict) breaks the schema.

    The message names the source (file path or ``<dict>``) and lists every problem found,
    each with the offending key, e.g. ``subscales.we.reverse``.
    """


# --------------------------------------------------------------------------------------------
# dataclasses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A reporting metric: ``offset + factor * base`` where base is an item mean or a sum.

    ``aggregation=None`` means "the subscale's own aggregation".
    """

    name: str
    aggregation: str | None = None
    factor: float = 1.0
    offset: float = 0.0
    label: str = ""
    description: str = ""


@dataclass(frozen=True)
class Cutpoint:
    """A threshold on one subscale: flagged when ``score <op> value`` on ``metric``."""

    name: str
    value: float
    op: str = ">="
    metric: str = ""
    evidence: str = ""
    note: str = ""

    @property
    def inclusive(self) -> bool:
        """True for ``>=`` / ``<=``, False for the strict ``>`` / ``<``."""
        return self.op in (">=", "<=")

    def compare(self, scores: np.ndarray) -> np.ndarray:
        """Apply the comparison to an array (NaN compares False; callers mask it)."""
        if self.op == ">=":
            return scores >= self.value
        if self.op == ">":
            return scores > self.value
        if self.op == "<=":
            return scores <= self.value
        return scores < self.value


@dataclass(frozen=True)
class Subscale:
    """One scored subscale of an instrument."""

    id: str
    items: tuple[str, ...]
    reverse: tuple[str, ...] = ()
    aggregation: str = "mean"
    min_answered: int = 1
    higher_is: str = "better"
    cutpoints: Mapping[str, Cutpoint] = field(default_factory=dict)
    name: str = ""
    composite_of: tuple[str, ...] = ()
    short_name: str = ""

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def label(self) -> str:
        """Display name: ``name``, else the subscale id."""
        return self.name or self.id

    @property
    def short_label(self) -> str:
        """Short display name: ``short_name``, else ``name`` up to any " (", else the id."""
        if self.short_name:
            return self.short_name
        return self.name.split(" (")[0].strip() or self.id


@dataclass(frozen=True)
class Flag:
    """A composite flag: ``any`` (logical or) / ``all`` (and) of subscale cut-points."""

    name: str
    rule: str  # "any" | "all"
    terms: tuple[tuple[str, str], ...]  # (subscale id, cut-point name)
    description: str = ""
    evidence: str = ""


@dataclass(frozen=True, eq=False)
class Instrument:
    """A questionnaire: items, response range, subscales, metrics, cut-points and sources.

    Build one with :func:`get_instrument` (shipped) or :func:`load_instrument` (custom).

    Examples
    --------
    >>> import coaching_trials as ct
    >>> pfi = ct.get_instrument("pfi")
    >>> pfi.subscale_columns()
    {'pf': 'pfi_pf', 'we': 'pfi_we', 'id': 'pfi_id', 'burnout': 'pfi_burnout'}
    >>> pfi.cutpoint_value("burnout", "high", metric="0-100")
    33.25
    """

    id: str
    name: str
    items: tuple[str, ...]
    response_min: float
    response_max: float
    subscales: Mapping[str, Subscale]
    metrics: Mapping[str, Metric]
    default_metric: str
    citation: str = ""
    licence: str = ""
    evidence: str = ""
    description: str = ""
    integer_responses: bool = True
    flags: Mapping[str, Flag] = field(default_factory=dict)
    #: declared missing-value codes of the item cells, ``{token: reason}`` (TOML
    #: ``[missing_codes]``, e.g. ``"N/A" = "not applicable"``, ``"99" = "refused"``)
    missing_codes: Mapping[str, str] = field(default_factory=dict)
    cutpoint_metric: str = ""
    source: str = "<dict>"

    # ---- equality by definition (the mappings are read-only proxies) ----
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instrument):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.id, self.items, tuple(self.subscales)))

    def __repr__(self) -> str:
        subs = ", ".join(self.subscales)
        return (
            f"Instrument(id={self.id!r}, name={self.name!r}, n_items={len(self.items)}, "
            f"range={_fmt_num(self.response_min)}-{_fmt_num(self.response_max)}, "
            f"subscales=[{subs}], default_metric={self.default_metric!r})"
        )

    def _repr_html_(self) -> str:
        from coaching_trials._display import html_card

        rows = [
            {
                "column": col,
                "name": self.subscales[sid].label,
                "short name": self.subscales[sid].short_label,
                "items": self.subscales[sid].n_items,
                "range": "{:g}-{:g}".format(*self.score_range(sid)),
                "higher is": self.subscales[sid].higher_is,
            }
            for sid, col in self.subscale_columns().items()
        ]
        return html_card(
            f"{self.name} ({self.id})",
            [
                (
                    "items",
                    f"{len(self.items)}, responses {_fmt_num(self.response_min)}-"
                    f"{_fmt_num(self.response_max)}",
                ),
                ("default metric", f"{self.default_metric} ({self.metric().label})"),
                ("licence", self.licence),
            ],
            tables=[("subscales (score columns)", pd.DataFrame(rows))],
            note=self.citation,
        )

    # ---- column names ----
    def subscale_columns(self) -> dict[str, str]:
        """Map subscale id -> output column ``{instrument_id}_{subscale_id}``."""
        return {sid: f"{self.id}_{sid}" for sid in self.subscales}

    def flag_columns(self) -> dict[str, str]:
        """Map ``"subscale.cutpoint"`` and composite flag names -> boolean output column."""
        out: dict[str, str] = {}
        for sid, sub in self.subscales.items():
            for cname in sub.cutpoints:
                out[f"{sid}.{cname}"] = f"{self.id}_{sid}_{cname}"
        for fname in self.flags:
            out[fname] = f"{self.id}_{fname}"
        return out

    def output_columns(self) -> list[str]:
        """Every column :func:`~coaching_trials.score` adds, in order."""
        return [*self.subscale_columns().values(), *self.flag_columns().values()]

    @property
    def reverse_items(self) -> tuple[str, ...]:
        """Reverse-keyed items (across all subscales), in item order."""
        rev = {i for s in self.subscales.values() for i in s.reverse}
        return tuple(i for i in self.items if i in rev)

    # ---- metrics and cut-points ----
    def metric(self, name: str | None = None) -> Metric:
        """The :class:`Metric` called ``name`` (default metric when None)."""
        name = self.default_metric if name is None else name
        if name not in self.metrics:
            raise one_of("metric", name, tuple(self.metrics))
        return self.metrics[name]

    def _subscale(self, subscale: str) -> Subscale:
        if subscale not in self.subscales:
            raise one_of("subscale", subscale, tuple(self.subscales))
        return self.subscales[subscale]

    def _metric_base(self, sub: Subscale, metric: Metric) -> tuple[float, float]:
        """(multiplier on the item mean, offset) giving ``metric`` for ``sub``."""
        agg = metric.aggregation or sub.aggregation
        mult = metric.factor * (sub.n_items if agg == "sum" else 1)
        return mult, metric.offset

    def score_range(self, subscale: str, metric: str | None = None) -> tuple[float, float]:
        """Smallest and largest possible score of ``subscale`` on ``metric``."""
        sub = self._subscale(subscale)
        mult, off = self._metric_base(sub, self.metric(metric))
        return (
            _clean(off + mult * self.response_min),
            _clean(off + mult * self.response_max),
        )

    def convert(
        self, value: float | np.ndarray, subscale: str, *, from_metric: str, to_metric: str
    ) -> Any:
        """Convert score(s) of ``subscale`` from one metric to another (a linear map)."""
        sub = self._subscale(subscale)
        m_from, o_from = self._metric_base(sub, self.metric(from_metric))
        m_to, o_to = self._metric_base(sub, self.metric(to_metric))
        item_mean = (np.asarray(value, dtype="float64") - o_from) / m_from
        out = o_to + m_to * item_mean
        return _clean(float(out)) if np.ndim(out) == 0 else out

    def cutpoint_value(self, subscale: str, cutpoint: str, *, metric: str | None = None) -> float:
        """The threshold of ``cutpoint`` expressed on ``metric`` (cut-points move with it).

        Examples
        --------
        >>> import coaching_trials as ct
        >>> pfi = ct.get_instrument("pfi")
        >>> [pfi.cutpoint_value("burnout", "high", metric=m) for m in ("mean", "sum", "0-10")]
        [1.33, 13.3, 3.325]
        """
        sub = self._subscale(subscale)
        if cutpoint not in sub.cutpoints:
            raise one_of("cutpoint", cutpoint, tuple(sub.cutpoints))
        cut = sub.cutpoints[cutpoint]
        target = self.default_metric if metric is None else metric
        return float(self.convert(cut.value, subscale, from_metric=cut.metric, to_metric=target))

    def with_cutpoint(
        self,
        subscale: str,
        cutpoint: str,
        *,
        value: float | None = None,
        op: str | None = None,
        metric: str | None = None,
    ) -> Instrument:
        """A copy with one cut-point changed (e.g. strict ``>`` instead of ``>=``).

        The copy goes through the same validation as a definition file.

        Examples
        --------
        >>> import coaching_trials as ct
        >>> strict = ct.get_instrument("pfi").with_cutpoint("pf", "high", op=">")
        >>> strict.subscales["pf"].cutpoints["high"].op
        '>'
        """
        spec = self.to_dict()
        sub = self._subscale(subscale)
        if cutpoint not in sub.cutpoints:
            raise one_of("cutpoint", cutpoint, tuple(sub.cutpoints))
        entry = spec["subscales"][subscale]["cutpoints"][cutpoint]
        if value is not None:
            entry["value"] = value
        if op is not None:
            entry["op"] = op
        if metric is not None:
            entry["metric"] = metric
        return load_instrument(spec)

    # ---- data helpers ----
    def reverse_keyed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The item columns of ``frame`` with reverse keys applied (``min + max - r``).

        Returns a new DataFrame (the caller's frame is not modified).

        Examples
        --------
        >>> import pandas as pd
        >>> import coaching_trials as ct
        >>> cbi = ct.get_instrument("cbi")
        >>> frame = pd.DataFrame({f"cbi_{i:02d}": [1] for i in range(1, 20)})
        >>> int(cbi.reverse_keyed(frame)["cbi_13"].iloc[0])  # 0 + 4 - 1
        3
        """
        missing = [c for c in self.items if c not in frame.columns]
        if missing:
            raise ValueError(
                f"Instrument {self.id!r}: item column(s) {missing} not found in the data."
            )
        out = frame.loc[:, list(self.items)].copy()
        lohi = self.response_min + self.response_max
        for col in self.reverse_items:
            out[col] = lohi - out[col]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The definition as a plain dict (the TOML layout); ``load_instrument`` round-trips it."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "citation": self.citation,
            "licence": self.licence,
            "evidence": self.evidence,
            "items": list(self.items),
            "response_min": self.response_min,
            "response_max": self.response_max,
            "integer_responses": self.integer_responses,
            "default_metric": self.default_metric,
            "cutpoint_metric": self.cutpoint_metric,
            "metrics": {},
            "subscales": {},
            "flags": {},
        }
        for name, m in self.metrics.items():
            md: dict[str, Any] = {"factor": m.factor, "offset": m.offset}
            if m.aggregation is not None:
                md["aggregation"] = m.aggregation
            if m.label:
                md["label"] = m.label
            if m.description:
                md["description"] = m.description
            out["metrics"][name] = md
        for sid, s in self.subscales.items():
            sd: dict[str, Any] = {
                "name": s.name,
                "short_name": s.short_name,
                "reverse": list(s.reverse) if not s.composite_of else [],
                "aggregation": s.aggregation,
                "min_answered": s.min_answered,
                "higher_is": s.higher_is,
                "cutpoints": {
                    c.name: {
                        "value": c.value,
                        "op": c.op,
                        "metric": c.metric,
                        "evidence": c.evidence,
                        "note": c.note,
                    }
                    for c in s.cutpoints.values()
                },
            }
            if s.composite_of:
                sd["composite_of"] = list(s.composite_of)
                del sd["reverse"]
            else:
                sd["items"] = list(s.items)
            out["subscales"][sid] = sd
        if self.missing_codes:
            out["missing_codes"] = dict(self.missing_codes)
        for fname, f in self.flags.items():
            out["flags"][fname] = {
                f.rule: [f"{a}.{b}" for a, b in f.terms],
                "description": f.description,
                "evidence": f.evidence,
            }
        return out


# --------------------------------------------------------------------------------------------
# schema validation
# --------------------------------------------------------------------------------------------

_TOP_KEYS = {
    "schema_version": "int",
    "id": "str",
    "name": "str",
    "description": "str",
    "citation": "str",
    "licence": "str",
    "evidence": "str",
    "items": "list[str]",
    "response_min": "number",
    "response_max": "number",
    "integer_responses": "bool",
    "aggregation": "str",
    "default_metric": "str",
    "cutpoint_metric": "str",
    "metrics": "table",
    "subscales": "table",
    "flags": "table",
    "missing_codes": "table",
}
_REQUIRED_TOP = ("id", "name", "items", "response_min", "response_max", "subscales")
_METRIC_KEYS = {
    "label": "str",
    "description": "str",
    "aggregation": "str",
    "factor": "number",
    "offset": "number",
}
_SUBSCALE_KEYS = {
    "name": "str",
    "short_name": "str",
    "items": "list[str]",
    "composite_of": "list[str]",
    "reverse": "list[str]",
    "aggregation": "str",
    "min_answered": "int",
    "higher_is": "str",
    "cutpoints": "table",
}
_CUT_KEYS = {
    "value": "number",
    "op": "str",
    "metric": "str",
    "evidence": "str",
    "note": "str",
}
_FLAG_KEYS = {"any": "list[str]", "all": "list[str]", "description": "str", "evidence": "str"}


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return (
            isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, bool)
            and math.isfinite(float(value))
        )
    if kind == "table":
        return isinstance(value, Mapping)
    if kind == "list[str]":
        return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
    raise AssertionError(kind)  # pragma: no cover - programming error


_KIND_TEXT = {
    "str": "a string",
    "bool": "true or false",
    "int": "an integer",
    "number": "a finite number",
    "table": "a table",
    "list[str]": "a list of strings",
}


def _check_keys(
    table: Mapping[str, Any], allowed: Mapping[str, str], where: str, problems: list[str]
) -> dict[str, Any]:
    """Report unknown keys and wrong types; return the well-typed entries."""
    good: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in allowed:
            problems.append(
                f"key `{path}`: unknown key; allowed keys are {', '.join(sorted(allowed))}"
            )
            continue
        kind = allowed[key]
        if not _type_ok(value, kind):
            problems.append(f"key `{path}`: must be {_KIND_TEXT[kind]}, got {value!r}")
            continue
        good[key] = value
    return good


def _named_table(
    name: Any,
    table: Any,
    allowed: Mapping[str, str],
    where: str,
    what: str,
    problems: list[str],
) -> dict[str, Any] | None:
    """Check one named sub-table (a subscale, cut-point or flag) and return its good entries.

    Reports a value that is not a table (and returns ``None``: nothing more to check), a
    ``name`` that is not an id (``what`` says which, e.g. ``"flag name"``) and, through
    :func:`_check_keys`, unknown keys and wrong types.
    """
    if not isinstance(table, Mapping):
        problems.append(f"key `{where}`: must be a table, got {table!r}")
        return None
    if not _ID_RE.match(str(name)):
        problems.append(f"key `{where}`: {what} {name!r} must be lower-case letters, digits and _")
    return _check_keys(table, allowed, where, problems)


def _declared_metric(
    value: Any, key: str, metrics: Mapping[str, Any], fallback: str, problems: list[str]
) -> str:
    """``value`` if it names a declared metric, else report the problem at ``key`` and fall back."""
    if value in metrics:
        return value
    problems.append(
        f"key `{key}`: must name a declared metric ({', '.join(metrics)}), got {value!r}"
    )
    return fallback


def _duplicates(values: list[str]) -> list[str]:
    seen: set[str] = set()
    dup: list[str] = []
    for v in values:
        if v in seen and v not in dup:
            dup.append(v)
        seen.add(v)
    return dup


def _build(spec: Mapping[str, Any], source: str) -> Instrument:
    """Validate ``spec`` against the schema and build an :class:`Instrument`."""
    if not isinstance(spec, Mapping):
        raise TypeError(f"An instrument definition must be a mapping, got {type(spec).__name__}.")
    problems: list[str] = []
    top = _check_keys(spec, _TOP_KEYS, "", problems)
    for key in _REQUIRED_TOP:
        if key not in spec:
            problems.append(f"key `{key}`: required key is missing")

    iid = top.get("id", "")
    if "id" in top and not _ID_RE.match(iid):
        problems.append(
            f"key `id`: {iid!r} must start with a lower-case letter and contain only a-z, 0-9 and _"
        )
    if "schema_version" in top and top["schema_version"] != 1:
        problems.append(
            f"key `schema_version`: only version 1 is known, got {top['schema_version']}"
        )

    items = list(top.get("items", []))
    if "items" in top and not items:
        problems.append("key `items`: at least one item is required")
    for dup in _duplicates(items):
        problems.append(f"key `items`: item {dup!r} is listed more than once")
    item_set = set(items)

    lo = top.get("response_min")
    hi = top.get("response_max")
    if lo is not None and hi is not None and not float(lo) < float(hi):
        problems.append(
            f"key `response_min`: must be smaller than response_max, got {lo!r} >= {hi!r}"
        )
    integer = top.get("integer_responses", True)
    if integer and lo is not None and hi is not None:
        for key, v in (("response_min", lo), ("response_max", hi)):
            if float(v) != round(float(v)):
                problems.append(
                    f"key `{key}`: must be a whole number when integer_responses = true, got {v!r}"
                )

    default_agg = top.get("aggregation", "mean")
    if default_agg not in AGGREGATIONS:
        problems.append(f"key `aggregation`: must be one of 'mean', 'sum', got {default_agg!r}")
        default_agg = "mean"

    # ---- metrics ----
    metrics: dict[str, Metric] = {}
    raw_metrics = top.get("metrics", {})
    for mname, mtable in raw_metrics.items():
        where = f"metrics.{mname}"
        if not isinstance(mtable, Mapping):
            problems.append(f"key `{where}`: must be a table, got {mtable!r}")
            continue
        mt = _check_keys(mtable, _METRIC_KEYS, where, problems)
        agg = mt.get("aggregation")
        if agg is not None and agg not in AGGREGATIONS:
            problems.append(f"key `{where}.aggregation`: must be one of 'mean', 'sum', got {agg!r}")
            agg = None
        factor = float(mt.get("factor", 1.0))
        if factor <= 0:
            problems.append(f"key `{where}.factor`: must be > 0, got {factor!r}")
            factor = 1.0
        metrics[mname] = Metric(
            name=mname,
            aggregation=agg,
            factor=factor,
            offset=float(mt.get("offset", 0.0)),
            label=mt.get("label", ""),
            description=mt.get("description", ""),
        )
    if not metrics:
        metrics["raw"] = Metric(name="raw", label="raw score")
    default_metric = _declared_metric(
        top.get("default_metric", next(iter(metrics)) if len(metrics) == 1 else ""),
        "default_metric",
        metrics,
        next(iter(metrics)),
        problems,
    )
    cut_metric = _declared_metric(
        top.get("cutpoint_metric", default_metric),
        "cutpoint_metric",
        metrics,
        default_metric,
        problems,
    )

    # ---- subscales ----
    raw_subs = top.get("subscales", {})
    if "subscales" in top and not raw_subs:
        problems.append("key `subscales`: at least one subscale is required")
    sub_tables: dict[str, dict[str, Any]] = {}
    for sid, stable in raw_subs.items():
        where = f"subscales.{sid}"
        st = _named_table(sid, stable, _SUBSCALE_KEYS, where, "subscale id", problems)
        if st is None:
            continue
        if ("items" in st) == ("composite_of" in st):
            problems.append(f"key `{where}`: give exactly one of `items` or `composite_of`")
        if "higher_is" not in st:
            problems.append(
                f"key `{where}.higher_is`: required key is missing ('better' or 'worse')"
            )
        elif st["higher_is"] not in DIRECTIONS:
            problems.append(
                f"key `{where}.higher_is`: must be one of 'better', 'worse', "
                f"got {st['higher_is']!r}"
            )
        sub_tables[sid] = st

    owner: dict[str, str] = {}  # item -> first non-composite subscale
    for sid, st in sub_tables.items():
        if "items" not in st:
            continue
        where = f"subscales.{sid}"
        sitems = list(st["items"])
        if not sitems:
            problems.append(f"key `{where}.items`: at least one item is required")
        for dup in _duplicates(sitems):
            problems.append(f"key `{where}.items`: item {dup!r} is listed more than once")
        for it in sitems:
            if it not in item_set:
                problems.append(
                    f"key `{where}.items`: item {it!r} is not among the instrument's `items`"
                )
            elif it in owner and owner[it] != sid:
                problems.append(
                    f"key `{where}.items`: item {it!r} is already in subscale {owner[it]!r}; "
                    "an item may belong to one subscale only (declare a subscale that combines "
                    "others with `composite_of`)"
                )
            else:
                owner.setdefault(it, sid)
        for it in st.get("reverse", []):
            if it not in sitems:
                problems.append(
                    f"key `{where}.reverse`: reverse key {it!r} is not among the subscale's "
                    f"items ({', '.join(sitems)})"
                )
        for dup in _duplicates(list(st.get("reverse", []))):
            problems.append(f"key `{where}.reverse`: item {dup!r} is listed more than once")

    for it in items:
        if it not in owner:
            problems.append(f"key `items`: item {it!r} belongs to no subscale")

    subscales: dict[str, Subscale] = {}
    for sid, st in sub_tables.items():
        where = f"subscales.{sid}"
        composite_of: tuple[str, ...] = ()
        if "composite_of" in st:
            composite_of = tuple(st["composite_of"])
            if not composite_of:
                problems.append(f"key `{where}.composite_of`: at least one subscale is required")
            if "reverse" in st:
                problems.append(
                    f"key `{where}.reverse`: a composite takes its reverse keys from its parts; "
                    "declare them there"
                )
            sitems_l: list[str] = []
            reverse_l: list[str] = []
            for part in composite_of:
                pt = sub_tables.get(part)
                if part == sid or pt is None:
                    problems.append(
                        f"key `{where}.composite_of`: {part!r} is not another subscale "
                        f"(known: {', '.join(k for k in sub_tables if k != sid)})"
                    )
                    continue
                if "items" not in pt:
                    problems.append(
                        f"key `{where}.composite_of`: {part!r} is itself a composite; "
                        "list its parts instead"
                    )
                    continue
                sitems_l += list(pt["items"])
                reverse_l += list(pt.get("reverse", []))
            for dup in _duplicates(list(composite_of)):
                problems.append(f"key `{where}.composite_of`: {dup!r} is listed more than once")
            sitems = tuple(i for i in items if i in set(sitems_l))
            reverse = tuple(i for i in items if i in set(reverse_l))
        else:
            sitems = tuple(st.get("items", ()))
            reverse = tuple(i for i in sitems if i in set(st.get("reverse", ())))
        n = len(sitems)
        agg = st.get("aggregation", default_agg)
        if agg not in AGGREGATIONS:
            problems.append(f"key `{where}.aggregation`: must be one of 'mean', 'sum', got {agg!r}")
            agg = default_agg
        k = st.get("min_answered", max(1, math.ceil(n / 2)))
        if n and not 1 <= k <= n:
            problems.append(
                f"key `{where}.min_answered`: must be between 1 and {n} (the subscale's "
                f"number of items), got {k}"
            )
        cuts: dict[str, Cutpoint] = {}
        for cname, ctable in st.get("cutpoints", {}).items():
            cwhere = f"{where}.cutpoints.{cname}"
            ct_ = _named_table(cname, ctable, _CUT_KEYS, cwhere, "cut-point name", problems)
            if ct_ is None:
                continue
            if "value" not in ctable:
                problems.append(f"key `{cwhere}.value`: required key is missing")
            op = ct_.get("op", ">=")
            if op not in OPS:
                problems.append(
                    f"key `{cwhere}.op`: must be one of {', '.join(repr(o) for o in OPS)}, "
                    f"got {op!r}"
                )
                op = ">="
            cm = _declared_metric(
                ct_.get("metric", cut_metric), f"{cwhere}.metric", metrics, cut_metric, problems
            )
            cuts[cname] = Cutpoint(
                name=cname,
                value=float(ct_.get("value", 0.0)),
                op=op,
                metric=cm,
                evidence=ct_.get("evidence", ""),
                note=ct_.get("note", ""),
            )
        subscales[sid] = Subscale(
            id=sid,
            items=sitems,
            reverse=reverse,
            aggregation=agg,
            min_answered=int(k),
            higher_is=st.get("higher_is", "better"),
            cutpoints=MappingProxyType(cuts),
            name=st.get("name", ""),
            composite_of=composite_of,
            short_name=st.get("short_name", ""),
        )

    # ---- composite flags ----
    flags: dict[str, Flag] = {}
    for fname, ftable in top.get("flags", {}).items():
        where = f"flags.{fname}"
        ft = _named_table(fname, ftable, _FLAG_KEYS, where, "flag name", problems)
        if ft is None:
            continue
        rules = [r for r in ("any", "all") if r in ft]
        if len(rules) != 1:
            problems.append(f"key `{where}`: give exactly one of `any` or `all`")
            continue
        rule = rules[0]
        terms: list[tuple[str, str]] = []
        for term in ft[rule]:
            sid, _, cname = term.partition(".")
            if sid not in subscales:
                problems.append(
                    f"key `{where}.{rule}`: {term!r} names unknown subscale {sid!r} "
                    f"(known: {', '.join(subscales)})"
                )
            elif cname not in subscales[sid].cutpoints:
                known = ", ".join(f"{sid}.{c}" for c in subscales[sid].cutpoints) or "none"
                problems.append(
                    f"key `{where}.{rule}`: {term!r} names unknown cut-point {cname!r} "
                    f"(cut-points of {sid!r}: {known})"
                )
            else:
                terms.append((sid, cname))
        if not ft[rule]:
            problems.append(f"key `{where}.{rule}`: at least one 'subscale.cutpoint' is required")
        flags[fname] = Flag(
            name=fname,
            rule=rule,
            terms=tuple(terms),
            description=ft.get("description", ""),
            evidence=ft.get("evidence", ""),
        )

    # ---- output columns must be unique and must not shadow items ----
    if iid and not problems:
        cols = [f"{iid}_{s}" for s in subscales]
        cols += [f"{iid}_{s}_{c}" for s, sub in subscales.items() for c in sub.cutpoints]
        cols += [f"{iid}_{f}" for f in flags]
        for dup in _duplicates(cols):
            problems.append(
                f"output column {dup!r} would be produced twice (rename a subscale, "
                "cut-point or flag)"
            )
        for c in cols:
            if c in item_set:
                problems.append(f"output column {c!r} has the same name as an item column")

    codes = top.get("missing_codes", {})
    for token, reason in codes.items() if isinstance(codes, Mapping) else ():
        if not str(token).strip() or not isinstance(reason, str) or not reason.strip():
            problems.append(
                f"key `missing_codes.{token}`: a non-blank token needs a reason (text), "
                f"got {reason!r}"
            )

    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise InstrumentDefinitionError(
            f"Invalid instrument definition in {source}: {len(problems)} problem(s):\n{lines}"
        )

    return Instrument(
        id=iid,
        name=top["name"],
        items=tuple(items),
        response_min=_as_num(lo),
        response_max=_as_num(hi),
        subscales=MappingProxyType(subscales),
        metrics=MappingProxyType(metrics),
        default_metric=default_metric,
        citation=top.get("citation", ""),
        licence=top.get("licence", ""),
        evidence=top.get("evidence", ""),
        description=top.get("description", ""),
        integer_responses=bool(integer),
        flags=MappingProxyType(flags),
        missing_codes=MappingProxyType({str(k): str(v) for k, v in codes.items()}),
        cutpoint_metric=cut_metric,
        source=source,
    )


def _as_num(v: Any) -> float:
    f = float(v)
    return int(f) if f.is_integer() else f


def _fmt_num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _clean(x: float) -> float:
    """Round away binary noise (1.33 * 2.5 -> 3.325, not 3.3250000000000002)."""
    return float(round(float(x), 10))


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


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
        return _build(source, "<dict>")
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"Instrument definition file not found: {path}")
        return _build(_read_toml(path), str(path))
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
        inst = _build(spec, label)
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
