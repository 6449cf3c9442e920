"""The pre-specified analysis pipeline: one config file in; tables, figures, report, manifest out.

A trial's analysis plan is written down once as a TOML file (or a dict of the same shape) and
run end to end by :func:`run_analysis`: read the data, check it, score the instruments, build
the :class:`~coaching_trials.DelayedInterventionTrial`, and write the flow, Table 1, the
randomized comparison, the non-randomized estimands, responder analyses and reliability as CSV
tables, plus figures, the HTML report and ``manifest.json``. The same config gives the same
bytes: nothing written depends on the time, the output folder or the machine's load.

The config schema
-----------------
Every section and key is checked before anything is computed; an unknown key is an error that
names the key and the allowed ones, and all problems are reported at once
(:class:`ConfigError`). Relative paths resolve against the folder of the config file.

.. code-block:: toml

    schema_version = 1                   # optional

    [data]
    responses = "responses.csv"          # long: one row per participant x wave; csv, tsv,
                                         # xlsx, parquet, sav, dta (coaching_trials.read_survey)
    # example = "delayed_intervention"   # ... or the shipped synthetic example instead
    participants = "participants.csv"    # optional: one row per randomized participant
    sheet_name = "Data"                  # optional, Excel only; default: the first sheet
                                         # that holds a table (detected and reported)
    encoding = "cp1252"                  # optional, text files; default detected
    sep = ";"                            # optional, text files; default detected
    decimal = ","                        # optional, text files; default detected
    skiprows = 1                         # optional: rows above the header; default detected

    [data.missing_codes]                 # optional: declared missing-value codes -> reason;
    "N/A" = "not applicable"             # nothing else is missing but a blank cell (numeric
    "99" = "refused"                     # keys match numbers too: "99" matches 99 and 99.0)

    [data.items]                         # optional: item names by pattern, per instrument;
    pfi = "pfi_{n}"                      # {n} = the item's position (1 = first), or a regex

    [data.columns]                       # your names of the design columns; they are renamed
    subject = "participant_id"           # to participant_id, arm and wave (the package's
    arm = "arm"                          # names) in both files and in every output
    wave = "wave"

    [data.rename]                        # optional: any other column -> the package's name
    "Q1" = "pfi_01"

    [design]                             # required unless `example` is used
    immediate = "immediate"
    delayed = "delayed"
    baseline_wave = "baseline"
    endpoint_wave = "month3"
    followup_waves = ["month6"]          # optional
    planned_sessions = 6                 # optional: participants' `sessions_attended` above
                                         # this are warned about and counted in the audit

    [[instruments]]                      # one table per instrument to score
    id = "pfi"
    metric = "mean"                      # optional: the instrument's default metric
    min_answered = 5                     # optional: int, or {subscale = k}

    [analysis]
    outcomes = ["pfi_burnout", "pfi_pf"] # default: every score of the instruments
    primary = "pfi_burnout"              # default: the first outcome; listed first; keeps
                                         # its raw p, the others are adjusted together
    method = "ancova"                    # "ancova" | "change" | "mmrm"
    adjust = "holm"                      # holm, hochberg, bh, bonferroni, fixed_sequence, none
    covariates = []
    conf_level = 0.95
    nonrandomized = true                 # default: true when there are follow-up waves
    seed = 2024                          # the bootstrap of the reliability intervals
    reliability = true                   # alpha and omega per subscale and wave
    n_boot = 1000                        # bootstrap resamples per omega interval

    [[analysis.responders]]              # optional, any number
    outcome = "pfi_burnout"
    cutpoint = [1.33]                    # a number or a list; on the outcome's metric
    direction = ">="                     # ">=", ">", "<=", "<"
    event_is = "bad"                     # optional: from the subscale's higher_is

    [report]
    title = "Coaching trial"
    min_cell = 5                         # cells with fewer participants are suppressed
    figures = true                       # PNG figures in figures/
    html = true                          # the self-contained report.html

Examples
--------
>>> from coaching_trials.pipeline import load_config
>>> config = load_config({"data": {"example": "delayed_intervention"},
...                       "instruments": [{"id": "pfi"}],
...                       "analysis": {"primary": "pfi_burnout"}})
>>> config["analysis"]["outcomes"]
['pfi_burnout', 'pfi_pf', 'pfi_we', 'pfi_id']
>>> config["design"]["endpoint_wave"]
'month3'
>>> load_config({"analysis": {"metod": "ancova"}, "data": {"example": "delayed_intervention"},
...              "instruments": [{"id": "pfi"}]})
Traceback (most recent call last):
...
coaching_trials.pipeline.ConfigError: 1 problem(s) in the config (dict):
  - unknown key `analysis.metod`; allowed keys in [analysis]: adjust, baseline_variables, ...
"""

from __future__ import annotations

import base64
import hashlib
import json
import platform
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._audit import AUDIT_COLUMNS, audit_frame
from coaching_trials._errors import DataValidationError, FileFormatError, format_values
from coaching_trials._outdir import OutputFolder
from coaching_trials._results import ResultMixin

__all__ = [
    "AnalysisRun",
    "ConfigError",
    "DEFAULT_SEED",
    "check_table_path",
    "load_config",
    "run_analysis",
    "summarize_scores",
    "write_table",
]

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
ADJUST = ("holm", "hochberg", "bh", "bonferroni", "fixed_sequence", "none")
DIRECTIONS = (">=", ">", "<=", "<")
EVENT_IS = ("good", "bad")
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
            "missing_codes": _TEXT_MAP,
            "items": _TEXT_MAP,
            "encoding": _TEXT,
            "sep": _CHAR,
            "decimal": _TEXT,
            "skiprows": _INT,
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
_DESIGN_KEYS = ("immediate", "delayed", "baseline_wave", "endpoint_wave")


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


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {exc}"], str(path)) from None


def _resolve_path(value: str | Path, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path)


