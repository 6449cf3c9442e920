"""The sections of an analysis config as typed records, each checking its own values.

The types of every key are checked first, against :data:`~._schema.SCHEMA`; what is left here
is what a type cannot say: choices, ranges, files that must exist, and the rules that tie one
section to another (a ``planned_sessions`` needs a participants file, the default outcomes come
from the instruments). Each record is built by its ``parse`` class method, which appends every
problem it finds to one shared list and never raises, so that :func:`~._config.load_config`
reports the problems of all sections at once. ``to_dict()`` gives the plain, JSON-ready form
that :func:`~coaching_trials.pipeline.load_config` returns and ``manifest.json`` records; its
keys and their order are the config format's and do not change.

==================  =========================  ============================================
record              section                    ties to
==================  =========================  ============================================
:class:`DataSection`        ``[data]``
:class:`DesignSection`      ``[design]``       the example's design; a participants file;
                                               the waves of ``data.events``/``data.waves``
:class:`InstrumentEntry`    ``[[instruments]]``  ``data.items``
:class:`AnalysisSection`    ``[analysis]``     the instruments' scores; follow-up waves
:class:`ResponderEntry`     ``[[analysis.responders]]``
:class:`ReportSection`      ``[report]``
:class:`DecisionSections`   ``[decision]``, ``[business_case]``, ``[evidence]``  the analysis
==================  =========================  ============================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from coaching_trials._errors import format_values
from coaching_trials.pipeline._schema import (
    ADJUST,
    CHECKBOXES,
    DEFAULT_MIN_CELL,
    DEFAULT_N_BOOT,
    DEFAULT_SEED,
    DEFAULT_TITLE,
    DIRECTIONS,
    EVENT_IS,
    KEYS,
    METHODS,
    READERS,
    REPEATING,
    VALUES,
    _check_choice,
    _is_int,
    _is_number,
)

__all__ = [
    "AnalysisSection",
    "DataSection",
    "DecisionSections",
    "DesignSection",
    "InstrumentEntry",
    "ReportSection",
    "ResponderEntry",
    "input_paths",
    "parse_instruments",
]

_DESIGN_KEYS = ("immediate", "delayed", "baseline_wave", "endpoint_wave")


def _plain_value(value: Any) -> Any:
    """A fresh copy of a field's value: records as dicts, lists and dicts copied."""
    if isinstance(value, _Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain_value(v) for k, v in value.items()}
    return value


