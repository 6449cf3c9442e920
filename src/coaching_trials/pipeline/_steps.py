"""The steps of a run before anything is written: read, rename, validate, score, analyse."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from coaching_trials._audit import AUDIT_COLUMNS
from coaching_trials._errors import DataValidationError, FileFormatError, format_values
from coaching_trials.pipeline._schema import KEYS, SESSIONS, ConfigError
from coaching_trials.pipeline._sections import resolve_path
from coaching_trials.pipeline._tables import _sha256, summarize_scores


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
        responses, detail = _read_responses(data, base, audit, inputs)
        participants = None
        if data["participants"] is not None:
            path = resolve_path(data["participants"], base)
            participants = _read_input(path, "participants", data)
            audit.extend(_step_records(participants.attrs["audit"], "participants"))
            inputs["participants"] = {"path": data["participants"], "sha256": _sha256(path)}
        subject = data["columns"]["subject"]
        if participants is not None and subject in participants.columns:
            from coaching_trials.io.ids import check_ids

            check_ids(
                responses[subject],
                participants[subject],
                column=subject,
                names=(
                    f"responses ({data['responses'] or 'the [data.waves] exports'})",
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


def _step_records(records: Sequence[Mapping[str, Any]], key: str) -> list[dict[str, Any]]:
    """A reader's audit records, their step suffixed with the config key of the file."""
    return [dict(record, step=f"{record['step']}:{key}") for record in records]


def _read_responses(
    data: Mapping[str, Any], base: Path, audit: list[dict[str, Any]], inputs: dict[str, Any]
) -> tuple[pd.DataFrame, str]:
    """The responses under ``data.reader``; each file read is hashed into ``inputs``."""
    reader = data["reader"]
    if reader == "qualtrics":
        return _read_qualtrics_waves(data, base, audit, inputs), (
            f"{len(data['waves'])} Qualtrics export(s) ({', '.join(data['waves'])})"
        )
    path = resolve_path(data["responses"], base)
    if reader == "redcap":
        frame = fill_record_field(_read_redcap(path, data, base), data["columns"])
        if data["dictionary"] is not None:
            dictionary = resolve_path(data["dictionary"], base)
            inputs["dictionary"] = {"path": data["dictionary"], "sha256": _sha256(dictionary)}
    else:
        frame = _read_input(path, "responses", data)
    audit.extend(_step_records(frame.attrs["audit"], "responses"))
    inputs["responses"] = {"path": data["responses"], "sha256": _sha256(path)}
    kind = "REDCap export" if reader == "redcap" else "file"
    return frame, f"{kind} {data['responses']!r}"


def pre_read_renames(data: Mapping[str, Any]) -> dict[str, str]:
    """[data.rename] entries applied by the reader before anything else: with REDCap, those
    naming REDCap's own columns (``redcap_event_name`` ...), which a labelled export heads
    with labels that are not in the data dictionary."""
    if data["reader"] != "redcap":
        return {}
    return {s: t for s, t in data["rename"].items() if t.startswith("redcap_")}


def post_read_renames(data: Mapping[str, Any]) -> dict[str, str]:
    """[data.rename] entries applied after reading (all but :func:`pre_read_renames`)."""
    before = pre_read_renames(data)
    return {s: t for s, t in data["rename"].items() if s not in before}


def _read_redcap(path: Path, data: Mapping[str, Any], base: Path) -> pd.DataFrame:
    """The REDCap export under the config's options; the id and wave columns take the names
    of [data.columns], so that the rest of the run treats it like any responses file."""
    from coaching_trials.io.readers import read_redcap

    cols = data["columns"]
    events = data["events"]
    if events is not None:  # false (TOML has no null) drops the event's rows
        events = {event: (None if wave is False else wave) for event, wave in events.items()}
    try:
        return read_redcap(
            path,
            dictionary=(
                resolve_path(data["dictionary"], base) if data["dictionary"] is not None else None
            ),
            events=events,
            record_id=data["record_id"],
            subject=cols["subject"],
            wave=cols["wave"],
            repeating=data["repeating"],
            checkboxes=data["checkboxes"],
            missing_codes=data["missing_codes"],
            values=data["values"],
            rename=pre_read_renames(data) or None,
        )
    except DataValidationError:
        raise
    except ValueError as exc:  # the reader's refusals of names: say which keys to set
        raise FileFormatError(
            f"{exc}\n(in the config: `data.record_id` names the record id column, "
            "[data.columns] the names of the id and wave columns it creates)"
        ) from None


