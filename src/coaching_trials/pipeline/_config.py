"""Reading a config: TOML or dict in, the checked config with every default filled in out.

:func:`load_config` reads the file, applies ``overrides``, checks the types against the schema
(:mod:`._schema`) and builds each section as a typed record (:mod:`._sections`); every problem
of every section is reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from coaching_trials.pipeline._schema import SCHEMA_VERSION, ConfigError, _check_types
from coaching_trials.pipeline._sections import (
    AnalysisSection,
    DataSection,
    DecisionSections,
    DesignSection,
    ReportSection,
    parse_instruments,
)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {exc}"], str(path)) from None


def _plain(value: Any) -> Any:
    """A JSON-ready deep copy (tuples -> lists, mappings -> dicts, paths -> strings)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _normalize(
    raw: Mapping[str, Any],
    base: Path,
    source: str,
    problems: list[str] | None = None,
    bad: frozenset[str] | set[str] = frozenset(),
) -> dict[str, Any]:
    """Check values beyond their types and fill the defaults; raise ConfigError if any problem.

    Each section is parsed into its typed record (:mod:`._sections`), in the order in which
    they depend on each other; every record appends its problems to one list. ``problems``
    (the type problems found by :func:`_check_types`, whose keys are not in ``raw`` any more)
    are raised together with the value problems found here; ``bad`` names those keys, so that
    a key with a wrong type is not also reported as missing.
    """
    problems = [] if problems is None else list(problems)
    if "schema_version" in raw and raw["schema_version"] != SCHEMA_VERSION:
        problems.append(
            f"`schema_version` must be {SCHEMA_VERSION} (the only version); "
            f"got {raw['schema_version']!r}."
        )
    data = DataSection.parse(raw.get("data", {}), base, bad, problems)
    design = DesignSection.parse(raw.get("design", {}), data, bad, problems)
    instruments = parse_instruments(raw.get("instruments", ()), data, bad, problems)
    analysis = AnalysisSection.parse(raw.get("analysis", {}), design, instruments, problems)
    report = ReportSection.parse(raw.get("report", {}), problems)
    decisions = DecisionSections.parse(raw, analysis, problems)
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)), source)
    return {
        "schema_version": SCHEMA_VERSION,
        "data": data.to_dict(),
        "design": design.to_dict(),
        "instruments": [entry.to_dict() for entry in instruments],
        "analysis": analysis.to_dict(),
        "report": report.to_dict(),
        **decisions.to_dict(),
    }


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
