"""build_report: one self-contained, deterministic HTML file without small cells or ids."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials.report import ReportResult, build_report

OUTCOMES = ["pfi_burnout", "pfi_pf"]


@pytest.fixture(scope="module")
def example():
    return ct.load_example("delayed_intervention")


@pytest.fixture(scope="module")
def trial(example):
    scored = ct.score(example.responses, "pfi")
    return ct.DelayedInterventionTrial(scored, participants=example.participants, **example.design)


@pytest.fixture(scope="module")
def report(trial, tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "report.html"
    return build_report(trial, outcomes=OUTCOMES, primary="pfi_burnout", out=out, figures=False)


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, dict]] = []
        self.cells: list[str] = []
        self._in_td = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))
        self._in_td = tag == "td"
        if tag == "td":
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_td = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_td:
            self.cells[-1] += data


def parse(path) -> Collector:
    c = Collector()
    c.feed(path.read_text(encoding="utf-8"))
    return c


def test_result_object(report):
    assert isinstance(report, ReportResult)
    assert report.path.name == "report.html" and report.path.exists()
    assert set(report.tables) == {
        "flow",
        "baseline",
        "effects",
        "standardized",
        "exclusions",
        "descriptives",
        "trajectories",
        "nonrandomized",
    }
    assert list(report.suppression_log.columns) == [
        "table",
        "row",
        "column",
        "label",
        "rule",
        "reason",
        "low",
        "high",
    ]
    assert report.config["min_cell"] == 5 and report.config["primary"] == "pfi_burnout"
    with pytest.raises(AttributeError):
        report.path = None  # frozen
    with pytest.raises(TypeError):
        report.tables["flow"] = None  # read-only mapping
    assert "cells hidden" in repr(report)


def test_structure_is_self_contained(report):
    page = parse(report.path)
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    for tag, attrs in page.attrs:
        for key in ("src", "href"):
            if key in attrs:
                assert attrs[key].startswith("data:") or attrs[key].startswith("#"), (tag, attrs)
    text = report.path.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    for anchor in (
        "summary",
        "flow",
        "baseline",
        "effects",
        "percent-change",
        "nonrandomized",
        "methods",
    ):
        assert f'id="{anchor}"' in text
    assert "<style>" in text and "<footer>" in text


def test_summary_methods_and_footer(report, trial):
    text = " ".join(parse(report.path).text)
    eff = trial.compare(OUTCOMES, primary="pfi_burnout").to_frame().iloc[0]
    # plain-language summary: what, difference with CI, direction
    assert f"{abs(eff['estimate']):.2f} points lower" in text
    assert f"runs from {eff['conf_low']:.2f} to {eff['conf_high']:.2f}" in text
    assert "favours coaching" in text
    assert "Analysis of covariance" in text and "Holm" in text and "complete cases" in text
    assert "Synthetic data" in text
    assert f"coaching_trials {ct.__version__}" in text
    page = report.path.read_text(encoding="utf-8")
    assert "<details" in page and "<td>min_cell</td><td>5</td>" in page
    assert "NON-RANDOMIZED" in text and "Non-randomized estimates" in text


def test_no_participant_id_anywhere(report, example):
    text = report.path.read_text(encoding="utf-8")
    words = set(re.findall(r"\w+", text))
    ids = set(example.participants["participant_id"])
    assert ids and not ids & words
    assert not any(i in text for i in ids)


def test_no_visible_count_below_min_cell(report):
    from coaching_trials.release import is_hidden

    count_columns = {
        "flow": ["n"],
        "baseline": ["n", "n_missing", "count"],
        "effects": ["n_treated", "n_control"],
        "descriptives": ["baseline_n", "endpoint_n", "percent_change_n"],
        "nonrandomized": ["n_treated"],
        "exclusions": ["n"],
        "trajectories": ["n"],
    }
    for name, cols in count_columns.items():
        for col in cols:
            for v in report.tables[name][col]:
                if isinstance(v, str):
                    assert is_hidden(v)
                elif not pd.isna(v):
                    assert v == 0 or v >= 5, (name, col, v)
    assert len(report.suppression_log) > 0
    cells = parse(report.path).cells
    assert "\N{EM DASH}" in cells  # hidden cells are drawn as a dash
    small = [c for c in cells if re.fullmatch(r"[1-4]", c.strip())]
    assert small == []


def test_statistics_of_small_cells_are_blank(trial, tmp_path):
    # with min_cell above the arm sizes everything that depends on a count disappears
    from coaching_trials.release import is_hidden

    rep = build_report(
        trial,
        outcomes=["pfi_burnout"],
        primary="pfi_burnout",
        out=tmp_path / "r.html",
        min_cell=80,
        figures=False,
    )
    eff = rep.tables["effects"]
    for col in ("n_treated", "estimate", "conf_low", "p_value", "df"):
        assert eff[col].map(is_hidden).all(), col
    assert rep.tables["standardized"]["estimate"].map(is_hidden).all()
    desc = rep.tables["descriptives"]
    assert desc["endpoint_mean"].map(is_hidden).all()
    assert desc["percent_change"].map(is_hidden).all()
    text = rep.path.read_text(encoding="utf-8")
    assert "Not shown: a group in this comparison is too small to report" in text
    estimate = trial.compare(["pfi_burnout"]).estimate
    assert f"{estimate:.2f}" not in text and f"{abs(estimate):.2f}" not in text


def test_bytes_are_deterministic_with_figures(trial, tmp_path):
    kwargs = dict(
        outcomes=["pfi_burnout"],
        primary="pfi_burnout",
        figures=True,
        include=("effects", "figures"),
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = build_report(trial, out=tmp_path / "a", **kwargs)
    b = build_report(trial, out=tmp_path / "b", **kwargs)
    assert a.path.name == "report.html"
    data_a, data_b = a.path.read_bytes(), b.path.read_bytes()
    assert data_a == data_b
    imgs = re.findall(rb'<img [^>]*src="data:image/png;base64,', data_a)
    assert len(imgs) == 2  # forest plot and one trajectory


def test_include_and_synthetic_switch(trial, tmp_path):
    rep = build_report(
        trial,
        outcomes=["pfi_burnout"],
        primary="pfi_burnout",
        out=tmp_path / "r.html",
        include=("effects",),
        figures=False,
        synthetic=False,
    )
    text = rep.path.read_text(encoding="utf-8")
    assert 'id="flow"' not in text and "Synthetic data" not in text
    assert 'id="summary"' in text and 'id="methods"' in text


def test_real_looking_data_get_no_synthetic_notice(example, tmp_path):
    resp = example.responses.copy()
    resp["pfi_01"] = resp["pfi_01"].fillna(0).clip(upper=3)  # no longer the example data
    trial = ct.DelayedInterventionTrial(
        ct.score(resp, "pfi"), participants=example.participants, **example.design
    )
    rep = build_report(
        trial,
        outcomes=["pfi_burnout"],
        primary="pfi_burnout",
        out=tmp_path / "r.html",
        figures=False,
        include=("effects",),
    )
    assert rep.config["synthetic"] is False
    assert "Synthetic data" not in rep.path.read_text(encoding="utf-8")


def test_no_followup_wave(example, tmp_path):
    resp = example.responses[example.responses["wave"] != "month6"]
    design = dict(example.design, followup_waves=())
    trial = ct.DelayedInterventionTrial(ct.score(resp, "pfi"), **design)
    rep = build_report(
        trial,
        outcomes=["pfi_burnout"],
        primary="pfi_burnout",
        out=tmp_path / "r.html",
        figures=False,
        include=("nonrandomized",),
    )
    assert "no follow-up wave" in rep.path.read_text(encoding="utf-8")
    assert "nonrandomized" not in rep.tables


def test_identifying_variables_are_refused_before_anything_is_written(example, tmp_path):
    from coaching_trials.release import IdentifierError

    scored = ct.score(example.responses, "pfi")
    for column, values in {
        "nickname": example.participants["participant_id"],  # unique free text
        "note": "Dr Jane Smith MRN 004417",
        "email": [f"p{i}@example.org" for i in range(len(example.participants))],
        "mrn": np.arange(len(example.participants)) * 7 + 100_003,  # numeric, unique
        "birth": (
            pd.to_datetime("1970-01-01")
            + pd.to_timedelta(np.arange(len(example.participants)), "D")
        ).strftime("%Y-%m-%d"),  # dates read from a CSV file are text
    }.items():
        part = example.participants.assign(**{column: values})
        trial = ct.DelayedInterventionTrial(scored, participants=part, **example.design)
        out = tmp_path / f"{column}.html"
        with pytest.raises(IdentifierError, match=column):
            build_report(
                trial,
                outcomes=["pfi_burnout"],
                primary="pfi_burnout",
                out=out,
                figures=False,
                include=("baseline",),
            )
        assert not out.exists()
    # declared by name, a categorical column is shown; an id in a label still stops the run
    part = example.participants.assign(site=np.where(example.participants.index % 2, "A", "B"))
    trial = ct.DelayedInterventionTrial(scored, participants=part, **example.design)
    rep = build_report(
        trial,
        outcomes=["pfi_burnout"],
        primary="pfi_burnout",
        out=tmp_path / "ok.html",
        figures=False,
        include=("baseline",),
        baseline_variables=["site"],
    )
    assert "<td>Site</td>" in rep.path.read_text(encoding="utf-8")
    part = example.participants.assign(site=np.where(example.participants.index % 2, "A", "P017"))
    trial = ct.DelayedInterventionTrial(scored, participants=part, **example.design)
    with pytest.raises(IdentifierError, match="participant id 'P017'"):
        build_report(
            trial,
            outcomes=["pfi_burnout"],
            primary="pfi_burnout",
            out=tmp_path / "bad.html",
            figures=False,
            include=("baseline",),
            baseline_variables=["site"],
        )
    assert not (tmp_path / "bad.html").exists()


def test_trial_not_mutated(trial, tmp_path):
    before = trial.responses
    build_report(
        trial,
        outcomes=["pfi_burnout"],
        primary="pfi_burnout",
        out=tmp_path / "r.html",
        figures=False,
        include=("flow",),
    )
    pd.testing.assert_frame_equal(trial.responses, before)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"primary": "pfi_we"}, ValueError, "primary"),
        ({"method": "glm"}, ValueError, "must be one of"),
        ({"include": ("flow", "pies")}, ValueError, "must be one of"),
        ({"min_cell": 0}, ValueError, "min_cell"),
        ({"figures": "yes"}, TypeError, "figures"),
        ({"outcomes": []}, ValueError, "outcomes"),
        ({"out": "report.pdf"}, ValueError, "html"),
    ],
)
def test_errors(trial, tmp_path, kwargs, error, match):
    args = dict(outcomes=["pfi_burnout"], primary="pfi_burnout", out=tmp_path / "r.html")
    args.update(kwargs)
    if "out" in kwargs:
        args["out"] = tmp_path / kwargs["out"]
    with pytest.raises(error, match=match):
        build_report(trial, **args)


def test_trial_type_checked(tmp_path):
    with pytest.raises(TypeError, match="DelayedInterventionTrial"):
        build_report(pd.DataFrame(), outcomes=["x"], primary="x", out=tmp_path / "r.html")


def _images(path) -> list[bytes]:
    import base64

    text = path.read_text(encoding="utf-8")
    return [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([^"]+)"', text)]


@pytest.mark.parametrize("mode", ["missing", "failing"])
def test_fallback_figures(trial, tmp_path, monkeypatch, mode):
    from coaching_trials.report import _figures

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(
        _figures,
        "_plots_function",
        (lambda name: None) if mode == "missing" else (lambda n: broken),
    )
    kwargs = dict(
        outcomes=["pfi_burnout"],
        primary="pfi_burnout",
        out=tmp_path / "r.html",
        include=("effects", "percent_change", "figures"),
    )
    if mode == "failing":
        with pytest.warns(RuntimeWarning, match="simpler figure"):
            rep = build_report(trial, **kwargs)
    else:
        rep = build_report(trial, **kwargs)
    images = _images(rep.path)
    assert len(images) == 3
    assert all(img.startswith(b"\x89PNG") for img in images)


def test_trajectory_figure_prints_no_counts(report):
    import matplotlib.pyplot as plt

    from coaching_trials.report import _figures

    drawn = []
    original = _figures.png_data_uri

    def spy(draw, *, figsize):
        fig, ax = plt.subplots()
        draw(ax)
        drawn.extend(t.get_text() for t in ax.texts)
        plt.close(fig)
        return original(draw, figsize=figsize)

    _figures.png_data_uri, saved = spy, _figures.png_data_uri
    try:
        _figures.trajectory_figure(
            report.tables["trajectories"],
            "pfi_burnout",
            "Burnout",
            crossover={"immediate": ("baseline", "month3")},
            conf_level=0.95,
        )
    finally:
        _figures.png_data_uri = saved
    assert drawn  # the coaching strip label
    assert not [t for t in drawn if re.fullmatch(r"\s*(n\s.*|n=.*|<\d+|\d+|hidden)\s*", t)]


def test_covariates_are_passed_to_the_comparison(trial, tmp_path):
    rep = build_report(
        trial,
        outcomes=["pfi_burnout"],
        primary="pfi_burnout",
        out=tmp_path / "r.html",
        figures=False,
        include=("effects",),
        covariates=("years_in_practice",),
    )
    expected = trial.compare(["pfi_burnout"], covariates=("years_in_practice",)).estimate
    plain = trial.compare(["pfi_burnout"]).estimate
    assert rep.tables["effects"]["estimate"].iloc[0] == pytest.approx(expected, abs=1e-12)
    assert abs(expected - plain) > 1e-6
    assert "also adjusted for years_in_practice" in rep.path.read_text(encoding="utf-8")
    assert rep.config["covariates"] == "years_in_practice"


# --------------------------------------------------------------------------------------------
# the CONSORT diagram shows the flow table's counts, hidden the same way
# --------------------------------------------------------------------------------------------
def test_consort_diagram_shows_exactly_the_flow_table(trial, tmp_path, monkeypatch):
    import coaching_trials.plots.consort as consort
    from coaching_trials.release import is_hidden

    drawn = []
    real = consort.plot_consort

    def spy(flow, **kwargs):
        drawn.append(flow.copy())
        return real(flow, **kwargs)

    monkeypatch.setattr(consort, "plot_consort", spy)
    rep = build_report(
        trial,
        outcomes=["pfi_burnout"],
        primary="pfi_burnout",
        out=tmp_path / "r.html",
        min_cell=5,
        include=("flow",),
    )
    assert len(drawn) == 1
    # the diagram is drawn from the released flow table itself, nothing else
    pd.testing.assert_frame_equal(drawn[0], rep.tables["flow"])
    text = rep.path.read_text(encoding="utf-8")
    assert 'alt="Participant flow (CONSORT diagram)' in text
    assert all(isinstance(v, (int, np.integer)) or is_hidden(v) for v in drawn[0]["n"])


# --------------------------------------------------------------------------------------------
# Table 1: statistics of large cells are kept, percentages never give a hidden count away
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def table1(example, tmp_path_factory):
    scored = ct.score(ct.score(example.responses, "pfi"), "qol")
    trial = ct.DelayedInterventionTrial(scored, participants=example.participants, **example.design)
    out = tmp_path_factory.mktemp("t1") / "report.html"
    rep = build_report(
        trial,
        outcomes=["pfi_burnout"],
        primary="pfi_burnout",
        out=out,
        include=("baseline",),
        figures=False,
        baseline_variables=["gender", "qol_score"],
    )
    return trial, rep


def test_table1_small_missing_counts_cannot_be_recovered(table1):
    # the leak: qol "missing <5" next to a per-arm baseline n; now the count of those
    # answering is hidden wherever it is printed, with the means of the hidden groups
    from coaching_trials.release import is_hidden

    trial, rep = table1
    base = rep.tables["baseline"]
    qol = base[base["variable"] == "qol_score"].set_index("arm")
    for arm in ("immediate", "delayed"):
        assert is_hidden(qol.at[arm, "n_missing"])
        assert is_hidden(qol.at[arm, "n"])
    # the overall mean is hidden too: with one arm's mean shown it would give the other's
    shown = [a for a in ("immediate", "delayed", "overall") if not is_hidden(qol.at[a, "mean"])]
    assert len(shown) <= 1


def test_table1_percentages_never_reveal_a_hidden_count(table1):
    from coaching_trials.release import is_hidden

    _, rep = table1
    base = rep.tables["baseline"]
    cat = base[base["kind"] == "categorical"]
    for _, row in cat.iterrows():
        if is_hidden(row["count"]) or is_hidden(row["n"]):
            assert is_hidden(row["percent"]), row.to_dict()
    gender = cat[cat["variable"] == "gender"].set_index(["level", "arm"])
    assert is_hidden(gender.loc[("not reported", "immediate"), "count"])
    text = rep.path.read_text(encoding="utf-8")
    assert "hidden to protect privacy" in text
