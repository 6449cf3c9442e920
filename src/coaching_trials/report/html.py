"""The self-contained HTML report of a delayed-intervention trial, for leadership.

``compute -> release -> render``: :func:`build_report` computes every table the report prints,
hands them all at once to the release step (:func:`coaching_trials.release`), draws the figures
from the released tables and renders the page with an autoescaping template
(:mod:`coaching_trials.report.render`). One file: inline CSS, figures as base64 PNG, no
scripts, no external resources.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials._errors import one_of

__all__ = ["ReportResult", "build_report", "REPORT_SECTIONS", "report_meta", "report_figures"]

REPORT_SECTIONS = ("flow", "baseline", "effects", "percent_change", "nonrandomized", "figures")
_METHODS = ("ancova", "change", "mmrm")


@dataclass(frozen=True, eq=False, repr=False)
class ReportResult:
    """What :func:`build_report` wrote.

    Attributes
    ----------
    path : pathlib.Path
        The HTML file.
    tables : Mapping[str, pandas.DataFrame]
        The released tables the report was rendered from (read-only mapping of copies).
    suppression_log : pandas.DataFrame
        The disclosure log of the release (for the analyst; never in the report).
    config : Mapping[str, Any]
        The options the report was built with (also in its collapsed appendix).
    """

    path: Path
    tables: Mapping[str, pd.DataFrame] = field(default_factory=lambda: MappingProxyType({}))
    suppression_log: pd.DataFrame = field(default_factory=pd.DataFrame)
    config: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_frame(self) -> pd.DataFrame:
        """The disclosure log (a copy)."""
        return self.suppression_log.copy()

    def summary(self) -> str:
        log = self.suppression_log
        n_hidden = int((log["rule"] != "rounded").sum()) if len(log) else 0
        return (
            f"Report written to {self.path}\n"
            f"tables: {', '.join(self.tables)}\n"
            f"cells hidden (policy {self.config.get('policy')}, "
            f"min_cell={self.config.get('min_cell')}): {n_hidden}"
        )

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def _is_synthetic(trial: Any) -> bool:
    """True when the trial's participants and responses are those of ``load_example``."""
    try:
        from coaching_trials.datasets import load_example

        ex = load_example("delayed_intervention")
    except Exception:  # pragma: no cover
        return False
    d = trial.design
    part = trial.participants
    if d["subject"] not in part.columns:
        return False
    mine = part[[d["subject"], d["arm"]]].astype("string")
    theirs = ex.participants[["participant_id", "arm"]].astype("string")
    theirs.columns = [d["subject"], d["arm"]]
    key = [d["subject"], d["arm"]]
    if len(mine) != len(theirs) or not mine.sort_values(key).reset_index(drop=True).equals(
        theirs.sort_values(key).reset_index(drop=True)
    ):
        return False
    resp = trial.responses
    items = [c for c in ex.responses.columns[4:] if c in resp.columns]
    if not items:
        return True
    a = resp[[d["subject"], d["wave"], *items]].astype({d["wave"]: "string"})
    b = ex.responses[["participant_id", "wave", *items]].astype({"wave": "string"})
    b.columns = [d["subject"], d["wave"], *items]
    a = a.sort_values([d["subject"], d["wave"]]).reset_index(drop=True)
    b = b.sort_values([d["subject"], d["wave"]]).reset_index(drop=True)
    if a.shape != b.shape:
        return False
    return bool(
        np.allclose(a[items].to_numpy(dtype=float), b[items].to_numpy(dtype=float), equal_nan=True)
    )


def trial_facts(trial: Any) -> dict[str, Any]:
    """The plain design facts of a trial a renderer may print (no data)."""
    d = trial.design
    return dict(
        arms=[str(a) for a in trial.arms],
        waves=[str(w) for w in trial.waves],
        baseline_wave=str(d["baseline_wave"]),
        endpoint_wave=str(d["endpoint_wave"]),
    )


def _example_synthetic(cfg: Mapping[str, Any]) -> bool:
    """Whether a pipeline config runs on the shipped synthetic example."""
    return cfg["data"].get("example") is not None