def _plain(value: Any) -> Any:
    """A JSON-ready deep copy (tuples -> lists, mappings -> dicts, paths -> strings)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _check_reader_options(data: Mapping[str, Any], problems: list[str]) -> None:
    """Values of the [data] options passed to the reader (their types are checked already)."""
    import codecs
    import re

    if data["encoding"] is not None:
        try:
            codecs.lookup(data["encoding"])
        except LookupError:
            problems.append(
                f"`data.encoding`: unknown encoding {data['encoding']!r}; e.g. 'utf-8', "
                "'utf-8-sig', 'cp1252', 'latin-1'."
            )
    if data["sep"] is not None and len(data["sep"]) != 1:
        problems.append(
            f"`data.sep` must be one character (e.g. ',', ';', '\\t'); got {data['sep']!r}."
        )
    if data["decimal"] is not None:
        _check_choice("data.decimal", data["decimal"], (".", ","), problems)
    if data["skiprows"] is not None and data["skiprows"] < 0:
        problems.append(f"`data.skiprows` must be >= 0; got {data['skiprows']}.")
    for iid, pattern in data["items"].items():
        if "{n}" in pattern:
            continue
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(
                f"`data.items.{iid}`: {pattern!r} is neither a pattern with {{n}} (e.g. "
                f"'{iid}_{{n}}') nor a regular expression ({exc})."
            )


def _default_outcomes(instruments: Sequence[Mapping[str, Any]]) -> list[str]:
    from coaching_trials.instruments.registry import get_instrument

    names: list[str] = []
    for entry in instruments:
        names.extend(get_instrument(entry["id"]).subscale_columns().values())
    return list(dict.fromkeys(names))


def _normalize(
    raw: Mapping[str, Any],
    base: Path,
    source: str,
    problems: list[str] | None = None,
    bad: frozenset[str] | set[str] = frozenset(),
) -> dict[str, Any]:
    """Check values beyond their types and fill the defaults; raise ConfigError if any problem.

    ``problems`` (the type problems found by :func:`_check_types`, whose keys are not in
    ``raw`` any more) are raised together with the value problems found here; ``bad`` names
    those keys, so that a key with a wrong type is not also reported as missing.
    """
    from coaching_trials.datasets import list_examples, load_example
    from coaching_trials.instruments.registry import get_instrument, list_instruments

    problems = [] if problems is None else list(problems)
    if "schema_version" in raw and raw["schema_version"] != SCHEMA_VERSION:
        problems.append(
            f"`schema_version` must be {SCHEMA_VERSION} (the only version); "
            f"got {raw['schema_version']!r}."
        )

    # [data]
    data = dict(raw.get("data", {}))
    has_file, has_example = "responses" in data, "example" in data
    example_design: Mapping[str, Any] = {}
    if has_file == has_example and not {"data", "data.responses", "data.example"} & set(bad):
        problems.append(
            "[data] needs exactly one of `data.responses` (a file) or `data.example` "
            f"(one of {', '.join(map(repr, list_examples()))})."
        )
    if has_example:
        _check_choice("data.example", data["example"], list_examples(), problems)
        if "participants" in data:
            problems.append(
                "`data.participants` cannot be combined with `data.example` (the example "
                "brings its own participants)."
            )
        if data["example"] in list_examples():
            example_design = load_example(data["example"]).design
    for key in ("responses", "participants"):
        if key in data:
            path = _resolve_path(data[key], base)
            if not path.is_file():
                problems.append(f"`data.{key}`: file not found: {path}")
    columns = {"subject": KEYS[0], "arm": KEYS[1], "wave": KEYS[2]}
    columns.update(data.get("columns", {}))
    rename = dict(data.get("rename", {}))
    sources = [columns["subject"], columns["arm"], columns["wave"], *rename]
    if len(set(sources)) != len(sources):
        problems.append(
            f"[data.columns] and [data.rename] name a column twice: {format_values(sources, 10)}."
        )
    targets = [*KEYS, *rename.values()]
    if len(set(targets)) != len(targets):
        problems.append(
            "[data.rename] must not map onto participant_id, arm, wave or the same name twice; "
            f"got {format_values(list(rename.values()), 10)}."
        )
    data_out = {
        "responses": str(data["responses"]) if has_file else None,
        "example": data.get("example"),
        "participants": str(data["participants"]) if "participants" in data else None,
        "sheet_name": data.get("sheet_name"),
        "columns": columns,
        "rename": rename,
        "missing_codes": dict(data.get("missing_codes", {})) or None,
        "items": dict(data.get("items", {})),
        **{k: data.get(k) for k in ("encoding", "sep", "decimal", "skiprows")},
    }
    _check_reader_options(data_out, problems)

    # [design]
    design = dict(raw.get("design", {}))
    for key in _DESIGN_KEYS:
        if key not in design:
            if key in example_design:
                design[key] = example_design[key]
            elif f"design.{key}" not in bad and "design" not in bad:
                problems.append(f"required key `design.{key}` is missing in [design].")
    if "followup_waves" not in design:
        design["followup_waves"] = list(example_design.get("followup_waves", ()))
    design["followup_waves"] = list(design["followup_waves"])
    if all(k in design for k in _DESIGN_KEYS):
        if design["immediate"] == design["delayed"]:
            problems.append("`design.immediate` and `design.delayed` must be different arms.")
        waves = [design["baseline_wave"], design["endpoint_wave"], *design["followup_waves"]]
        if len(set(waves)) != len(waves):
            problems.append(
                "the waves of [design] (baseline_wave, endpoint_wave, followup_waves) must be "
                f"distinct; got {waves}."
            )
    design_out = {k: design[k] for k in (*_DESIGN_KEYS, "followup_waves") if k in design}
    planned = design.get("planned_sessions")
    if planned is not None:
        if planned < 1:
            problems.append(f"`design.planned_sessions` must be >= 1; got {planned}.")
        if data_out["participants"] is None and data_out["example"] is None:
            problems.append(
                "`design.planned_sessions` needs a participants file (`data.participants`) "
                "with a `sessions_attended` column."
            )
    design_out["planned_sessions"] = planned

    # [[instruments]]
    known = list_instruments()["id"].tolist()
    instruments: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw.get("instruments", ())):
        iid = entry.get("id")
        where = f"instruments[{i}]"
        if iid is None and f"{where}.id" in bad:
            continue
        if iid not in known:
            _check_choice(f"{where}.id", iid, known, problems)
            continue
        if iid in seen:
            problems.append(f"`{where}.id`: instrument {iid!r} is listed twice.")
            continue
        seen.add(iid)
        inst = get_instrument(iid)
        metric = entry.get("metric", inst.default_metric)
        _check_choice(f"{where}.metric", metric, tuple(inst.metrics), problems)
        min_answered = entry.get("min_answered")
        if isinstance(min_answered, Mapping):
            for sub, k in min_answered.items():
                _check_choice(f"{where}.min_answered key", sub, tuple(inst.subscales), problems)
                if _is_int(k) and k < 1:
                    problems.append(f"`{where}.min_answered.{sub}` must be >= 1; got {k}.")
            min_answered = dict(min_answered)
        elif min_answered is not None and min_answered < 1:
            problems.append(f"`{where}.min_answered` must be >= 1; got {min_answered}.")
        instruments.append({"id": iid, "metric": metric, "min_answered": min_answered})
    for iid in data_out["items"]:
        if iid not in seen:
            problems.append(
                f"`data.items.{iid}`: {iid!r} is not an instrument of [[instruments]] "
                f"({', '.join(map(repr, sorted(seen))) or 'none'})."
            )

    # [analysis]
    analysis = dict(raw.get("analysis", {}))
    outcomes = list(analysis.get("outcomes", _default_outcomes(instruments)))
    primary = analysis.get("primary", outcomes[0] if outcomes else None)
    if primary is not None:
        outcomes = [primary, *(o for o in outcomes if o != primary)]
    if not outcomes:
        problems.append(
            "no outcomes: give `analysis.outcomes` (scored columns) or at least one "
            "[[instruments]] entry."
        )
    if len(set(outcomes)) != len(outcomes):
        problems.append(f"`analysis.outcomes` lists a column twice: {outcomes}.")
    method = analysis.get("method", "ancova")
    _check_choice("analysis.method", method, METHODS, problems)
    adjust = analysis.get("adjust", "holm")
    _check_choice("analysis.adjust", adjust, ADJUST, problems)
    conf_level = float(analysis.get("conf_level", 0.95))
    if not 0.0 < conf_level < 1.0:
        problems.append(f"`analysis.conf_level` must be in (0, 1); got {conf_level!r}.")
    seed = analysis.get("seed", DEFAULT_SEED)
    if seed < 0:
        problems.append(f"`analysis.seed` must be a non-negative integer; got {seed}.")
    n_boot = analysis.get("n_boot", DEFAULT_N_BOOT)
    if n_boot < 1:
        problems.append(f"`analysis.n_boot` must be a positive integer; got {n_boot}.")
    followups = design_out.get("followup_waves", [])
    nonrandomized = analysis.get("nonrandomized", bool(followups))
    if nonrandomized and not followups:
        problems.append(
            "`analysis.nonrandomized = true` needs follow-up waves after the endpoint "
            "(`design.followup_waves`)."
        )
    responders: list[dict[str, Any]] = []
    for i, entry in enumerate(analysis.get("responders", ())):
        where = f"analysis.responders[{i}]"
        direction = entry.get("direction", ">=")
        _check_choice(f"{where}.direction", direction, DIRECTIONS, problems)
        event_is = entry.get("event_is")
        if event_is is not None:
            _check_choice(f"{where}.event_is", event_is, EVENT_IS, problems)
        cut = entry.get("cutpoint")
        cuts = [
            float(c)
            for c in (cut if isinstance(cut, (list, tuple)) else [] if cut is None else [cut])
        ]
        responders.append(
            {
                "outcome": entry.get("outcome"),
                "cutpoint": cuts,
                "direction": direction,
                "event_is": event_is,
            }
        )
    analysis_out = {
        "outcomes": outcomes,
        "primary": primary,
        "method": method,
        "adjust": adjust,
        "covariates": list(analysis.get("covariates", ())),
        "conf_level": conf_level,
        "nonrandomized": bool(nonrandomized),
        "responders": responders,
        "seed": seed,
        "reliability": analysis.get("reliability", True),
        "n_boot": n_boot,
        "baseline_variables": (
            list(analysis["baseline_variables"]) if "baseline_variables" in analysis else None
        ),
    }

    # [report]
    report = dict(raw.get("report", {}))
    min_cell = report.get("min_cell", DEFAULT_MIN_CELL)
    if min_cell < 1:
        problems.append(f"`report.min_cell` must be a positive integer; got {min_cell}.")
    from coaching_trials.release.policy import POLICIES

    policy = report.get("policy", "suppress")
    _check_choice("report.policy", policy, POLICIES, problems)
    report_out = {
        "title": report.get("title", DEFAULT_TITLE),
        "min_cell": min_cell,
        "policy": policy,
        "figures": report.get("figures", True),
        "html": report.get("html", True),
    }

    decisions = _normalize_decisions(raw, analysis_out, problems)

    if problems:
        raise ConfigError(list(dict.fromkeys(problems)), source)
    return {
        "schema_version": SCHEMA_VERSION,
        "data": data_out,
        "design": design_out,
        "instruments": instruments,
        "analysis": analysis_out,
        "report": report_out,
        **decisions,
    }


def _normalize_decisions(
    raw: Mapping[str, Any], analysis: Mapping[str, Any], problems: list[str]
) -> dict[str, Any]:
    """[decision], [business_case], [evidence]: optional sections of the leadership report."""
    from coaching_trials.decision.benefit import PRIORS

    out: dict[str, Any] = {"decision": None, "business_case": None, "evidence": None}
    if "decision" in raw:
        decision = dict(raw["decision"])
        for prior in decision.get("priors", ()):
            _check_choice("decision.priors", prior, tuple(PRIORS), problems)
        out["decision"] = decision
    if "business_case" in raw:
        case = dict(raw["business_case"])
        index = case.get("responder", 0)
        if not analysis["responders"]:
            problems.append(
                "[business_case] needs a responder definition ([[analysis.responders]]): the "
                "model is driven by the trial's effect on the share above a burnout cut-point."
            )
        elif not 0 <= index < sum(len(r["cutpoint"]) for r in analysis["responders"]):
            problems.append(f"`business_case.responder` {index} is not a responder analysis.")
        for key in ("n_physicians", "cost_per_participant"):
            if key in case and _is_number(case[key]) and case[key] <= 0:
                problems.append(f"`business_case.{key}` must be positive; got {case[key]}.")
        out["business_case"] = case
    if "evidence" in raw:
        evidence = dict(raw["evidence"])
        _check_choice("evidence.method", evidence.get("method", "REML"), ("REML", "DL"), problems)
        _check_choice("evidence.test", evidence.get("test", "hksj"), ("z", "hksj"), problems)
        if evidence.get("outcome", analysis["primary"]) not in analysis["outcomes"]:
            problems.append(
                f"`evidence.outcome` must be one of the outcomes {analysis['outcomes']}; got "
                f"{evidence.get('outcome')!r}."
            )
        out["evidence"] = evidence
    return out


def _load(
    config: str | Path | Mapping[str, Any],
    base_dir: str | Path | None,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], Path, Path | None]:
    """(normalized config, folder for relative paths, config file or None)."""
    if isinstance(config, (str, Path)):
        path = Path(config).expanduser().resolve()
        raw: Mapping[str, Any] = _read_toml(path)
        base = Path(base_dir).resolve() if base_dir is not None else path.parent
        source = str(path)
    elif isinstance(config, Mapping):
        path, raw = None, config
        base = Path(base_dir if base_dir is not None else ".").resolve()
        source = "(dict)"
    else:
        raise TypeError(
            f"`config` must be a path to a TOML file or a dict; got {type(config).__name__}."
        )
    if overrides:
        raw = _apply_overrides(raw, overrides)
    problems: list[str] = []
    bad: set[str] = set()
    clean = _check_types(raw, "", "", problems, bad)
    return _normalize(clean, base, source, problems, bad), base, path


def _apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``raw`` with ``{"section.key": value}`` entries set (tables created)."""
    import copy

    if not isinstance(overrides, Mapping):
        raise TypeError(
            f"`overrides` must be a dict of 'section.key' -> value; got {type(overrides).__name__}."
        )
    out = copy.deepcopy(dict(raw))
    for dotted, value in overrides.items():
        parts = str(dotted).split(".")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, Mapping):
                child = {}
            node[part] = dict(child)
            node = node[part]
        node[parts[-1]] = value
    return out


