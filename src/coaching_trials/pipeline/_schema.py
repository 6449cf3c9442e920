"""The config schema's types: every section's keys and value kinds, checked all at once.

:data:`SCHEMA` maps each section to its keys and the kind of value each takes; :func:`check_types`
walks a raw config against it, collecting every unknown key, wrong type and missing required key
(:class:`ConfigError` lists them together). The checks of values beyond their type live with
the typed sections (:mod:`._sections`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from coaching_trials.analysis.multiplicity import ADJUST_METHODS

SCHEMA_VERSION = 1
DEFAULT_SEED = 2024
DEFAULT_N_BOOT = 1000
DEFAULT_MIN_CELL = 5
DEFAULT_TITLE = "Coaching trial analysis"
FIGURE_DPI = 150
_FIGURE_RC = {"svg.hashsalt": "coaching_trials", "path.simplify": True}
FLOAT_DIGITS = 6  # tables are rounded before writing, so the bytes do not depend on the last ulp
KEYS = ("participant_id", "arm", "wave")  # the package's names of the design columns
SESSIONS = "sessions_attended"  # the participants' column checked against planned_sessions
METHODS = ("ancova", "change", "mmrm")
ADJUST = (*ADJUST_METHODS, "none")
DIRECTIONS = (">=", ">", "<=", "<")
EVENT_IS = ("good", "bad")
READERS = ("survey", "redcap", "qualtrics")
REPEATING = ("drop", "keep", "only")
VALUES = ("auto", "labels", "raw")
CHECKBOXES = ("bool", "raw")
#: Distributions whose versions are written to the manifest (``None`` when not installed).
DEPENDENCIES = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "matplotlib",
    "jinja2",
    "pyarrow",
    "openpyxl",
    "pyreadstat",
)


class ConfigError(ValueError):
    """A config file or dict breaks the schema; ``problems`` lists every problem found.

    Attributes
    ----------
    problems : tuple of str
        One message per problem (unknown keys, wrong types, bad values, missing files).
    source : str
        The config file's path, or ``"(dict)"``.
    """

    def __init__(self, problems: Sequence[str], source: str) -> None:
        self.problems = tuple(problems)
        self.source = source
        lines = [f"{len(self.problems)} problem(s) in the config {source}:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


# --------------------------------------------------------------------------------------------
# the schema
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """A value type of the schema: a label for messages and a predicate."""

    label: str
    check: Callable[[Any], bool]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_text(v: Any) -> bool:
    return isinstance(v, str) and v.strip() != ""


_TABLE = _Kind("a table", lambda v: isinstance(v, Mapping))
_TABLES = _Kind(
    "an array of tables ([[...]])",
    lambda v: isinstance(v, (list, tuple)) and all(isinstance(x, Mapping) for x in v),
)
_TEXT = _Kind("a non-empty string", _is_text)
_PATH = _Kind("a path (string)", lambda v: isinstance(v, (str, Path)) and str(v).strip() != "")
_INT = _Kind("an integer", _is_int)
_NUMBER = _Kind("a number", _is_number)
_BOOL = _Kind("true or false", lambda v: isinstance(v, bool))
_TEXTS = _Kind(
    "a list of strings",
    lambda v: isinstance(v, (list, tuple)) and all(_is_text(x) for x in v),
)
_TEXT_OR_INT = _Kind("a string or an integer", lambda v: _is_text(v) or _is_int(v))
_CHAR = _Kind("a non-empty string", lambda v: isinstance(v, str) and v != "")
_TEXT_MAP = _Kind(
    "a table of string = string",
    lambda v: isinstance(v, Mapping) and all(_is_text(k) and _is_text(x) for k, x in v.items()),
)
_CODES = _Kind(
    "a table of string = string, or REDCap's missing data codes as text",
    lambda v: _is_text(v) or _TEXT_MAP.check(v),
)
_EVENTS = _Kind(
    "a table of event = wave (a string) or false (drop the event)",
    lambda v: (
        isinstance(v, Mapping)
        and all(_is_text(k) and (_is_text(x) or x is False) for k, x in v.items())
    ),
)
_PATH_MAP = _Kind(
    "a table of wave = path (string)",
    lambda v: (
        isinstance(v, Mapping)
        and len(v) > 0
        and all(_is_text(k) and _PATH.check(x) for k, x in v.items())
    ),
)
_INT_OR_MAP = _Kind(
    "an integer or a table of subscale = integer",
    lambda v: _is_int(v) or (isinstance(v, Mapping) and all(_is_int(x) for x in v.values())),
)
_NUMBER_MAP = _Kind(
    "a table of outcome = number",
    lambda v: isinstance(v, Mapping) and all(_is_number(x) for x in v.values()),
)
_NUMBERS = _Kind(
    "a number or a non-empty list of numbers",
    lambda v: (
        _is_number(v)
        or (isinstance(v, (list, tuple)) and len(v) > 0 and all(_is_number(x) for x in v))
    ),
)

#: section path -> {key: kind}; ``[[...]]`` sections are checked element by element.
SCHEMA: Mapping[str, Mapping[str, _Kind]] = MappingProxyType(
    {
        "": {
            "schema_version": _INT,
            "data": _TABLE,
            "design": _TABLE,
            "instruments": _TABLES,
            "analysis": _TABLE,
            "report": _TABLE,
            "decision": _TABLE,
            "business_case": _TABLE,
            "evidence": _TABLE,
        },
        "data": {
            "responses": _PATH,
            "example": _TEXT,
            "participants": _PATH,
            "sheet_name": _TEXT_OR_INT,
            "columns": _TABLE,
            "rename": _TEXT_MAP,
            "missing_codes": _CODES,
            "items": _TEXT_MAP,
            "encoding": _TEXT,
            "sep": _CHAR,
            "decimal": _TEXT,
            "skiprows": _INT,
            "reader": _TEXT,
            "dictionary": _PATH,
            "events": _EVENTS,
            "record_id": _TEXT,
            "repeating": _TEXT,
            "values": _TEXT,
            "checkboxes": _TEXT,
            "waves": _PATH_MAP,
            "subject_from": _TEXT,
        },
        "data.columns": {"subject": _TEXT, "arm": _TEXT, "wave": _TEXT},
        "design": {
            "immediate": _TEXT,
            "delayed": _TEXT,
            "baseline_wave": _TEXT,
            "endpoint_wave": _TEXT,
            "followup_waves": _TEXTS,
            "planned_sessions": _INT,
        },
        "instruments": {"id": _TEXT, "metric": _TEXT, "min_answered": _INT_OR_MAP},
        "analysis": {
            "outcomes": _TEXTS,
            "primary": _TEXT,
            "method": _TEXT,
            "adjust": _TEXT,
            "covariates": _TEXTS,
            "conf_level": _NUMBER,
            "nonrandomized": _BOOL,
            "responders": _TABLES,
            "seed": _INT,
            "reliability": _BOOL,
            "n_boot": _INT,
            "baseline_variables": _TEXTS,
        },
        "analysis.responders": {
            "outcome": _TEXT,
            "cutpoint": _NUMBERS,
            "direction": _TEXT,
            "event_is": _TEXT,
        },
        "decision": {"priors": _TEXTS, "large": _NUMBER, "mid": _NUMBER_MAP},
        "business_case": {
            "n_physicians": _NUMBER,
            "cost_per_participant": _NUMBER,
            "responder": _INT,
            "horizon_years": _NUMBER,
            "n_draws": _INT,
            "seed": _INT,
            "burnout_prevalence": _NUMBER,
            "turnover_rate": _NUMBER,
            "turnover_rr": _NUMBER,
            "replacement_cost": _NUMBER,
        },
        "evidence": {"outcome": _TEXT, "scale": _NUMBER, "method": _TEXT, "test": _TEXT},
        "report": {
            "title": _TEXT,
            "min_cell": _INT,
            "policy": _TEXT,
            "figures": _BOOL,
            "html": _BOOL,
        },
    }
)
_REQUIRED: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "": ("data",),
        "instruments": ("id",),
        "analysis.responders": ("outcome", "cutpoint"),
        "business_case": ("n_physicians", "cost_per_participant"),
    }
)


def _check_types(
    table: Mapping[str, Any],
    section: str,
    where: str,
    problems: list[str],
    bad: set[str] | None = None,
) -> dict[str, Any]:
    """Unknown keys, missing required keys and wrong types, recursively.

    Returns a copy of ``table`` without the keys that had a problem, so that the value checks
    of :func:`_normalize` can still run on the rest and every problem is reported at once;
    the dotted names of the keys dropped for a wrong type are added to ``bad``.
    """
    bad = set() if bad is None else bad
    spec = SCHEMA[section]
    label = f"[{where}]" if where else "the top level"
    clean: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{where}.{key}" if where else str(key)
        if key not in spec:
            problems.append(
                f"unknown key `{name}`; allowed keys in {label}: {', '.join(sorted(spec))}."
            )
            continue
        kind = spec[key]
        if not kind.check(value):
            problems.append(f"`{name}` must be {kind.label}; got {value!r}.")
            bad.add(name)
            continue
        child = f"{section}.{key}" if section else str(key)
        if child in SCHEMA:
            if kind is _TABLES:
                value = [
                    _check_types(element, child, f"{name}[{i}]", problems, bad)
                    for i, element in enumerate(value)
                ]
            else:
                value = _check_types(value, child, name, problems, bad)
        clean[key] = value
    for key in _REQUIRED.get(section, ()):
        if key not in table:
            name = f"{where}.{key}" if where else key
            problems.append(f"required key `{name}` is missing in {label}.")
    return clean


def _check_choice(name: str, value: Any, allowed: Sequence[Any], problems: list[str]) -> None:
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        problems.append(f"`{name}` must be one of {options}; got {value!r}.")