def fill_record_field(frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """REDCap records the arm once (a randomization field on the baseline event's form), so the
    other events' rows hold a blank: each record's blanks take its one recorded arm. A record
    with two different arms is an error naming it; a record with none stays blank (validation
    reports it). The rows filled are counted in the audit."""
    arm, subject = columns["arm"], columns["subject"]
    if arm not in frame.columns or subject not in frame.columns:
        return frame
    values = frame[arm]
    blank = values.isna() | (values.astype("string").str.strip() == "").fillna(False)
    if not blank.any():
        return frame
    known = frame.loc[~blank, [subject, arm]].astype("string")
    per_record = known.groupby(subject, sort=True)[arm].unique()
    conflicts = per_record[per_record.map(len) > 1]
    if len(conflicts):
        shown = "; ".join(f"{rec}: {list(arms)}" for rec, arms in conflicts.head(10).items())
        raise DataValidationError(
            f"column {arm!r}: {len(conflicts)} REDCap record(s) have more than one arm across "
            f"their events ({shown}); a participant belongs to one arm."
        )
    arms = per_record.map(lambda a: a[0])
    filled = frame[subject].astype("string").map(arms)
    fill = blank & filled.notna()
    if not fill.any():
        return frame
    out = frame.copy()
    out[arm] = out[arm].astype(object).where(~fill, filled.astype(object))
    out.attrs = dict(frame.attrs)
    out.attrs["audit"] = [
        *frame.attrs.get("audit", ()),
        dict(
            step="read_redcap",
            reason="arm filled from the record",
            n_rows=int(fill.sum()),
            detail=(
                f"{int(fill.sum())} row(s) of {int(fill.groupby(frame[subject]).any().sum())} "
                f"record(s) had a blank {arm!r} at events other than the one recording it; "
                "each took its record's one recorded arm"
            ),
        ),
    ]
    return out


def _read_qualtrics_waves(
    data: Mapping[str, Any], base: Path, audit: list[dict[str, Any]], inputs: dict[str, Any]
) -> pd.DataFrame:
    """Each wave's Qualtrics export read and stacked in [data.waves] order; the audit rows
    of each file (previews, spam, format) are kept under ``read_qualtrics:waves.<wave>``."""
    from coaching_trials.io.missing import chain_missing
    from coaching_trials.io.readers import read_qualtrics

    frames, missing, offset = [], [], 0
    options = {"encoding": data["encoding"]} if data["encoding"] is not None else {}
    inputs["waves"] = {}
    for wave, file in data["waves"].items():
        path = resolve_path(file, base)
        try:
            frame = read_qualtrics(
                path,
                subject=data["columns"]["subject"],
                subject_from=data["subject_from"],
                wave=wave,
                missing_codes=data["missing_codes"],
                **options,
            )
        except DataValidationError:
            raise
        except ValueError as exc:
            raise FileFormatError(f"`data.waves.{wave}`: {exc}") from None
        audit.extend(_step_records(frame.attrs["audit"], f"waves.{wave}"))
        inputs["waves"][wave] = {"path": file, "sha256": _sha256(path)}
        # the rows of declared missing codes, relabelled to the stacked frame's positions
        for record in frame.attrs.get("missing", ()):
            pos = frame.index.get_indexer(list(record["rows"]))
            missing.append(dict(record, rows=[offset + int(p) for p in pos if p >= 0]))
        offset += len(frame)
        frame.attrs = {}
        frames.append(frame)
    stacked = pd.concat(frames, ignore_index=True)
    stacked.attrs = {"audit": [], "missing": chain_missing(None, missing)}
    return stacked


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
    mapping.update(post_read_renames(cfg["data"]))
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
    after = post_read_renames(data)
    mapping.update(after)
    missing = [s for s in after if s not in responses.columns]
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
    items = {s: t for s, t in after.items() if s in original.columns and s != t}
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