def load_config(
    config: str | Path | Mapping[str, Any],
    *,
    base_dir: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Read and check an analysis config; return it with every default filled in.

    Parameters
    ----------
    config : path or dict
        A TOML file (see the module docstring for the schema) or a dict of the same shape.
    base_dir : path, optional
        Folder against which relative data paths resolve (default: the config file's folder,
        or the current directory for a dict).
    overrides : dict, optional
        ``{"section.key": value}`` entries replacing (or adding) keys of the config before it
        is checked, e.g. ``{"analysis.n_boot": 200}``.

    Returns
    -------
    dict
        The normalized config: every section and key present, defaults filled in, paths as
        written. This is what ``manifest.json`` records.

    Raises
    ------
    ConfigError
        Listing every problem at once: unknown keys (with the allowed ones), wrong types,
        values outside their choices, missing required keys, data files that do not exist.
    FileNotFoundError
        If the config file does not exist.
    """
    return _load(config, base_dir, overrides)[0]


# --------------------------------------------------------------------------------------------
# tables and files
# --------------------------------------------------------------------------------------------


#: File extensions :func:`write_table` writes ("" is CSV).
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".xlsx")


def check_table_path(path: str | Path) -> Path:
    """``path`` as a Path if :func:`write_table` can write its extension; else a ValueError.

    Examples
    --------
    >>> check_table_path("scores.xlsx").suffix
    '.xlsx'
    >>> check_table_path("scores.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: cannot write a table to 'scores.json': expected a file ending in .csv, ...
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ("", *TABLE_SUFFIXES):
        raise ValueError(
            f"cannot write a table to {str(path)!r}: expected a file ending in "
            f"{', '.join(TABLE_SUFFIXES[:-1])} or {TABLE_SUFFIXES[-1]}; got {path.suffix!r}."
        )
    return path


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table deterministically; the format follows the extension (default CSV).

    Floats are rounded to ``FLOAT_DIGITS`` decimals and lines end in ``\\n`` on every platform,
    so the same table always gives the same bytes. Extensions: ``.csv`` (or none), ``.tsv``,
    ``.parquet``, ``.xlsx``; any other is a ValueError (nothing is written). Text cells that
    a spreadsheet would run as a formula get a leading apostrophe in CSV, TSV and Excel
    (:mod:`coaching_trials._safe_text`).
    """
    from coaching_trials._safe_text import neutralize_frame

    path = check_table_path(path)
    frame = frame.round(FLOAT_DIGITS)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".xlsx", ""):
        frame = neutralize_frame(frame)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t", lineterminator="\n")
    else:
        frame.to_csv(path, index=False, lineterminator="\n")
    return path


def summarize_scores(
    scores: pd.DataFrame, outcomes: Sequence[str], *, by: Sequence[str] = ("wave", "arm")
) -> pd.DataFrame:
    """n, mean and SD of each outcome per group, one row per outcome x group (long format).

    Groups follow the order of the ``by`` columns (the categories of an ordered wave column,
    otherwise sorted); missing scores are not counted.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"wave": ["b", "b", "b"], "arm": ["x", "x", "y"], "s": [1.0, 3.0, 2.0]})
    >>> summarize_scores(df, ["s"])
      outcome wave arm  n  mean       sd
    0       s    b   x  2   2.0  1.414214
    1       s    b   y  1   2.0       NaN
    """
    long = scores.melt(id_vars=list(by), value_vars=list(outcomes), var_name="outcome")
    long["outcome"] = pd.Categorical(long["outcome"], categories=list(outcomes), ordered=True)
    table = (
        long.groupby(["outcome", *by], observed=True, sort=True)["value"]
        .agg(n="count", mean="mean", sd="std")
        .reset_index()
    )
    for col in ("outcome", *by):
        if isinstance(table[col].dtype, pd.CategoricalDtype):
            table[col] = table[col].astype(str)
    table["n"] = table["n"].astype("int64")
    return table


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, Any]:
    from coaching_trials import __version__

    deps: dict[str, str | None] = {}
    for name in DEPENDENCIES:
        try:
            deps[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            deps[name] = None
    return {
        "coaching_trials": __version__,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "dependencies": deps,
    }


class _FrameMap(Mapping[str, pd.DataFrame]):
    """A read-only mapping of tables that hands out copies."""

    __slots__ = ("_frames",)

    def __init__(self, frames: Mapping[str, pd.DataFrame]) -> None:
        self._frames = dict(frames)

    def __getitem__(self, key: str) -> pd.DataFrame:
        return self._frames[key].copy()

    def __iter__(self) -> Iterator[str]:
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)

    def __repr__(self) -> str:
        return f"<{len(self)} tables: {', '.join(self._frames)}>"


@dataclass(frozen=True, repr=False)
class AnalysisRun(ResultMixin):
    """What :func:`run_analysis` computed and wrote.

    Attributes
    ----------
    config : Mapping
        The normalized config (defaults filled in), as recorded in the manifest.
    tables : Mapping[str, pandas.DataFrame]
        Every full (analyst) table, keyed by file stem (``"effects"`` ->
        ``analyst/effects.csv``); each access returns a copy.
    paths : Mapping[str, pathlib.Path]
        Every file written, keyed by its path relative to ``out``: ``release/...`` (safe to
        share), ``analyst/...`` (confidential) and ``manifest.json``.
    manifest : Mapping
        The content of ``manifest.json``.
    notes : tuple of str
        Things left out of this run and why (e.g. figures that could not be drawn).
    out : pathlib.Path
        The output folder.
    """

    config: Mapping[str, Any]
    tables: Mapping[str, pd.DataFrame]
    paths: Mapping[str, Path]
    manifest: Mapping[str, Any]
    notes: tuple[str, ...] = ()
    out: Path = field(default_factory=Path)

    @property
    def _title(self) -> str:  # type: ignore[override]
        return f"{self.config['report']['title']}: files written to {self.out}"

    def to_frame(self) -> pd.DataFrame:
        """One row per file written: ``file, kind, rows, sha256`` (rows for tables only)."""
        hashes = self.manifest.get("outputs", {})
        rows = []
        for name in self.paths:
            stem, suffix = Path(name).stem, Path(name).suffix
            kind = {".csv": "table", ".png": "figure", ".html": "report", ".json": "manifest"}
            analyst = name.startswith("analyst/")
            table = self.tables.get(stem) if suffix == ".csv" and analyst else None
            rows.append(
                {
                    "file": name,
                    "kind": kind.get(suffix, "file"),
                    "rows": len(table) if table is not None else None,
                    "sha256": hashes.get(name),
                }
            )
        frame = pd.DataFrame(rows, columns=["file", "kind", "rows", "sha256"])
        return frame.astype({"rows": "Int64"})

    @property
    def effects(self) -> pd.DataFrame:
        """The randomized comparison (``effects.csv``; the fixed effects schema)."""
        return self.tables["effects"]


# --------------------------------------------------------------------------------------------
# the steps
# --------------------------------------------------------------------------------------------


def _load_data(
    cfg: Mapping[str, Any], base: Path
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, Any], list[dict[str, Any]]]:
    """Responses, participants, the input records for the manifest and audit entries."""
    data = cfg["data"]
    audit: list[dict[str, Any]] = []
    inputs: dict[str, Any] = {}
    if data["example"] is not None:
        from coaching_trials.datasets import load_example

        example = load_example(data["example"])
        responses, participants = example.responses, example.participants
        folder = resources.files("coaching_trials") / "data" / "sample"
        files = {}
        for name in ("responses.csv", "participants.csv"):
            files[f"coaching_trials/data/sample/{name}"] = hashlib.sha256(
                (folder / name).read_bytes()
            ).hexdigest()
        inputs["example"] = {"name": data["example"], "files": files}
        detail = f"example {data['example']!r} (synthetic)"
    else:
        responses, participants = None, None
        for key in ("responses", "participants"):
            if data[key] is None:
                continue
            path = _resolve_path(data[key], base)
            frame = _read_input(path, key, data)
            audit.extend(
                dict(record, step=f"{record['step']}:{key}") for record in frame.attrs["audit"]
            )
            inputs[key] = {"path": data[key], "sha256": _sha256(path)}
            if key == "responses":
                responses = frame
            else:
                participants = frame
        detail = f"file {data['responses']!r}"
        if responses is None:  # pragma: no cover - excluded by the config check
            raise ConfigError(["[data] names no responses file."], "(config)")
        subject = data["columns"]["subject"]
        if participants is not None and subject in participants.columns:
            from coaching_trials.io.ids import check_ids

            check_ids(
                responses[subject],
                participants[subject],
                column=subject,
                names=(
                    f"responses ({data['responses']})",
                    f"participants ({data['participants']})",
                ),
            )
    audit.append(
        dict(
            step="pipeline",
            reason="input",
            n_rows=len(responses),
            detail=f"{len(responses)} response rows from {detail}"
            + (f"; {len(participants)} participant rows" if participants is not None else ""),
        )
    )
    return responses, participants, inputs, audit


def _read_input(path: Path, key: str, data: Mapping[str, Any]) -> pd.DataFrame:
    """One input file under the config's reader options, its id column read as text."""
    from coaching_trials.io.readers import read_survey

    options = {k: data[k] for k in ("encoding", "sep", "decimal", "skiprows")}
    options.update(sheet_name=data["sheet_name"], missing_codes=data["missing_codes"])
    subject = data["columns"]["subject"]
    try:
        return read_survey(path, ids=subject, **options)
    except FileFormatError as exc:
        if "given in `ids=`" not in str(exc):
            raise
    # The id column is absent: read without it; _prepare then names every missing column.
    return read_survey(path, **options)