def report_meta(
    facts: Mapping[str, Any],
    *,
    title: str,
    outcomes: Sequence[str],
    primary: str,
    method: str,
    adjust: str | None,
    conf_level: float,
    covariates: Sequence[str],
    include: Sequence[str],
    released_flow: pd.DataFrame | None,
    synthetic: bool,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """The plain-text facts a renderer may print (labels and design; no data)."""
    n_randomized = None
    if released_flow is not None:
        row = released_flow[
            (released_flow["arm"] == "overall") & (released_flow["stage"] == "randomized")
        ]
        if len(row) and not isinstance(row["n"].iloc[0], str):
            n_randomized = int(row["n"].iloc[0])
    return dict(
        title=title,
        **dict(facts),
        outcomes=list(outcomes),
        primary=primary,
        method=method,
        adjust=adjust,
        conf_level=conf_level,
        pct=f"{round(conf_level * 100)}%",
        covariates=list(covariates),
        include=list(include),
        n_randomized=n_randomized,
        synthetic=synthetic,
        options=dict(options),
    )


def report_figures(
    tables: Mapping[str, pd.DataFrame], meta: Mapping[str, Any], *, min_cell: int
) -> dict[str, str]:
    """The report's figures as PNG data URIs, drawn from RELEASED tables only."""
    from coaching_trials.release import numeric_view
    from coaching_trials.report import _figures as figs
    from coaching_trials.report.render import outcome_info

    out: dict[str, str] = {}
    include = meta["include"]
    if "flow" in include and "flow" in tables:
        out["consort"] = figs.consort_figure(tables["flow"], min_cell=min_cell)
    if "effects" in include and "effects" in tables:
        eff = numeric_view(tables["effects"])
        eff = eff[eff["estimate"].notna()]
        if len(eff):
            out["forest"] = figs.forest_figure(eff, min_cell=min_cell)
    if "percent_change" in include and "descriptives" in tables:
        desc = numeric_view(tables["descriptives"])
        out["percent_change"] = figs.percent_change_figure(
            desc, outcomes=list(meta["outcomes"]), min_cell=min_cell
        )
    if "figures" in include and "trajectories" in tables:
        arms, waves = meta["arms"], meta["waves"]
        end = waves.index(meta["endpoint_wave"])
        crossover = {arms[0]: (meta["baseline_wave"], meta["endpoint_wave"])}
        if end + 1 < len(waves):
            crossover[arms[1]] = (meta["endpoint_wave"], waves[end + 1])
        for o in meta["outcomes"]:
            out[f"trajectory:{o}"] = figs.trajectory_figure(
                tables["trajectories"],
                o,
                outcome_info(o)["label"],
                crossover=crossover,
                conf_level=meta["conf_level"],
            )
    return out


def _checked_arguments(
    trial: Any,
    outcomes: Any,
    primary: Any,
    *,
    method: Any,
    min_cell: Any,
    policy: Any,
    include: Any,
    figures: Any,
    title: Any,
    out: Any,
) -> tuple[list[str], tuple[str, ...], Path]:
    """:func:`build_report`'s argument checks; returns the outcomes, sections and HTML path."""
    from coaching_trials.design.delayed import DelayedInterventionTrial
    from coaching_trials.release.policy import get_policy

    if not isinstance(trial, DelayedInterventionTrial):
        raise TypeError(f"`trial` must be a DelayedInterventionTrial; got {type(trial).__name__}.")
    outs = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    if not outs or not all(isinstance(o, str) for o in outs):
        raise ValueError(f"`outcomes` must name at least one scored column; got {outcomes!r}.")
    if primary not in outs:
        raise ValueError(f"`primary` must be one of the outcomes {outs}; got {primary!r}.")
    if method not in _METHODS:
        raise one_of("method", method, _METHODS)
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)) or min_cell < 1:
        raise ValueError(f"`min_cell` must be a positive integer; got {min_cell!r}.")
    get_policy(policy, min_cell=int(min_cell))
    include = (include,) if isinstance(include, str) else tuple(include)
    bad = [s for s in include if s not in REPORT_SECTIONS]
    if bad:
        raise one_of("include", bad[0], REPORT_SECTIONS)
    if not isinstance(figures, bool):
        raise TypeError(f"`figures` must be True or False; got {figures!r}.")
    if not isinstance(title, str):
        raise TypeError(f"`title` must be a string; got {type(title).__name__}.")
    path = Path(out)
    if path.is_dir():
        path = path / "report.html"
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"`out` must be an .html file or an existing folder; got {str(out)!r}.")
    if not path.parent.exists():
        raise FileNotFoundError(f"the folder of `out` does not exist: {str(path.parent)!r}.")
    return outs, include, path