class _Record:
    """A section record: ``to_dict()`` lists its fields in declaration order."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain_value(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# [data]
# --------------------------------------------------------------------------------------------


#: [data] keys that only one reader (or some readers) take; the others are an error.
_READER_ONLY = {
    "example": ("survey",),
    "responses": ("survey", "redcap"),
    "dictionary": ("redcap",),
    "events": ("redcap",),
    "record_id": ("redcap",),
    "repeating": ("redcap",),
    "values": ("redcap",),
    "checkboxes": ("redcap",),
    "waves": ("qualtrics",),
    "subject_from": ("qualtrics",),
}
#: [data] keys passed to read_survey: they apply to the responses under reader = "survey" and
#: to a participants file under any reader (``encoding`` also to Qualtrics exports).
_SURVEY_OPTIONS = ("sheet_name", "encoding", "sep", "decimal", "skiprows")


@dataclass(frozen=True)
class DataSection(_Record):
    """``[data]``: where the data come from, how to read them, what the columns are called."""

    responses: str | None
    example: str | None
    participants: str | None
    sheet_name: str | int | None
    columns: dict[str, str]
    rename: dict[str, str]
    missing_codes: dict[str, str] | None
    items: dict[str, str]
    encoding: str | None
    sep: str | None
    decimal: str | None
    skiprows: int | None
    reader: str
    dictionary: str | None
    events: dict[str, str | bool] | None
    record_id: str | None
    repeating: str | None
    values: str | None
    checkboxes: str | None
    waves: dict[str, str] | None
    subject_from: str | None

    @classmethod
    def parse(
        cls, raw: Mapping[str, Any], base: Path, bad: frozenset[str] | set[str], problems: list[str]
    ) -> DataSection:
        data = dict(raw)
        reader = data.get("reader", "survey")
        _check_choice("data.reader", reader, READERS, problems)
        if reader in READERS:
            _check_sources(data, reader, bad, problems)
        for key in ("responses", "participants", "dictionary"):
            if key in data:
                path = resolve_path(data[key], base)
                if not path.is_file():
                    problems.append(f"`data.{key}`: file not found: {path}")
        for wave, file in data.get("waves", {}).items():
            path = resolve_path(file, base)
            if not path.is_file():
                problems.append(f"`data.waves.{wave}`: file not found: {path}")
        columns = {"subject": KEYS[0], "arm": KEYS[1], "wave": KEYS[2]}
        columns.update(data.get("columns", {}))
        rename = dict(data.get("rename", {}))
        _check_renames(columns, rename, problems)
        redcap, qualtrics = reader == "redcap", reader == "qualtrics"
        if qualtrics and columns["wave"] != KEYS[2]:
            problems.append(
                "`data.columns.wave` does not apply to reader = 'qualtrics': the wave of each "
                "export is its key in [data.waves]."
            )
        section = cls(
            responses=str(data["responses"]) if "responses" in data else None,
            example=data.get("example"),
            participants=str(data["participants"]) if "participants" in data else None,
            sheet_name=data.get("sheet_name"),
            columns=columns,
            rename=rename,
            missing_codes=_missing_codes(data.get("missing_codes"), reader, problems),
            items=dict(data.get("items", {})),
            **{k: data.get(k) for k in ("encoding", "sep", "decimal", "skiprows")},
            reader=reader,
            dictionary=str(data["dictionary"]) if "dictionary" in data else None,
            events=dict(data["events"]) if redcap and "events" in data else None,
            record_id=data.get("record_id", "record_id") if redcap else None,
            repeating=data.get("repeating", "drop") if redcap else None,
            values=data.get("values", "auto") if redcap else None,
            checkboxes=data.get("checkboxes", "bool") if redcap else None,
            waves=(
                {w: str(f) for w, f in data["waves"].items()}
                if qualtrics and "waves" in data
                else None
            ),
            subject_from=data.get("subject_from", "ExternalReference") if qualtrics else None,
        )
        section._check_reader_options(problems)
        return section

    def waves_read(self) -> list[str]:
        """The waves the reader creates: [data.waves] keys, or the events' waves (REDCap)."""
        if self.waves is not None:
            return list(self.waves)
        if self.events is not None:
            return list(dict.fromkeys(w for w in self.events.values() if w is not False))
        return []

    def example_design(self) -> Mapping[str, Any]:
        """The design of the shipped example named by ``example`` ({} when none or unknown)."""
        from coaching_trials.datasets import list_examples, load_example

        if self.example is None or self.example not in list_examples():
            return {}
        return load_example(self.example).design

    def _check_reader_options(self, problems: list[str]) -> None:
        """Values of the options passed to the reader (their types are checked already)."""
        import codecs
        import re

        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                problems.append(
                    f"`data.encoding`: unknown encoding {self.encoding!r}; e.g. 'utf-8', "
                    "'utf-8-sig', 'cp1252', 'latin-1'."
                )
        if self.sep is not None and len(self.sep) != 1:
            problems.append(
                f"`data.sep` must be one character (e.g. ',', ';', '\\t'); got {self.sep!r}."
            )
        if self.decimal is not None:
            _check_choice("data.decimal", self.decimal, (".", ","), problems)
        if self.skiprows is not None and self.skiprows < 0:
            problems.append(f"`data.skiprows` must be >= 0; got {self.skiprows}.")
        if self.reader == "redcap":
            _check_choice("data.repeating", self.repeating, REPEATING, problems)
            _check_choice("data.values", self.values, VALUES, problems)
            _check_choice("data.checkboxes", self.checkboxes, CHECKBOXES, problems)
            if self.values == "labels" and self.dictionary is None:
                problems.append(
                    "`data.values = 'labels'` needs the project's data dictionary "
                    "(`data.dictionary`) to map choice labels to their codes."
                )
        for iid, pattern in self.items.items():
            if "{n}" in pattern:
                continue
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(
                    f"`data.items.{iid}`: {pattern!r} is neither a pattern with {{n}} (e.g. "
                    f"'{iid}_{{n}}') nor a regular expression ({exc})."
                )


