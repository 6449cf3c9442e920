"""The TOML schema of an instrument definition: every key checked, every problem reported.

:func:`build_instrument` validates a parsed definition (a mapping) and builds the
:class:`~coaching_trials.instruments.registry.Instrument`; all problems found are raised at
once in one :class:`~coaching_trials.instruments.registry.InstrumentDefinitionError`. The
layout itself is documented in :mod:`coaching_trials.instruments.registry`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from coaching_trials.instruments._model import (
    AGGREGATIONS,
    DIRECTIONS,
    OPS,
    Cutpoint,
    Flag,
    Instrument,
    InstrumentDefinitionError,
    Metric,
    Subscale,
    _as_num,
)

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")

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


def _check_top(spec: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """The well-typed top-level keys; reports missing required keys, a bad id or version."""
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
    return top


def _check_items(top: Mapping[str, Any], problems: list[str]) -> list[str]:
    items = list(top.get("items", []))
    if "items" in top and not items:
        problems.append("key `items`: at least one item is required")
    for dup in _duplicates(items):
        problems.append(f"key `items`: item {dup!r} is listed more than once")
    return items


def _check_range(top: Mapping[str, Any], problems: list[str]) -> tuple[Any, Any, bool, str]:
    """``response_min, response_max, integer_responses`` and the default aggregation."""
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
    return lo, hi, bool(integer), default_agg


def _build_metrics(
    top: Mapping[str, Any], problems: list[str]
) -> tuple[dict[str, Metric], str, str]:
    """The metrics, the default metric and the metric cut-points are declared on."""
    metrics: dict[str, Metric] = {}
    for mname, mtable in top.get("metrics", {}).items():
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
    return metrics, default_metric, cut_metric


def _subscale_tables(top: Mapping[str, Any], problems: list[str]) -> dict[str, dict[str, Any]]:
    """The well-typed table of every subscale (items or composite_of, higher_is checked)."""
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
    return sub_tables


def _check_membership(
    items: list[str], sub_tables: Mapping[str, Mapping[str, Any]], problems: list[str]
) -> None:
    """Each item in exactly one non-composite subscale; reverse keys among its items."""
    item_set = set(items)
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


def _composite_items(
    sid: str,
    st: Mapping[str, Any],
    sub_tables: Mapping[str, Mapping[str, Any]],
    items: list[str],
    problems: list[str],
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """``composite_of``, items and reverse keys of a composite subscale (in item order)."""
    where = f"subscales.{sid}"
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
    return composite_of, sitems, reverse


def _build_cutpoints(
    where: str,
    st: Mapping[str, Any],
    metrics: Mapping[str, Metric],
    cut_metric: str,
    problems: list[str],
) -> dict[str, Cutpoint]:
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
                f"key `{cwhere}.op`: must be one of {', '.join(repr(o) for o in OPS)}, got {op!r}"
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
    return cuts


def _build_subscale(
    sid: str,
    st: Mapping[str, Any],
    sub_tables: Mapping[str, Mapping[str, Any]],
    items: list[str],
    default_agg: str,
    metrics: Mapping[str, Metric],
    cut_metric: str,
    problems: list[str],
) -> Subscale:
    where = f"subscales.{sid}"
    composite_of: tuple[str, ...] = ()
    if "composite_of" in st:
        composite_of, sitems, reverse = _composite_items(sid, st, sub_tables, items, problems)
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
    cuts = _build_cutpoints(where, st, metrics, cut_metric, problems)
    return Subscale(
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


def _build_flags(
    top: Mapping[str, Any], subscales: Mapping[str, Subscale], problems: list[str]
) -> dict[str, Flag]:
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
    return flags


def _check_output_columns(
    iid: str,
    subscales: Mapping[str, Subscale],
    flags: Mapping[str, Flag],
    items: list[str],
    problems: list[str],
) -> None:
    """Output columns must be unique and must not shadow items."""
    cols = [f"{iid}_{s}" for s in subscales]
    cols += [f"{iid}_{s}_{c}" for s, sub in subscales.items() for c in sub.cutpoints]
    cols += [f"{iid}_{f}" for f in flags]
    for dup in _duplicates(cols):
        problems.append(
            f"output column {dup!r} would be produced twice (rename a subscale, cut-point or flag)"
        )
    for c in cols:
        if c in set(items):
            problems.append(f"output column {c!r} has the same name as an item column")


def _check_missing_codes(codes: Any, problems: list[str]) -> None:
    for token, reason in codes.items() if isinstance(codes, Mapping) else ():
        if not str(token).strip() or not isinstance(reason, str) or not reason.strip():
            problems.append(
                f"key `missing_codes.{token}`: a non-blank token needs a reason (text), "
                f"got {reason!r}"
            )


def build_instrument(spec: Mapping[str, Any], source: str) -> Instrument:
    """Validate ``spec`` against the schema and build an :class:`Instrument`.

    Every problem is collected (in the order of the definition) and raised together in one
    :class:`InstrumentDefinitionError` naming ``source``.
    """
    if not isinstance(spec, Mapping):
        raise TypeError(f"An instrument definition must be a mapping, got {type(spec).__name__}.")
    problems: list[str] = []
    top = _check_top(spec, problems)
    iid = top.get("id", "")
    items = _check_items(top, problems)
    lo, hi, integer, default_agg = _check_range(top, problems)
    metrics, default_metric, cut_metric = _build_metrics(top, problems)
    sub_tables = _subscale_tables(top, problems)
    _check_membership(items, sub_tables, problems)
    subscales = {
        sid: _build_subscale(sid, st, sub_tables, items, default_agg, metrics, cut_metric, problems)
        for sid, st in sub_tables.items()
    }
    flags = _build_flags(top, subscales, problems)
    if iid and not problems:
        _check_output_columns(iid, subscales, flags, items, problems)
    codes = top.get("missing_codes", {})
    _check_missing_codes(codes, problems)
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
        integer_responses=integer,
        flags=MappingProxyType(flags),
        missing_codes=MappingProxyType({str(k): str(v) for k, v in codes.items()}),
        cutpoint_metric=cut_metric,
        source=source,
    )