def _rename(
    frame: pd.DataFrame, mapping: Mapping[str, str], what: str, *, required: Sequence[str]
) -> pd.DataFrame:
    """Rename columns to the package's names, checking sources exist and nothing collides."""
    problems: list[str] = []
    for source in required:
        if source not in frame.columns:
            problems.append(
                f"{what}: column {source!r} (from [data.columns]) is missing; found "
                f"{format_values(frame.columns, 12)}."
            )
    present = {s: t for s, t in mapping.items() if s in frame.columns and s != t}
    for source, target in present.items():
        if target in frame.columns and target not in present:
            problems.append(
                f"{what}: cannot rename {source!r} to {target!r}: a column {target!r} already "
                "exists."
            )
    if problems:
        raise DataValidationError("\n".join(problems))
    return frame.rename(columns=present)


def _rename_note(renamed: Mapping[str, str]) -> str:
    """One line saying which of the file's columns appear under another name in messages."""
    pairs = ", ".join(f"{s!r} -> {t!r}" for s, t in renamed.items())
    return f"(the messages above use the config's names for columns of your file: {pairs})"


def _with_rename_note(exc: DataValidationError, renamed: Mapping[str, str]) -> Exception:
    """``exc`` with a note mapping renamed columns back to the file's names (if any)."""
    if not renamed:
        return exc
    return DataValidationError(f"{exc}\n{_rename_note(renamed)}", exc.failure_cases)