def _check_sources(
    data: Mapping[str, Any], reader: str, bad: frozenset[str] | set[str], problems: list[str]
) -> None:
    """The reader's own source keys are given, and no key of another reader is."""
    from coaching_trials.datasets import list_examples

    if reader == "qualtrics":
        if "waves" not in data and not {"data", "data.waves"} & set(bad):
            problems.append(
                "reader = 'qualtrics' needs [data.waves]: one export per wave, e.g. "
                '`baseline = "baseline.csv"`.'
            )
    elif reader == "redcap":
        if "responses" not in data and not {"data", "data.responses"} & set(bad):
            problems.append("reader = 'redcap' needs `data.responses` (the REDCap CSV export).")
    else:
        has_file, has_example = "responses" in data, "example" in data
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
    for key, readers in _READER_ONLY.items():
        if key in data and reader not in readers:
            problems.append(
                f"`data.{key}` applies to reader = {' or '.join(map(repr, readers))} only; "
                f"this plan reads with reader = {reader!r}."
            )
    if "participants" not in data:
        allowed = {"survey": _SURVEY_OPTIONS, "qualtrics": ("encoding",), "redcap": ()}[reader]
        for key in _SURVEY_OPTIONS:
            if key in data and key not in allowed:
                problems.append(
                    f"`data.{key}` applies to files read as surveys (reader = 'survey', or a "
                    f"participants file); this plan reads with reader = {reader!r} and has no "
                    "`data.participants`."
                )


def _missing_codes(value: Any, reader: str, problems: list[str]) -> dict[str, str] | None:
    """``[data.missing_codes]`` as a dict; REDCap's missing data codes given as text parsed."""
    if value is None:
        return None
    if not isinstance(value, str):
        return dict(value) or None
    if reader != "redcap":
        problems.append(
            "`data.missing_codes` as text (REDCap's missing data codes) applies to reader = "
            f"'redcap' only; with reader = {reader!r} give a table, e.g. "
            '`[data.missing_codes]` `"99" = "refused"`.'
        )
        return None
    from coaching_trials.io._redcap_dictionary import redcap_missing_codes

    try:
        return redcap_missing_codes(value) or None
    except ValueError as exc:
        problems.append(f"`data.missing_codes`: {exc}")
        return None


def _check_renames(
    columns: Mapping[str, str], rename: Mapping[str, str], problems: list[str]
) -> None:
    """[data.columns] and [data.rename] rename each column once, onto distinct names."""
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


def input_paths(data: Mapping[str, Any], base: Path) -> dict[str, Path]:
    """Every input file of a normalized ``[data]``, by config key (``waves.<wave>`` each)."""
    paths = {
        key: resolve_path(data[key], base)
        for key in ("responses", "dictionary", "participants")
        if data.get(key) is not None
    }
    for wave, file in (data.get("waves") or {}).items():
        paths[f"waves.{wave}"] = resolve_path(file, base)
    return paths


