"""Running a plan: a config in; the output folder, its manifest and an :class:`AnalysisRun` out.

:func:`run_analysis` reads, checks and analyses (:mod:`._steps`), releases and writes
(:mod:`._outputs`) into a staging folder, hashes every file into ``manifest.json`` and swaps
the folder into place.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from coaching_trials._audit import audit_frame
from coaching_trials._errors import DataValidationError
from coaching_trials._outdir import OutputFolder
from coaching_trials._results import ResultMixin
from coaching_trials.pipeline._config import _load, _plain
from coaching_trials.pipeline._outputs import _release, _write
from coaching_trials.pipeline._schema import DEPENDENCIES
from coaching_trials.pipeline._sections import input_paths
from coaching_trials.pipeline._steps import (
    _analyse,
    _load_data,
    _prepare,
    _renamed_columns,
    _with_rename_note,
)
from coaching_trials.pipeline._tables import _sha256


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


def _manifest(
    cfg: Mapping[str, Any],
    config_path: Path | None,
    inputs: Mapping[str, Any],
    outputs: Mapping[str, str],
    notes: Sequence[str],
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of ``manifest.json``: config, hashes, seed, versions, notes and which
    output belongs to which part of the folder."""
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
        "overrides": _plain(dict(overrides or {})),
        "parts": {
            "release": sorted(n for n in outputs if n.startswith("release/")),
            "analyst": sorted(n for n in outputs if n.startswith("analyst/")),
        },
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
    inputs_used = list(input_paths(cfg["data"], base).values())
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
        manifest = _manifest(cfg, config_path, inputs, outputs, notes, overrides)
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