def _renamed_columns(cfg: Mapping[str, Any]) -> dict[str, str]:
    """The config's renames (file name -> package name) that change a name."""
    cols = cfg["data"]["columns"]
    mapping = {cols["subject"]: KEYS[0], cols["arm"]: KEYS[1], cols["wave"]: KEYS[2]}
    mapping.update(cfg["data"]["rename"])
    return {s: t for s, t in mapping.items() if s != t}


def _prepare(
    cfg: Mapping[str, Any],
    responses: pd.DataFrame,
    participants: pd.DataFrame | None,
    audit: list[dict[str, Any]],
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Rename, validate and order the waves of the responses."""
    from coaching_trials.io.validate import validate_responses

    data, design = cfg["data"], cfg["design"]
    cols = data["columns"]
    mapping = {cols["subject"]: KEYS[0], cols["arm"]: KEYS[1], cols["wave"]: KEYS[2]}
    mapping.update(data["rename"])
    missing = [s for s in data["rename"] if s not in responses.columns]
    if participants is not None:
        missing = [s for s in missing if s not in participants.columns]
    if missing:
        raise DataValidationError(
            f"[data.rename] names column(s) {format_values(missing, 10)} found in no input file."
        )
    original = responses
    responses = _rename(
        responses, mapping, "responses", required=[cols["subject"], cols["arm"], cols["wave"]]
    )
    if participants is not None:
        participants = _rename(participants, mapping, "participants", required=[cols["subject"]])
    renamed = {s: t for s, t in mapping.items() if s != t}
    if renamed:
        audit.append(
            dict(
                step="pipeline",
                reason="columns renamed",
                n_rows=0,
                detail=", ".join(f"{s} -> {t}" for s, t in renamed.items()),
            )
        )
    waves = [design["baseline_wave"], design["endpoint_wave"], *design["followup_waves"]]
    # Validate under the file's own names of the design columns, so that every message names a
    # column the user can find in the file; only the [data.rename] columns are renamed here.
    items = {s: t for s, t in data["rename"].items() if s in original.columns and s != t}
    try:
        validate_responses(
            original.rename(columns=items),
            subject=cols["subject"],
            arm=cols["arm"],
            wave=cols["wave"],
            arms=(design["immediate"], design["delayed"]),
            waves=waves,
            instruments=[entry["id"] for entry in cfg["instruments"]],
            items=data["items"] or None,
            missing_codes=data["missing_codes"],
            raise_on_error=True,
        )
    except DataValidationError as exc:
        raise _with_rename_note(exc, items) from None
    responses = responses.copy()
    responses[KEYS[2]] = pd.Categorical(
        responses[KEYS[2]].astype("string"), categories=waves, ordered=True
    )
    planned = design.get("planned_sessions")
    if planned is not None and participants is not None:
        from coaching_trials.io.validate import check_sessions

        if SESSIONS not in participants.columns:
            raise DataValidationError(
                f"`design.planned_sessions` is set but the participants have no {SESSIONS!r} "
                f"column; found {format_values(participants.columns, 12)}."
            )
        audit.extend(check_sessions(participants, attended=SESSIONS, planned=planned))
    return responses, participants


def _score(
    cfg: Mapping[str, Any], responses: pd.DataFrame, audit: list[dict[str, Any]]
) -> pd.DataFrame:
    from coaching_trials.instruments.scoring import score

    scored = responses
    for entry in cfg["instruments"]:
        scored = score(
            scored,
            entry["id"],
            metric=entry["metric"],
            min_answered=entry["min_answered"],
            items=cfg["data"]["items"].get(entry["id"]),
            missing_codes=cfg["data"]["missing_codes"],
        )
        records = scored.attrs.get("audit", ())
        for record in records:
            if record.get("step") != f"score:{entry['id']}":
                continue
            audit.append(
                dict(
                    step=record["step"],
                    reason=record["reason"],
                    n_rows=int(record["n_rows"]),
                    detail=(
                        f"{record['subscale']}: {record['detail']}"
                        if record.get("subscale")
                        else record["detail"]
                    ),
                )
            )
    problems = []
    for name in cfg["analysis"]["outcomes"]:
        if name not in scored.columns:
            problems.append(f"{name!r} (not a column)")
        elif not pd.api.types.is_numeric_dtype(scored[name]) or pd.api.types.is_bool_dtype(
            scored[name]
        ):
            problems.append(f"{name!r} (not numeric: {scored[name].dtype})")
    if problems:
        numeric = [
            c
            for c in scored.columns
            if pd.api.types.is_float_dtype(scored[c]) and c not in responses.columns
        ]
        raise ConfigError(
            [
                f"`analysis.outcomes`: {', '.join(problems)}; scored outcome columns available: "
                f"{format_values(numeric, 30)}."
            ],
            "(the run)",
        )
    scored.attrs.pop("audit", None)
    return scored


def _outcome_subscale(cfg: Mapping[str, Any], outcome: str) -> Any:
    from coaching_trials.instruments.registry import get_instrument

    for entry in cfg["instruments"]:
        inst = get_instrument(entry["id"])
        for sub_id, column in inst.subscale_columns().items():
            if column == outcome:
                return inst.subscales[sub_id]
    return None


def _responders(
    cfg: Mapping[str, Any], trial: Any, audit: list[dict[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, float, Any]]]:
    from coaching_trials.analysis.responders import responders

    design, analysis = cfg["design"], cfg["analysis"]
    b, e = design["baseline_wave"], design["endpoint_wave"]
    effects, proportions, results = [], [], []
    for spec in analysis["responders"]:
        name = spec["outcome"]
        if name not in trial.responses.columns:
            raise ValueError(f"`analysis.responders`: outcome {name!r} is not a scored column.")
        event_is = spec["event_is"]
        if event_is is None:
            sub = _outcome_subscale(cfg, name)
            higher_worse = sub is not None and sub.higher_is == "worse"
            upward = spec["direction"] in (">=", ">")
            event_is = "bad" if higher_worse == upward else "good"
        wide = trial.wide(name, waves=[b, e])
        for cut in spec["cutpoint"]:
            res = responders(
                wide,
                outcome=f"{name}__{e}",
                arm=KEYS[1],
                treated=design["immediate"],
                cutpoint=cut,
                direction=spec["direction"],
                baseline=f"{name}__{b}",
                event_is=event_is,
                conf_level=analysis["conf_level"],
            )
            event = f"{name} {spec['direction']} {cut:g} at {e}"
            rows = res.to_frame()
            rows["outcome"] = name
            rows["wave"] = e
            rows["estimand"] = rows["estimand"].str.replace(
                f"proportion with {res.event}", f"proportion with {event}", regex=False
            )
            effects.append(rows)
            results.append((name, cut, res))
            props = res.proportions
            props.insert(0, "event", event)
            props.insert(0, "outcome", name)
            props["event_is"] = event_is
            proportions.append(props)
            for record in res.audit.to_dict("records"):
                audit.append(
                    dict(
                        step=f"responders[{name} {spec['direction']} {cut:g}]",
                        reason=str(record["reason"]).replace(f"{name}__{e}", f"{name} at {e}"),
                        n_rows=int(record["n_rows"]),
                        detail=f"per-participant table sorted by id: {record['detail']}",
                    )
                )
    return (
        pd.concat(effects, ignore_index=True),
        pd.concat(proportions, ignore_index=True),
        results,
    )


def _reliability(cfg: Mapping[str, Any], responses: pd.DataFrame) -> pd.DataFrame | None:
    from coaching_trials.instruments.registry import get_instrument
    from coaching_trials.instruments.reliability import reliability

    analysis = cfg["analysis"]
    ids = [e["id"] for e in cfg["instruments"] if len(get_instrument(e["id"]).items) > 1]
    if not analysis["reliability"] or not ids:
        return None
    tables = [
        reliability(
            responses,
            iid,
            by=KEYS[2],
            n_boot=analysis["n_boot"],
            seed=analysis["seed"],
            conf_level=analysis["conf_level"],
        )
        for iid in ids
    ]
    return pd.concat(tables, ignore_index=True)


def _audit_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame[list(AUDIT_COLUMNS)].to_dict("records") if len(frame) else []


def _analyse(
    cfg: Mapping[str, Any],
    responses: pd.DataFrame,
    participants: pd.DataFrame | None,
    audit: list[dict[str, Any]],
) -> tuple[dict[str, pd.DataFrame], Any, dict[str, Any]]:
    """Every table of the run (in the order they are written), the trial and result objects."""
    from coaching_trials.design.delayed import DelayedInterventionTrial

    design, analysis = cfg["design"], cfg["analysis"]
    scored = _score(cfg, responses, audit)
    score_cols = [c for c in scored.columns if c not in responses.columns]
    outcomes = analysis["outcomes"]
    trial = DelayedInterventionTrial(
        scored,
        subject=KEYS[0],
        arm=KEYS[1],
        wave=KEYS[2],
        immediate=design["immediate"],
        delayed=design["delayed"],
        baseline_wave=design["baseline_wave"],
        endpoint_wave=design["endpoint_wave"],
        followup_waves=tuple(design["followup_waves"]),
        participants=participants,
    )
    audit.extend(_audit_rows(trial.audit))
    numeric = [
        c for c in dict.fromkeys([*outcomes, *score_cols]) if pd.api.types.is_float_dtype(scored[c])
    ]
    extras: dict[str, Any] = {}
    tables: dict[str, pd.DataFrame] = {
        "scores": scored[[*KEYS, *(c for c in score_cols if c not in KEYS)]],
        "summary": summarize_scores(scored, numeric, by=(KEYS[2], KEYS[1])),
    }
    from coaching_trials.io.missing import missingness

    item_cols = [c for c in responses.columns if c not in KEYS]
    tables["missingness"] = missingness(scored, wave=KEYS[2], columns=item_cols)
    rel = _reliability(cfg, responses)
    if rel is not None:
        tables["reliability"] = rel
    primary = analysis["primary"]
    baseline = trial.baseline_table(analysis["baseline_variables"])
    comparison = trial.compare(
        outcomes,
        method=analysis["method"],
        adjust=None if analysis["adjust"] == "none" else analysis["adjust"],
        primary=primary,
        covariates=tuple(analysis["covariates"]),
        conf_level=analysis["conf_level"],
    )
    audit.extend(_audit_rows(comparison.audit))
    extras["comparison"], extras["baseline"] = comparison, baseline
    tables.update(
        {
            "flow": trial.flow(primary),
            "baseline_table": baseline.table,
            "baseline_table_formatted": baseline.formatted,
            "effects": comparison.effects,
            "descriptives": comparison.descriptives,
            "standardized": comparison.standardized,
        }
    )
    if analysis["nonrandomized"]:
        level = analysis["conf_level"]
        parts = [
            trial.delayed_arm_prepost(outcomes, conf_level=level),
            trial.pooled_prepost(outcomes, conf_level=level),
            trial.durability(outcomes, conf_level=level),
        ]
        for part in parts:
            audit.extend(_audit_rows(part.audit))
        tables["nonrandomized"] = pd.concat([p.effects for p in parts], ignore_index=True)
    if analysis["responders"]:
        tables["responders"], tables["responder_proportions"], fitted = _responders(
            cfg, trial, audit
        )
        extras["responders"] = fitted
    return tables, trial, extras


def _manifest(
    cfg: Mapping[str, Any],
    config_path: Path | None,
    inputs: Mapping[str, Any],
    outputs: Mapping[str, str],
    notes: Sequence[str],
) -> dict[str, Any]:
    return {
        "manifest_version": 1,
        "config": _plain(cfg),
        "config_file": (
            None
            if config_path is None
            else {"name": config_path.name, "sha256": _sha256(config_path)}
        ),
        "inputs": _plain(inputs),
        "outputs": dict(sorted(outputs.items())),
        "seed": cfg["analysis"]["seed"],
        "versions": _versions(),
        "notes": list(notes),
    }


def run_analysis(
    config: str | Path | Mapping[str, Any],
    *,
    out: str | Path,
    base_dir: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    force: bool = False,
) -> AnalysisRun:
    """Run a pre-specified delayed-intervention trial analysis end to end.

    Parameters
    ----------
    config : path or dict
        The analysis plan: a TOML file or a dict with the schema of this module's docstring.
    out : path, keyword-only
        Output folder. It is built beside the target and swapped into place when complete,
        so it never mixes two runs and a killed run leaves the previous folder as it was. A
        non-empty folder that this tool did not write is refused unless ``force``.
    base_dir : path, optional
        Folder for relative data paths (default: the config file's folder; the current
        directory for a dict).
    overrides : dict, optional
        ``{"section.key": value}`` entries replacing keys of the config before it is checked
        (recorded in the manifest), e.g. ``{"analysis.n_boot": 200}``.
    force : bool, default False
        Replace an output folder that this tool did not write.

    Returns
    -------
    AnalysisRun
        ``tables`` (each table written), ``paths`` (every file written), ``manifest`` and
        ``notes``.

    Raises
    ------
    ConfigError
        The config breaks the schema (every problem listed).
    DataValidationError
        The responses break the design or the instruments' rules (every problem listed, from
        :func:`coaching_trials.validate_responses` and the trial design).
    FileNotFoundError
        The config file does not exist.

    Notes
    -----
    The folder has two parts. ``release/`` is safe to share: ``report.html``, the released
    tables (``tables/*.csv``) and ``figures/*.png``, all drawn from one release step
    (:func:`coaching_trials.release`, policy ``report.policy``) that sees every published number
    at once. ``analyst/`` is confidential: the full tables, ``scores.csv`` with participant ids,
    ``audit.csv`` and ``disclosure_log.csv``. Each part has a README; ``manifest.json`` lists
    every file with its part and hash. Identifying Table 1 variables are refused before
    anything is written.

    Steps, in order: read the data (:func:`coaching_trials.read_survey` or the example),
    rename the design columns to ``participant_id``, ``arm`` and ``wave``, validate
    (:func:`coaching_trials.validate_responses`: arms, waves, duplicates, item ranges), score
    each instrument (:func:`coaching_trials.score`), build the
    :class:`~coaching_trials.DelayedInterventionTrial`, then write

    - ``scores.csv`` (design columns and every score), ``summary.csv`` (n, mean, SD per
      outcome, wave and arm), ``reliability.csv`` (alpha and omega per subscale and wave,
      bootstrap seeded with ``analysis.seed``);
    - ``flow.csv`` (CONSORT counts), ``baseline_table.csv`` (tidy Table 1) and
      ``baseline_table_formatted.csv``;
    - ``effects.csv`` (the randomized comparison in the fixed effects schema),
      ``descriptives.csv``, ``standardized.csv``;
    - ``nonrandomized.csv`` (delayed-arm pre/post, pooled pre/post, durability), when enabled;
    - ``responders.csv`` and ``responder_proportions.csv``, when responders are configured;
    - ``audit.csv``: every exclusion, proration and rename with its reason;
    - figures (``figures/*.png``) and ``report.html`` when the plotting and report layers
      are available, else a note saying why they were left out;
    - ``manifest.json``: the normalized config, the SHA-256 of the config, of every input and
      of every output file, the seed and the versions of Python, the package and its
      dependencies. It holds no time stamp and no absolute path, so two runs of the same
      config give byte-identical output folders.

    Each table comes from the package function named above, so its numbers are validated
    where that function is (see their Notes); ``tests/test_pipeline.py`` checks that the
    pipeline's tables equal direct calls, that outputs are byte-identical across runs and
    that the manifest hashes match the files.

    Examples
    --------
    >>> import tempfile
    >>> from coaching_trials.pipeline import run_analysis
    >>> plan = {"data": {"example": "delayed_intervention"},
    ...         "instruments": [{"id": "pfi"}],
    ...         "analysis": {"outcomes": ["pfi_burnout"], "reliability": False},
    ...         "report": {"figures": False}}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     run = run_analysis(plan, out=folder)
    >>> run.effects[["outcome", "wave", "estimand"]]
           outcome    wave                                     estimand
    0  pfi_burnout  month3  randomized: immediate vs delayed at month3
    >>> "manifest.json" in run.paths and "release/report.html" in run.paths
    True
    >>> sorted({name.split("/")[0] for name in run.paths})
    ['analyst', 'manifest.json', 'release']
    """
    cfg, base, config_path = _load(config, base_dir, overrides)
    inputs_used = [
        _resolve_path(cfg["data"][key], base)
        for key in ("responses", "participants")
        if cfg["data"].get(key)
    ]
    protect = [*inputs_used, *([config_path] if config_path is not None else [])]
    folder = OutputFolder(out, force=force, protect=protect)  # refused before any work
    try:
        responses, participants, inputs, audit = _load_data(cfg, base)
        responses, participants = _prepare(cfg, responses, participants, audit)
        try:
            tables, trial, extras = _analyse(cfg, responses, participants, audit)
        except DataValidationError as exc:  # e.g. the design's checks of the participants
            raise _with_rename_note(exc, _renamed_columns(cfg)) from None
        tables["audit"] = audit_frame(audit)
        released = _release(cfg, tables, trial, extras)
        from coaching_trials.report.html import trial_facts

        staged = _write(
            cfg, tables, released, trial_facts(trial), folder.staging, extras.get("decision", {})
        )
        notes = staged.pop("__notes__")
        outputs = {name: _sha256(folder.staging / name) for name in staged}
        manifest = _manifest(cfg, config_path, inputs, outputs, notes)
        manifest["overrides"] = _plain(dict(overrides or {}))
        manifest["parts"] = {
            "release": sorted(n for n in outputs if n.startswith("release/")),
            "analyst": sorted(n for n in outputs if n.startswith("analyst/")),
        }
        (folder.staging / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False) + "\n",
            encoding="utf-8",
        )
        target = folder.commit()
    except BaseException:
        folder.abort()
        raise
    paths = {name: target / name for name in [*outputs, "manifest.json"]}
    return AnalysisRun(
        config=MappingProxyType(cfg),
        tables=_FrameMap(tables),
        paths=MappingProxyType(paths),
        manifest=MappingProxyType(manifest),
        notes=tuple(notes),
        out=target,
    )


RELEASE_README = """# Safe to share

Everything in this folder passed one disclosure-control step (coaching_trials.release) that
saw every published number at once: {policy}. Counts that could single out participants are
shown as `[hidden]`, together with every statistic of those people and every number from which
they could be worked out. No participant identifier is in these files.

- `report.html`: the self-contained report for leadership (no scripts, no external links).
- `tables/*.csv`: the released tables the report and figures were drawn from.
- `figures/*.png`: figures drawn from the released tables.

Share these files as they are; do not add numbers from the `analyst/` folder.
"""

ANALYST_README = """# CONFIDENTIAL: for the analyst only

This folder holds the full, unsuppressed tables of the run, participant-level scores with
participant ids (`scores.csv`), the audit of every exclusion and transformation (`audit.csv`)
and the disclosure log (`disclosure_log.csv`: which released cell was hidden or rounded, by
which rule, and the range a reader could still work out). Do not share these files; share the
`release/` folder instead.
"""


def _release(
    cfg: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    trial: Any,
    extras: dict[str, Any],
) -> Any:
    """The tables to publish, released jointly (identifiers checked first)."""
    from coaching_trials.report.publish import decision_tables, publish_trial, shared_tables

    analysis, report = cfg["analysis"], cfg["report"]
    shared = shared_tables(
        trial,
        outcomes=analysis["outcomes"],
        primary=analysis["primary"],
        method=analysis["method"],
        adjust=None if analysis["adjust"] == "none" else analysis["adjust"],
        conf_level=analysis["conf_level"],
        covariates=analysis["covariates"],
        nonrandomized=False,
        min_cell=report["min_cell"],
        comparison=extras["comparison"],
        baseline=extras["baseline"],
    )
    for name in ("nonrandomized", "responders", "responder_proportions", "reliability"):
        if name in tables:
            shared[name] = tables[name]
    shared["summary"] = tables["summary"]
    business = cfg.get("business_case")
    if business is not None and "burnout_prevalence" not in business and analysis["responders"]:
        business = dict(business, burnout_prevalence=_trial_prevalence(cfg, tables, business))
    decision, results = decision_tables(
        tables["effects"],
        [res for _, _, res in extras.get("responders", ())],
        decision=cfg.get("decision"),
        business_case=business,
        evidence=cfg.get("evidence"),
        primary=analysis["primary"],
        seed=analysis["seed"],
        conf_level=analysis["conf_level"],
    )
    shared.update(decision)
    extras["decision"] = results
    return publish_trial(
        trial,
        shared,
        primary=analysis["primary"],
        method=analysis["method"],
        covariates=analysis["covariates"],
        responders=analysis["responders"],
        policy=report["policy"],
        min_cell=report["min_cell"],
        declared=analysis["baseline_variables"],
    )


def _trial_prevalence(
    cfg: Mapping[str, Any], tables: Mapping[str, pd.DataFrame], business: Mapping[str, Any]
) -> dict[str, Any]:
    """The business case's burnout prevalence from the trial itself: the share of participants
    at baseline on the burnout side of the responder cut-point, with its Wilson interval."""
    from coaching_trials.analysis.responders import wilson_interval

    specs = [(s, cut) for s in cfg["analysis"]["responders"] for cut in s["cutpoint"]]
    spec, cut = specs[int(business.get("responder", 0))]
    scores = tables["scores"]
    base = scores[scores[KEYS[2]].astype(str) == str(cfg["design"]["baseline_wave"])]
    x = pd.to_numeric(base[spec["outcome"]], errors="coerce").dropna().to_numpy()
    ops = {">=": x >= cut, ">": x > cut, "<=": x <= cut, "<": x < cut}
    events, n = int(ops[spec["direction"]].sum()), int(x.size)
    low, high = wilson_interval(events, n, cfg["analysis"]["conf_level"])
    return {
        "value": events / n,
        "low": float(np.atleast_1d(low)[0]),
        "high": float(np.atleast_1d(high)[0]),
        "source": f"trial: share at {cfg['design']['baseline_wave']} with {spec['outcome']} "
        f"{spec['direction']} {cut:g} (n={n})",
    }


def _write(
    cfg: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    released: Any,
    facts: Mapping[str, Any],
    root: Path,
    results: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write both parts into ``root``; returns relative path -> path (and ``__notes__``)."""
    written: dict[str, Any] = {}

    def put(name: str, frame: pd.DataFrame) -> None:
        write_table(frame, root / name)
        written[name] = root / name

    for stem, frame in tables.items():
        put(f"analyst/{stem}.csv", frame)
    put("analyst/disclosure_log.csv", released.log)
    for stem, frame in released.tables.items():
        put(f"release/tables/{stem}.csv", frame)
    (root / "analyst" / "README.md").write_text(ANALYST_README, encoding="utf-8")
    (root / "release" / "README.md").write_text(
        RELEASE_README.format(policy=released.policy.describe()), encoding="utf-8"
    )
    written["analyst/README.md"] = root / "analyst" / "README.md"
    written["release/README.md"] = root / "release" / "README.md"
    extra, notes = _figures_and_report(cfg, released, facts, root / "release", results or {})
    for name, path in extra.items():
        written[f"release/{name}"] = path
    written["__notes__"] = notes
    return written


def _slug(text: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)
    return keep.strip("_") or "figure"


def _save(ax: Any, path: Path) -> Path:
    """Save the figure of ``ax`` as a PNG without metadata (same bytes for the same input)."""
    import matplotlib.pyplot as plt

    fig = ax.figure
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=FIGURE_DPI, metadata={"Software": None})
    finally:
        plt.close(fig)
    return path


def _responder_view(released: Any, event: str) -> Any:
    """A responders result-like object from the RELEASED tables (hidden numbers as NaN)."""
    from types import SimpleNamespace

    from coaching_trials.release import numeric_view

    props = numeric_view(released.tables["responder_proportions"])
    props = props[props["event"] == event].reset_index(drop=True)
    hidden = props[["n", "events"]].isna().any(axis=1)
    props.loc[hidden, ["proportion", "conf_low", "conf_high"]] = float("nan")
    props["n"] = props["n"].fillna(0)
    props["events"] = props["events"].fillna(0)
    rows = numeric_view(released.tables["responders"])
    rd = rows[
        (rows["analysis"] == "risk_difference") & rows["estimand"].str.contains(event, regex=False)
    ]
    rd = rd.iloc[0] if len(rd) else None
    arms = list(props["arm"])
    return SimpleNamespace(
        proportions=props,
        estimate=float("nan") if rd is None else rd["estimate"],
        conf_low=float("nan") if rd is None else rd["conf_low"],
        conf_high=float("nan") if rd is None else rd["conf_high"],
        conf_level=cfg_level(rows),
        treated=arms[0] if arms else "",
        control=arms[1] if len(arms) > 1 else "",
        event=event,
        nnt_label=None,
        nnt=float("nan"),
    )


def cfg_level(rows: pd.DataFrame) -> float:
    levels = pd.to_numeric(rows.get("conf_level", pd.Series([0.95])), errors="coerce").dropna()
    return float(levels.iloc[0]) if len(levels) else 0.95


def _figures(
    cfg: Mapping[str, Any], released: Any, out: Path, results: Mapping[str, Any]
) -> dict[str, Path]:
    """Draw the figures from the RELEASED tables into ``out/figures``."""

    from coaching_trials import plots
    from coaching_trials.release import numeric_view
    from coaching_trials.report._figures import clean_rc

    analysis, min_cell = cfg["analysis"], cfg["report"]["min_cell"]
    design = cfg["design"]
    tables = released.tables
    folder = out / "figures"
    written: dict[str, Path] = {}

    def keep(name: str, ax: Any) -> None:
        written[f"figures/{name}.png"] = _save(ax, folder / f"{name}.png")

    def labelled(frame: pd.DataFrame) -> pd.DataFrame:
        """Rows whose estimate the release hid are left out of the figure (the table beside
        it marks them hidden); the plot names outcomes from the instrument registry."""
        return frame[frame["estimate"].notna()]

    crossover = {design["immediate"]: (design["baseline_wave"], design["endpoint_wave"])}
    if design["followup_waves"]:
        crossover[design["delayed"]] = (design["endpoint_wave"], design["followup_waves"][0])
    with clean_rc(_FIGURE_RC):
        keep("consort", plots.plot_consort(tables["flow"], min_cell=min_cell))
        for outcome in analysis["outcomes"]:
            ax = plots.plot_trajectories(
                tables["trajectories"],
                outcome=outcome,
                conf_level=analysis["conf_level"],
                crossover=crossover,
            )
            keep(f"trajectory_{_slug(outcome)}", ax)
        effects = numeric_view(tables["effects"])
        keep("forest", plots.plot_forest(labelled(effects), min_cell=min_cell))
        if "nonrandomized" in tables:
            nonrandomized = numeric_view(tables["nonrandomized"])
            keep(
                "forest_nonrandomized",
                plots.plot_forest(labelled(nonrandomized), min_cell=min_cell),
            )
        ax = plots.plot_percent_change(
            numeric_view(tables["descriptives"]),
            outcomes=analysis["outcomes"],
            min_cell=min_cell,
            end=design["endpoint_wave"],
        )
        keep("percent_change", ax)
        if "responder_proportions" in tables:
            events = pd.unique(tables["responder_proportions"]["event"])
            for event in events:
                name = _slug(str(event).replace(">=", "ge").replace("<=", "le"))
                view = _responder_view(released, str(event))
                keep(f"responders_{name}", plots.plot_responders(view, min_cell=min_cell))
        _decision_figures(released, results, analysis["primary"], keep)
    return written


def _decision_figures(
    released: Any, results: Mapping[str, Any], primary: str, keep: Callable[[str, Any], None]
) -> None:
    """Decision figures, drawn only when their released table hides nothing (the figure then
    shows exactly the released numbers)."""
    import coaching_trials as ct
    from coaching_trials.release import is_hidden
    from coaching_trials.report.publish import OUR_TRIAL

    def clean(name: str, outcome: str | None = None) -> bool:
        frame = released.tables.get(name)
        if frame is not None and outcome is not None:
            frame = frame[frame["outcome"] == outcome]
        return frame is not None and not frame.map(is_hidden).to_numpy().any()

    if "benefit" in results and clean("benefit", primary):
        keep("posterior", ct.plot_posterior(results["benefit"], outcome=primary))
    if "business_case" in results and clean("business_case"):
        keep("tornado", ct.plot_tornado(results["business_case"]))
    if "evidence" in results and clean("evidence"):
        keep("meta_forest", ct.plot_meta_forest(results["evidence"], highlight=OUR_TRIAL))


def _figures_and_report(
    cfg: Mapping[str, Any],
    released: Any,
    facts: Mapping[str, Any],
    out: Path,
    results: Mapping[str, Any],
) -> tuple[dict[str, Path], list[str]]:
    """Figures and the HTML report, from the released tables only."""
    report, analysis = cfg["report"], cfg["analysis"]
    written: dict[str, Path] = {}
    notes: list[str] = []
    if report["figures"]:
        try:
            written.update(_figures(cfg, released, out, results))
        except ImportError as exc:
            notes.append(f"figures not drawn: the plotting layer is unavailable ({exc}).")
    if not report["html"]:
        return written, notes
    from coaching_trials.report.html import REPORT_SECTIONS, _example_synthetic, report_meta
    from coaching_trials.report.render import render_report

    include = [s for s in REPORT_SECTIONS if s != "nonrandomized" or analysis["nonrandomized"]]
    options = {
        "title": report["title"],
        "outcomes": ", ".join(analysis["outcomes"]),
        "primary": analysis["primary"],
        "method": analysis["method"],
        "adjust": analysis["adjust"],
        "conf_level": analysis["conf_level"],
        "policy": report["policy"],
        "min_cell": report["min_cell"],
        "covariates": ", ".join(analysis["covariates"]),
    }
    meta = report_meta(
        facts,
        title=report["title"],
        outcomes=analysis["outcomes"],
        primary=analysis["primary"],
        method=analysis["method"],
        adjust=None if analysis["adjust"] == "none" else analysis["adjust"],
        conf_level=analysis["conf_level"],
        covariates=analysis["covariates"],
        include=include,
        released_flow=released.tables["flow"],
        synthetic=_example_synthetic(cfg),
        options=options,
    )
    # the report embeds the figures drawn above (from the same released tables)
    figures: dict[str, str] = {}
    names = {
        "consort": "consort",
        "forest": "forest",
        "forest_nonrandomized": "forest_nonrandomized",
        "percent_change": "percent_change",
        "posterior": "posterior",
        "tornado": "tornado",
        "meta_forest": "meta_forest",
    }
    names.update({f"trajectory:{o}": f"trajectory_{_slug(o)}" for o in analysis["outcomes"]})
    names.update(
        {
            f"responders:{n}": n.removeprefix("figures/").removesuffix(".png")
            for n in written
            if n.startswith("figures/responders_")
        }
    )
    for key, stem in names.items():
        path = written.get(f"figures/{stem}.png")
        if path is not None:
            data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
            figures[key] = f"data:image/png;base64,{data}"
    page = render_report(released, meta, figures)
    path = out / "report.html"
    path.write_bytes(page.encode("utf-8"))
    written["report.html"] = path
    return written, notes