def resolve_path(value: str | Path, base: Path) -> Path:
    """``value`` as a path, relative ones against ``base``."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path)


# --------------------------------------------------------------------------------------------
# [design]
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DesignSection(_Record):
    """``[design]``: the arms, the waves and the planned number of sessions."""

    immediate: str | None
    delayed: str | None
    baseline_wave: str | None
    endpoint_wave: str | None
    followup_waves: list[str]
    planned_sessions: int | None

    @classmethod
    def parse(
        cls,
        raw: Mapping[str, Any],
        data: DataSection,
        bad: frozenset[str] | set[str],
        problems: list[str],
    ) -> DesignSection:
        example_design = data.example_design()
        design = dict(raw)
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
            key = "data.waves" if data.waves is not None else "data.events"
            for wave in data.waves_read():
                if wave not in waves:
                    hint = "; map its event to false to drop it" if key == "data.events" else ""
                    problems.append(
                        f"`{key}`: wave {wave!r} is not a wave of [design] "
                        f"({', '.join(map(repr, waves))}){hint}."
                    )
        planned = design.get("planned_sessions")
        if planned is not None:
            if planned < 1:
                problems.append(f"`design.planned_sessions` must be >= 1; got {planned}.")
            if data.participants is None and data.example is None:
                problems.append(
                    "`design.planned_sessions` needs a participants file (`data.participants`) "
                    "with a `sessions_attended` column."
                )
        return cls(
            **{k: design.get(k) for k in _DESIGN_KEYS},
            followup_waves=design["followup_waves"],
            planned_sessions=planned,
        )


# --------------------------------------------------------------------------------------------
# [[instruments]]
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstrumentEntry(_Record):
    """One ``[[instruments]]`` table: an instrument to score, its metric and minimum answered."""

    id: str
    metric: str
    min_answered: int | dict[str, int] | None

    @classmethod
    def parse(cls, entry: Mapping[str, Any], where: str, problems: list[str]) -> InstrumentEntry:
        """The entry of a known, not yet listed instrument ``entry["id"]``."""
        from coaching_trials.instruments.registry import get_instrument

        inst = get_instrument(entry["id"])
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
        return cls(id=entry["id"], metric=metric, min_answered=min_answered)


def parse_instruments(
    raw: Sequence[Mapping[str, Any]],
    data: DataSection,
    bad: frozenset[str] | set[str],
    problems: list[str],
) -> list[InstrumentEntry]:
    """Every ``[[instruments]]`` entry (unknown and repeated ids reported), then the
    ``[data.items]`` patterns checked to name a listed instrument."""
    from coaching_trials.instruments.registry import list_instruments

    known = list_instruments()["id"].tolist()
    instruments: list[InstrumentEntry] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
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
        instruments.append(InstrumentEntry.parse(entry, where, problems))
    for iid in data.items:
        if iid not in seen:
            problems.append(
                f"`data.items.{iid}`: {iid!r} is not an instrument of [[instruments]] "
                f"({', '.join(map(repr, sorted(seen))) or 'none'})."
            )
    return instruments


# --------------------------------------------------------------------------------------------
# [analysis]
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponderEntry(_Record):
    """One ``[[analysis.responders]]`` table: an outcome, its cut-points and the event's side."""

    outcome: str | None
    cutpoint: list[float]
    direction: str
    event_is: str | None

    @classmethod
    def parse(cls, entry: Mapping[str, Any], where: str, problems: list[str]) -> ResponderEntry:
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
        return cls(
            outcome=entry.get("outcome"), cutpoint=cuts, direction=direction, event_is=event_is
        )


@dataclass(frozen=True)
class AnalysisSection(_Record):
    """``[analysis]``: the outcomes, the estimator, multiplicity, and the secondary analyses."""

    outcomes: list[str]
    primary: str | None
    method: str
    adjust: str
    covariates: list[str]
    conf_level: float
    nonrandomized: bool
    responders: list[ResponderEntry]
    seed: int
    reliability: bool
    n_boot: int
    baseline_variables: list[str] | None

    @classmethod
    def parse(
        cls,
        raw: Mapping[str, Any],
        design: DesignSection,
        instruments: Sequence[InstrumentEntry],
        problems: list[str],
    ) -> AnalysisSection:
        analysis = dict(raw)
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
        followups = design.followup_waves
        nonrandomized = analysis.get("nonrandomized", bool(followups))
        if nonrandomized and not followups:
            problems.append(
                "`analysis.nonrandomized = true` needs follow-up waves after the endpoint "
                "(`design.followup_waves`)."
            )
        responders = [
            ResponderEntry.parse(entry, f"analysis.responders[{i}]", problems)
            for i, entry in enumerate(analysis.get("responders", ()))
        ]
        return cls(
            outcomes=outcomes,
            primary=primary,
            method=method,
            adjust=adjust,
            covariates=list(analysis.get("covariates", ())),
            conf_level=conf_level,
            nonrandomized=bool(nonrandomized),
            responders=responders,
            seed=seed,
            reliability=analysis.get("reliability", True),
            n_boot=n_boot,
            baseline_variables=(
                list(analysis["baseline_variables"]) if "baseline_variables" in analysis else None
            ),
        )


