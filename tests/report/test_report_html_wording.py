"""build_report's wording with a user's own arm labels, and HTML-escaped comparison signs."""

from __future__ import annotations

import re

import pytest

import coaching_trials as ct
from coaching_trials.report import build_report

ARMS = {"immediate": "Coaching", "delayed": "Waitlist"}


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    example = ct.load_example("delayed_intervention")
    responses = example.responses.assign(arm=example.responses["arm"].map(ARMS))
    design = dict(example.design, immediate="Coaching", delayed="Waitlist")
    trial = ct.DelayedInterventionTrial(ct.score(responses, "pfi"), **design)
    out = tmp_path_factory.mktemp("wording") / "report.html"
    build_report(
        trial, outcomes=["pfi_burnout"], primary="pfi_burnout", out=out, figures=False,
        include=("effects",),
    )  # fmt: skip
    return out.read_text(encoding="utf-8")


def test_subtitle_reads_well_with_any_arm_labels(page: str) -> None:
    """It used to read 'Coaching coaching vs Waitlist coaching (wait-list)'."""
    subtitle = re.search(r'<p class="subtitle">(.*?)</p>', page).group(1)
    assert "Coaching coaching" not in subtitle and "Waitlist coaching" not in subtitle
    assert subtitle.startswith(
        "Randomized delayed-intervention trial: Coaching (coached first) vs Waitlist (wait-list, "
        "coached after the waiting period), 138 participants randomized"
    )


def test_less_than_signs_in_text_are_escaped(page: str) -> None:
    """The primary result's p < 0.001 is written as '&lt;' (a bare '<' starts a tag in HTML)."""
    body = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    assert "(p &lt; 0.001)" in body
    assert re.search(r"<(?![a-zA-Z/!])", body) is None  # every '<' opens a tag
