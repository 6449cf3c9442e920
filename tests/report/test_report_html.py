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
        "exclusions",
        "descriptives",
        "nonrandomized",
    }
    assert list(report.suppression_log.columns) == [
        "table",
        "row",
        "column",
        "kind",
        "reason",
        "blanked",
        "protected",
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
    assert f"coaching_trials {ct.__version__}" in text and '"min_cell": 5' in text
    assert "NON-RANDOMIZED" in text and "Non-randomized estimates" in text


def test_no_participant_id_anywhere(report, example):
    text = report.path.read_text(encoding="utf-8")
    words = set(re.findall(r"\w+", text))
    ids = set(example.participants["participant_id"])
    assert ids and not ids & words
    assert not any(i in text for i in ids)


def test_no_visible_count_below_min_cell(report):
    count_columns = {
        "flow": ["immediate", "delayed", "overall"],
        "baseline": ["n_immediate", "n_delayed", "n_overall"],
        "effects": ["n_treated", "n_control"],
        "descriptives": ["baseline_n", "endpoint_n", "percent_change_n"],
        "nonrandomized": ["n_treated"],
        "exclusions": ["n_rows"],
    }
    for name, cols in count_columns.items():
        for col in cols:
            for v in report.tables[name][col]:
                if isinstance(v, str):
                    assert v in ("<5", "—")
                elif not pd.isna(v):
                    assert v == 0 or v >= 5, (name, col, v)
    assert len(report.suppression_log) > 0
    # the flow of the sample has small "not assessed" reasons: hidden in the HTML as well
    cells = parse(report.path).cells
    assert "<5" in cells
    small = [c for c in cells if re.fullmatch(r"[1-4]", c.strip())]
    assert small == []


def test_statistics_of_small_cells_are_blank(trial, tmp_path):
    # with min_cell above the arm sizes everything that depends on a count disappears
    rep = build_report(
        trial,
        outcomes=["pfi_burnout"],
        primary="pfi_burnout",
        out=tmp_path / "r.html",
        min_cell=80,
        figures=False,
    )
    eff = rep.tables["effects"]
    assert eff["n_treated"].tolist() == ["<80"] and np.isnan(eff["estimate"]).all()
    assert np.isnan(eff["conf_low"]).all() and np.isnan(eff["d_ppc2"]).all()
    desc = rep.tables["descriptives"]
    assert desc["endpoint_mean"].isna().all() and desc["percent_change"].isna().all()
    text = rep.path.read_text(encoding="utf-8")
    assert "Not shown: a group in this comparison has fewer than 80" in text
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
    assert set(rep.tables) == {"effects", "exclusions"}
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


def test_identifier_like_variable_left_out_and_ids_guarded(example, tmp_path):
    part = example.participants.assign(nickname=example.participants["participant_id"])
    trial = ct.DelayedInterventionTrial(
        ct.score(example.responses, "pfi"), participants=part, **example.design
    )
    rep = build_report(
        trial,
        outcomes=["pfi_burnout"],
        primary="pfi_burnout",
        out=tmp_path / "r.html",
        figures=False,
        include=("baseline",),
    )
    text = rep.path.read_text(encoding="utf-8")
    assert "nickname" in text and "P001" not in text
    # an id smuggled in through the title is caught and nothing is written
    with pytest.raises(RuntimeError, match="participant identifier"):
        build_report(
            trial,
            outcomes=["pfi_burnout"],
            primary="pfi_burnout",
            out=tmp_path / "bad.html",
            figures=False,
            include=(),
            title="Report for P017",
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


def test_trajectory_figure_prints_no_counts(trial):
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
        _figures.trajectory_figure(trial, "pfi_burnout", "Burnout", min_cell=5, conf_level=0.95)
    finally:
        _figures.png_data_uri = saved
    assert not [t for t in drawn if re.fullmatch(r"\s*(n\s.*|n=.*|<\d+|\d+)\s*", t)]


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
    assert rep.config["covariates"] == ["years_in_practice"]


# --------------------------------------------------------------------------------------------
# the CONSORT diagram shows the flow table's counts, hidden the same way
# --------------------------------------------------------------------------------------------
def test_consort_diagram_shows_exactly_the_flow_table(trial, tmp_path, monkeypatch):
    import coaching_trials.plots.consort as consort

    drawn = []
    real = consort.plot_consort

    def spy(flow, **kwargs):
        ax = real(flow, **kwargs)
        drawn.append(ax.ct_data.copy())
        return ax

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
    boxes = drawn[0]
    table = rep.tables["flow"]
    text = rep.path.read_text(encoding="utf-8")
    assert 'alt="Participant flow (CONSORT diagram)' in text

    def cell(row, arm):
        return str(table.loc[row, arm])

    compared = set()
    for b in boxes.itertuples(index=False):
        if b.box == "randomized":
            row, arm = "Randomized", "overall"
        elif b.box == "allocated":
            row, arm = "Randomized", b.arm
        elif b.box == "assessed":
            row, arm = f"Assessed at {b.wave}", b.arm
        elif b.box == "analysed":
            row, arm = f"Analysed at {b.wave} (primary outcome)", b.arm
        else:
            row = f"Not assessed at {b.wave}" if b.box == "not assessed" else "Not analysed"
            arm = b.arm
            for line in b.text.splitlines()[1:]:
                reason, n = line.removeprefix("\N{BULLET} ").rsplit(": ", 1)
                assert n == str(table.loc[f"{row}: {reason}", arm]), (arm, row, reason)
                compared.add((f"{row}: {reason}", arm))
        assert b.n_label == str(table.loc[row, arm]), (b.box, arm, b.wave)
        compared.add((row, arm))
    # every non-zero count of the arms' columns is in the diagram, drawn as the table shows it
    # (zeros are rows of the other arm's reasons: no line in the diagram)
    nonzero = {(r, a) for a in trial.arms for r in table.index if table.loc[r, a] != 0}
    assert nonzero <= compared
    hidden = {(r, a) for (r, a) in nonzero if isinstance(table.loc[r, a], str)}
    assert any(table.loc[c] == "\N{EM DASH}" for c in hidden)  # a complementary cell too
    # and no number anywhere in the diagram is one the table does not show
    numbers = {int(m) for t in boxes["text"] for m in re.findall(r"(?:n = |: )(\d+)", t)}
    shown = {int(v) for a in (*trial.arms, "overall") for v in table[a] if not isinstance(v, str)}
    assert numbers and numbers <= shown


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


def test_table1_mean_of_a_large_group_is_shown(table1):
    trial, rep = table1
    base = rep.tables["baseline"]
    # qol_score: a few people missing in every arm (<5), so the count of those answering
    # is hidden as a complement; the mean and SD of those 60+ people stay
    assert base.loc["qol_score | missing", "n_immediate"] == "<5"
    assert base.loc["qol_score | mean (SD)", "n_immediate"] == "\N{EM DASH}"
    resp = trial.responses
    at_base = resp[resp["wave"] == "baseline"]
    text = " ".join(parse(rep.path).cells)
    for arm in ("immediate", "delayed"):
        x = at_base.loc[at_base["arm"] == arm, "qol_score"].dropna()
        assert len(x) >= 5
        assert base.loc["qol_score | mean (SD)", f"mean_{arm}"] == pytest.approx(x.mean())
        assert f"{x.mean():.2f} ({x.std(ddof=1):.2f})" in text


def test_table1_percentages_never_reveal_a_hidden_count(table1):
    _, rep = table1
    base = rep.tables["baseline"]
    arms = ("immediate", "delayed", "overall")
    for row in base.index:
        for a in arms:
            if isinstance(base.loc[row, f"n_{a}"], str):  # hidden: its percentage is gone
                assert np.isnan(base.loc[row, f"pct_{a}"]), (row, a)
    # gender: "not reported" is small, "male" hidden as the complement (the smallest choice,
    # see test_report_suppress.test_two_way_table_hides_a_rectangle); the female count keeps
    # its percentage because the denominator (all randomized answered) is shown
    assert base.loc["gender | not reported", "n_immediate"] == "<5"
    assert base.loc["gender | male", "n_immediate"] == "\N{EM DASH}"
    female = base.loc["gender | female"]
    assert female["pct_immediate"] == pytest.approx(
        100 * female["n_immediate"] / base.loc["Participants randomized", "n_immediate"]
    )
    assert np.isnan(base.loc["gender | male", "smd"])  # an SMD of proportions gives it away
    text = rep.path.read_text(encoding="utf-8")
    assert "hidden so that a small count cannot be worked out from the totals" in text
    assert "a mean or SD of that group is still shown" in text


def test_suppressed_flow_is_the_reports_flow(trial, report):
    from coaching_trials.report import suppressed_flow

    sf = suppressed_flow(trial, "pfi_burnout", min_cell=5)
    pd.testing.assert_frame_equal(sf.table, report.tables["flow"])
    pd.testing.assert_frame_equal(sf.to_frame(), sf.table)
    assert list(sf.flow.columns) == ["arm", "stage", "wave", "reason", "n"]
    assert len(sf.log) == int((report.suppression_log["table"] == "flow").sum())
    with pytest.raises(TypeError, match="DelayedInterventionTrial"):
        suppressed_flow(trial.flow(), "pfi_burnout")
    with pytest.raises(ValueError, match="min_cell"):
        suppressed_flow(trial, "pfi_burnout", min_cell=0)
