"""The instrument model: an :class:`Instrument` and its parts, as frozen records.

These are what a TOML definition becomes once :mod:`coaching_trials.instruments._schema` has
checked it; :mod:`coaching_trials.instruments.registry` is the public home of every name here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from coaching_trials._errors import one_of
from coaching_trials._vocab import renamed

Aggregation = Literal["mean", "sum"]
Direction = Literal["better", "worse"]
Op = Literal[">=", ">", "<=", "<"]

AGGREGATIONS: tuple[str, ...] = ("mean", "sum")
DIRECTIONS: tuple[str, ...] = ("better", "worse")
OPS: tuple[str, ...] = (">=", ">", "<=", "<")


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
    aggregation: Aggregation | None = None
    factor: float = 1.0
    offset: float = 0.0
    label: str = ""
    description: str = ""


@dataclass(frozen=True)
class Cutpoint:
    """A threshold on one subscale: flagged when ``score <op> value`` on ``metric``."""

    name: str
    value: float
    op: Op = ">="
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
    aggregation: Aggregation = "mean"
    min_answered: int = 1
    higher_is: Direction = "better"
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
        from coaching_trials.instruments._schema import build_instrument

        return build_instrument(spec, "<dict>")

    # ---- data helpers ----
    @renamed(frame="data")
    def reverse_keyed(self, data: pd.DataFrame) -> pd.DataFrame:
        """The item columns of ``data`` with reverse keys applied (``min + max - r``).

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
        missing = [c for c in self.items if c not in data.columns]
        if missing:
            raise ValueError(
                f"Instrument {self.id!r}: item column(s) {missing} not found in the data."
            )
        out = data.loc[:, list(self.items)].copy()
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
# numbers as the definitions state them
# --------------------------------------------------------------------------------------------


def _as_num(v: Any) -> float:
    f = float(v)
    return int(f) if f.is_integer() else f


def _fmt_num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _clean(x: float) -> float:
    """Round away binary noise (1.33 * 2.5 -> 3.325, not 3.3250000000000002)."""
    return float(round(float(x), 10))
