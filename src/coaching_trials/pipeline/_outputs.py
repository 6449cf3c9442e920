"""What a run writes: the release step, both folders' tables and READMEs, figures and report."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coaching_trials.pipeline._schema import _FIGURE_RC, FIGURE_DPI, KEYS
from coaching_trials.pipeline._tables import write_table

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


def _analysis_options(analysis: Mapping[str, Any]) -> dict[str, Any]:
    """The options of the randomized comparison, as the report's builders take them."""
    return dict(
        outcomes=analysis["outcomes"],
        primary=analysis["primary"],
        method=analysis["method"],
        adjust=None if analysis["adjust"] == "none" else analysis["adjust"],
        conf_level=analysis["conf_level"],
        covariates=analysis["covariates"],
    )


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
        **_analysis_options(analysis),
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
        **_analysis_options(analysis),
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