def _default_outcomes(instruments: Sequence[InstrumentEntry]) -> list[str]:
    """Every score column of the listed instruments, in order, once each."""
    from coaching_trials.instruments.registry import get_instrument

    names: list[str] = []
    for entry in instruments:
        names.extend(get_instrument(entry.id).subscale_columns().values())
    return list(dict.fromkeys(names))


# --------------------------------------------------------------------------------------------
# [report] and the leadership sections
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportSection(_Record):
    """``[report]``: the title, the disclosure policy and what to draw."""

    title: str
    min_cell: int
    policy: str
    figures: bool
    html: bool

    @classmethod
    def parse(cls, raw: Mapping[str, Any], problems: list[str]) -> ReportSection:
        from coaching_trials.release.policy import POLICIES

        report = dict(raw)
        min_cell = report.get("min_cell", DEFAULT_MIN_CELL)
        if min_cell < 1:
            problems.append(f"`report.min_cell` must be a positive integer; got {min_cell}.")
        policy = report.get("policy", "suppress")
        _check_choice("report.policy", policy, POLICIES, problems)
        return cls(
            title=report.get("title", DEFAULT_TITLE),
            min_cell=min_cell,
            policy=policy,
            figures=report.get("figures", True),
            html=report.get("html", True),
        )


@dataclass(frozen=True)
class DecisionSections(_Record):
    """``[decision]``, ``[business_case]``, ``[evidence]``: optional sections of the
    leadership report, kept as written (``None`` when absent)."""

    decision: dict[str, Any] | None
    business_case: dict[str, Any] | None
    evidence: dict[str, Any] | None

    @classmethod
    def parse(
        cls, raw: Mapping[str, Any], analysis: AnalysisSection, problems: list[str]
    ) -> DecisionSections:
        from coaching_trials.decision.benefit import PRIORS

        decision = case = evidence = None
        if "decision" in raw:
            decision = dict(raw["decision"])
            for prior in decision.get("priors", ()):
                _check_choice("decision.priors", prior, tuple(PRIORS), problems)
        if "business_case" in raw:
            case = dict(raw["business_case"])
            _check_business_case(case, analysis, problems)
        if "evidence" in raw:
            evidence = dict(raw["evidence"])
            method, test = evidence.get("method", "REML"), evidence.get("test", "hksj")
            _check_choice("evidence.method", method, ("REML", "DL"), problems)
            _check_choice("evidence.test", test, ("z", "hksj"), problems)
            if evidence.get("outcome", analysis.primary) not in analysis.outcomes:
                problems.append(
                    f"`evidence.outcome` must be one of the outcomes {analysis.outcomes}; got "
                    f"{evidence.get('outcome')!r}."
                )
        return cls(decision=decision, business_case=case, evidence=evidence)


def _check_business_case(
    case: Mapping[str, Any], analysis: AnalysisSection, problems: list[str]
) -> None:
    """The business case needs a responder analysis to drive it, and positive sizes."""
    index = case.get("responder", 0)
    if not analysis.responders:
        problems.append(
            "[business_case] needs a responder definition ([[analysis.responders]]): the "
            "model is driven by the trial's effect on the share above a burnout cut-point."
        )
    elif not 0 <= index < sum(len(r.cutpoint) for r in analysis.responders):
        problems.append(f"`business_case.responder` {index} is not a responder analysis.")
    for key in ("n_physicians", "cost_per_participant"):
        if key in case and _is_number(case[key]) and case[key] <= 0:
            problems.append(f"`business_case.{key}` must be positive; got {case[key]}.")