def build_report(
    trial: Any,
    *,
    outcomes: str | Sequence[str],
    primary: str,
    out: str | Path,
    title: str = "Coaching trial report",
    min_cell: int = 5,
    method: str = "ancova",
    include: Sequence[str] = REPORT_SECTIONS,
    conf_level: float = 0.95,
    figures: bool = True,
    adjust: str | None = "holm",
    baseline_variables: Sequence[str] | None = None,
    synthetic: bool | None = None,
    covariates: Sequence[str] = (),
    policy: str = "suppress",
) -> ReportResult:
    """Write a self-contained HTML report of a delayed-intervention trial for leadership.

    Parameters
    ----------
    trial : DelayedInterventionTrial
        The trial, with scored outcome columns.
    outcomes : str or sequence of str
        Scored outcome columns to report (the primary first is conventional).
    primary : str
        The primary outcome (one of ``outcomes``): it gets the plain-language summary and keeps
        its unadjusted p-value.
    out : str or pathlib.Path
        The HTML file to write (``.html``), or an existing folder (``report.html`` inside).
    title : str
        Heading of the report.
    min_cell : int, default 5
        The disclosure threshold (see :func:`coaching_trials.release`).
    method : {"ancova", "change", "mmrm"}
        The randomized estimator (:meth:`DelayedInterventionTrial.compare`).
    include : sequence of str
        Sections among ``"flow"``, ``"baseline"``, ``"effects"``, ``"percent_change"``,
        ``"nonrandomized"``, ``"figures"`` (outcome trajectories). The summary and methods
        notes are always written.
    conf_level : float
        Confidence level of every interval.
    figures : bool, default True
        Draw figures; ``False`` writes tables only.
    adjust : str or None, default "holm"
        Multiplicity adjustment of the secondary outcomes (see ``compare``).
    baseline_variables : sequence of str, optional
        Variables of Table 1, declared by name. Default: those chosen by
        ``trial.baseline_table()``, each type-checked: free text, record-number-like columns,
        dates and e-mail or phone values are refused before anything is written.
    synthetic : bool, optional
        Whether to print the synthetic-data notice. Default: detected (the trial holds the
        participants and item responses of ``load_example("delayed_intervention")``).
    covariates : sequence of str
        Extra adjustment covariates of the randomized comparison (see ``compare``).
    policy : {"suppress", "round"}
        The disclosure policy of the release step.

    Returns
    -------
    ReportResult
        ``path``, ``tables`` (released), ``suppression_log`` (the disclosure log), ``config``.

    Notes
    -----
    compute -> release -> render: every table the page prints (flow, Table 1, effects,
    standardized effects, per-arm descriptives, exclusions, trajectories, non-randomized
    estimates) is computed first, then released jointly by :func:`coaching_trials.release`
    (which ties every count to the participants it counts, hides small counts and whatever
    would reveal them across all tables, and scans every released cell for identifiers), and
    only then rendered: the page and its figures are drawn from the released tables alone,
    with an autoescaping template, so no label can inject markup. The file has inline CSS,
    figures as base64 PNG and no scripts or external links; the same input gives the same
    bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import coaching_trials as ct
    >>> from coaching_trials.report import build_report
    >>> ex = ct.load_example("delayed_intervention")
    >>> trial = ct.DelayedInterventionTrial(
    ...     ct.score(ex.responses, "pfi"), participants=ex.participants, **ex.design)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     rep = build_report(trial, outcomes=["pfi_burnout", "pfi_pf"], primary="pfi_burnout",
    ...                        out=pathlib.Path(d) / "report.html", figures=False)
    ...     text = rep.path.read_text(encoding="utf-8")
    >>> "Synthetic data" in text and "<script" not in text
    True
    >>> sorted(rep.tables)  # doctest: +NORMALIZE_WHITESPACE
    ['baseline', 'descriptives', 'effects', 'exclusions', 'flow', 'nonrandomized',
     'standardized', 'trajectories']
    """
    from coaching_trials.report.publish import publish_trial, shared_tables
    from coaching_trials.report.render import render_report

    outs, include, path = _checked_arguments(
        trial, outcomes, primary, method=method, min_cell=min_cell, policy=policy,
        include=include, figures=figures, title=title, out=out,
    )  # fmt: skip
    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    if synthetic is None:
        synthetic = _is_synthetic(trial)

    tables = shared_tables(
        trial,
        outcomes=outs,
        primary=primary,
        method=method,
        adjust=adjust,
        conf_level=conf_level,
        covariates=covariates,
        baseline_variables=baseline_variables,
        nonrandomized="nonrandomized" in include,
        min_cell=int(min_cell),
    )
    rel = publish_trial(
        trial,
        tables,
        primary=primary,
        method=method,
        covariates=covariates,
        policy=policy,
        min_cell=int(min_cell),
        declared=baseline_variables,
    )
    config = {
        "title": title,
        "outcomes": ", ".join(outs),
        "primary": primary,
        "method": method,
        "adjust": adjust,
        "conf_level": conf_level,
        "policy": policy,
        "min_cell": int(min_cell),
        "include": ", ".join(include),
        "covariates": ", ".join(covariates),
        "synthetic": synthetic,
    }
    meta = report_meta(
        trial_facts(trial),
        title=title,
        outcomes=outs,
        primary=primary,
        method=method,
        adjust=adjust,
        conf_level=conf_level,
        covariates=covariates,
        include=include,
        released_flow=rel.tables.get("flow"),
        synthetic=synthetic,
        options=config,
    )
    uris = report_figures(rel.tables, meta, min_cell=int(min_cell)) if figures else {}
    page = render_report(rel, meta, uris)
    path.write_bytes(page.encode("utf-8"))
    return ReportResult(
        path=path,
        tables=MappingProxyType({k: v.copy() for k, v in rel.tables.items()}),
        suppression_log=rel.log.copy(),
        config=MappingProxyType(config),
    )
