"""The sections of the report page, in page order: one small builder per section.

Each builder takes the release, the analysis facts (``meta``) and the figure URIs and returns
the section (heading, paragraphs, table and figure blocks) or ``None`` when it has nothing to
show. :func:`coaching_trials.report.render.render_report` lays them out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from coaching_trials.release.core import Release
from coaching_trials.report._prose import _MODEL_NOTE, _methods, _summary_text
from coaching_trials.report._rows import (
    Text,
    _baseline_rows,
    _benefit_blocks,
    _business_blocks,
    _descriptives_rows,
    _effects_rows,
    _evidence_blocks,
    _exclusion_rows,
    _flow_rows,
    _label,
    _nonrandomized_rows,
    _reliability_rows,
    _responder_rows,
    _table,
)

Section = dict[str, Any]
Figures = Mapping[str, str]


def _section(
    anchor: str, title: str, paragraphs: list[Text], blocks: list[dict], box: str = ""
) -> Section:
    return dict(anchor=anchor, title=title, paragraphs=paragraphs, blocks=blocks, box=box)


def _plain(text: str) -> list[Text]:
    """One paragraph of plain text."""
    return [[("", text)]]


def _figure(figures: Figures, key: str, caption: str) -> list[dict[str, Any]]:
    """The figure ``key`` as a block (none when it was not drawn)."""
    return [dict(kind="figure", uri=figures[key], caption=caption)] if key in figures else []


def _ci_name(meta: Mapping[str, Any]) -> str:
    return f"{meta['pct']} CI"


def summary(rel: Release, meta: Mapping[str, Any], figures: Figures) -> Section:
    section = _section("summary", "Summary of the primary result", _summary_text(rel, meta), [])
    section["box"] = "summary"
    return section


def flow(rel: Release, meta: Mapping[str, Any], figures: Figures) -> Section | None:
    if "flow" not in meta["include"] or "flow" not in rel.tables:
        return None
    cols, rows = _flow_rows(rel.tables["flow"], list(meta["arms"]))
    caption = (
        "Participant flow (CONSORT diagram), drawn from the released table above: the same "
        "counts, hidden the same way."
    )
    text = (
        "Participants randomized, assessed at each wave and analysed for the primary outcome "
        f"({_label(meta['primary'])}), by arm. Participants missed at one wave may be back at "
        "the next."
    )
    blocks = [_table(cols, rows), *_figure(figures, "consort", caption)]
    return _section("flow", "Participant flow", _plain(text), blocks)


def baseline(rel: Release, meta: Mapping[str, Any], figures: Figures) -> Section | None:
    if "baseline" not in meta["include"] or "baseline" not in rel.tables:
        return None
    arms = list(meta["arms"])
    cols, rows = _baseline_rows(rel.tables["baseline"], arms)
    text = (
        "Number of participants (percent of those answering) or mean (SD). SMD: standardized "
        f"mean difference, {arms[0]} minus {arms[1]}; values near 0 mean the arms were alike "
        "(no p-values: differences at baseline are due to chance under randomization)."
    )
    return _section(
        "baseline", "Table 1. Baseline characteristics", _plain(text), [_table(cols, rows)]
    )


def effects(rel: Release, meta: Mapping[str, Any], figures: Figures) -> Section | None:
    t = rel.tables
    if "effects" not in meta["include"] or "effects" not in t:
        return None
    arms = list(meta["arms"])
    cols, rows = _effects_rows(t["effects"], t.get("standardized"), arms, _ci_name(meta))
    caption = (
        f"Randomized differences ({arms[0]} - {arms[1]}) with {meta['pct']} confidence intervals."
    )
    blocks = [_table(cols, rows), *_figure(figures, "forest", caption)]
    if "exclusions" in t and len(t["exclusions"]):
        cols, rows = _exclusion_rows(t["exclusions"])
        blocks.append(_table(cols, rows, heading="Participants not in the comparison"))
    text = (
        "The randomized comparison: difference between arms at the end of the waiting period "
        f"({meta['endpoint_wave']}), estimated by {meta['method'].upper()}."
    )
    return _section("effects", "Effect of coaching (randomized comparison)", _plain(text), blocks)


def percent_change(rel: Release, meta: Mapping[str, Any], figures: Figures) -> Section | None:
    if "percent_change" not in meta["include"] or "descriptives" not in rel.tables:
        return None
    cols, rows = _descriptives_rows(rel.tables["descriptives"], _ci_name(meta))
    caption = (
        f"Percent change of each arm's mean from baseline to {meta['endpoint_wave']} "
        "(descriptive, not the effect of coaching)."
    )
    text = (
        "Each arm's mean at baseline and at the endpoint among the participants with both "
        "scores, and the percent change between the two (descriptive; not a randomized "
        "comparison: the effect of coaching is the difference between arms above)."
    )
    blocks = [_table(cols, rows), *_figure(figures, "percent_change", caption)]
    return _section("percent-change", "Change within each arm", _plain(text), blocks)


def nonrandomized(rel: Release, meta: Mapping[str, Any], figures: Figures) -> Section | None:
    if "nonrandomized" not in meta["include"]:
        return None
    title = "Non-randomized estimates (for context only)"
    if "nonrandomized" not in rel.tables:
        text = "Not available: the design has no follow-up wave after the delayed arm's coaching."
        return _section("nonrandomized", title, _plain(text), [])
    cols, rows = _nonrandomized_rows(rel.tables["nonrandomized"], _ci_name(meta))
    caption = (
        f"Non-randomized estimates with {meta['pct']} confidence intervals (no control group)."
    )
    text = (
        "These compare participants with themselves before and after coaching, without a "
        "randomized control group. They can be biased (regression to the mean, changes over "
        "time, the effect of waiting) and do not replace the randomized comparison above."
    )
    paragraphs: list[Text] = [[("strong", "Non-randomized estimates. "), ("", text)]]
    blocks = [_table(cols, rows), *_figure(figures, "forest_nonrandomized", caption)]
    return _section("nonrandomized", title, paragraphs, blocks, box="nonrandomized")


def responders(rel: Release, meta: Mapping[str, Any], figures: Figures) -> Section | None:
    t = rel.tables
    if "responder_proportions" not in t:
        return None
    blocks = _responder_rows(t["responder_proportions"], t.get("responders"), _ci_name(meta))
    caption = f"Share of each arm with the event ({meta['pct']} Wilson confidence intervals)."
    for key in figures:
        if key.startswith("responders:"):
            blocks += _figure(figures, key, caption)
    text = (
        "The share of each arm above or below a pre-specified cut-point at the endpoint, "
        "among participants with both scores, and the randomized difference between arms."
    )
    return _section("responders", "Responders: who crossed a cut-point", _plain(text), blocks)


def reliability(rel: Release, meta: Mapping[str, Any], figures: Figures) -> Section | None:
    if "reliability" not in rel.tables:
        return None
    cols, rows = _reliability_rows(rel.tables["reliability"])
    text = (
        "Internal consistency of each subscale at each wave (respondents who answered every "
        "item): Cronbach's alpha with its interval and McDonald's omega. Values of about 0.8 "
        "or more are usually considered good."
    )
    return _section("reliability", "Reliability of the scales", _plain(text), [_table(cols, rows)])


def _model_paragraphs(text: str) -> list[Text]:
    """The models' warning box, then the section's own paragraph."""
    return [[("strong", "Models. "), ("", _MODEL_NOTE)], [("", text)]]


def benefit(rel: Release, meta: Mapping[str, Any], figures: Figures) -> Section | None:
    if "benefit" not in rel.tables:
        return None
    caption = "Posterior distribution of the primary effect under each prior."
    blocks = [*_benefit_blocks(rel.tables["benefit"]), *_figure(figures, "posterior", caption)]
    text = (
        "Each randomized effect combined with named, pre-specified priors (normal "
        "approximation): the probability that coaching helps, and that it harms."
    )
    return _section(
        "benefit",
        "How probable is a benefit? (model)",
        _model_paragraphs(text),
        blocks,
        box="nonrandomized",
    )


def business_case(rel: Release, meta: Mapping[str, Any], figures: Figures) -> Section | None:
    t = rel.tables
    if "business_case" not in t:
        return None
    caption = "Which assumption moves the net benefit most (each input over its stated range)."
    blocks = _business_blocks(t["business_case"], t.get("business_assumptions"))
    blocks += _figure(figures, "tornado", caption)
    text = (
        "A turnover-cost model in the form of Shanafelt, Goh & Sinsky (JAMA Intern Med 2017), "
        "driven by the trial's effect on the share of physicians above the burnout cut-point; "
        "every input is listed with its source."
    )
    return _section(
        "business-case",
        "The business case (model)",
        _model_paragraphs(text),
        blocks,
        box="nonrandomized",
    )


def evidence(rel: Release, meta: Mapping[str, Any], figures: Figures) -> Section | None:
    if "evidence" not in rel.tables:
        return None
    caption = "This trial among published coaching trials (random effects)."
    blocks = [*_evidence_blocks(rel.tables["evidence"]), *_figure(figures, "meta_forest", caption)]
    text = (
        "This trial's primary effect next to published coaching trials (only figures checked "
        "against their source), pooled by random-effects meta-analysis. Trials differ in "
        "populations and programmes; read the pooled estimate with its prediction interval."
    )
    return _section("evidence", "The trial among the evidence", _plain(text), blocks)


def trajectories(rel: Release, meta: Mapping[str, Any], figures: Figures) -> Section | None:
    keys = [k for k in figures if k.startswith("trajectory:")]
    if "figures" not in meta["include"] or not keys:
        return None
    blocks = []
    for key in keys:
        caption = (
            f"{_label(key.split(':', 1)[1])}: mean per arm at each wave with {meta['pct']} "
            "confidence intervals."
        )
        blocks += _figure(figures, key, caption)
    text = "Average score per arm at each wave, with confidence intervals."
    return _section("figures", "Outcomes over time", _plain(text), blocks)


def methods(rel: Release, meta: Mapping[str, Any], figures: Figures) -> Section:
    return _section(
        "methods", "Methods notes", [], [dict(kind="list", entries=_methods(rel, meta))]
    )


#: the page's sections in order
SECTIONS: tuple[Callable[[Release, Mapping[str, Any], Figures], Section | None], ...] = (
    summary,
    flow,
    baseline,
    effects,
    percent_change,
    nonrandomized,
    responders,
    reliability,
    benefit,
    business_case,
    evidence,
    trajectories,
    methods,
)
