"""Notebook displays: __repr__ and _repr_html_ of the public non-effects objects."""

from __future__ import annotations

import coaching_trials as ct
from coaching_trials._errors import did_you_mean


def test_example_data_repr_and_html_say_what_is_inside():
    ex = ct.load_example("delayed_intervention")
    counts = ex.participants["arm"].value_counts()
    text = repr(ex)
    assert f"immediate ({counts['immediate']}), delayed ({counts['delayed']})" in text
    assert "waves: baseline, month3, month6" in text
    assert "pfi (pfi_01..pfi_16)" in text
    assert "ct.DelayedInterventionTrial(ct.score(ex.responses, 'pfi')" in text
    html = ex._repr_html_()
    assert html.startswith('<div class="ct-card">')
    assert f"{len(ex.participants)}</li>" in html
    assert "&#39;pfi&#39;" in html  # text is escaped, not raw


def test_instrument_and_simulation_have_html_displays():
    html = ct.get_instrument("pfi")._repr_html_()
    assert "Stanford Professional Fulfillment Index (pfi)" in html
    assert "<td>pfi_burnout</td>" in html and "<td>worse</td>" in html
    assert "&amp;" in html  # the licence's "&" is escaped
    sim = ct.simulate_trial(n_immediate=8, n_delayed=8, seed=3)
    assert "<em>participants</em>: 16" in sim._repr_html_()
    assert "generating parameters" in sim.truth._repr_html_()


def test_result_titles_are_escaped():
    from coaching_trials._results import ResultMixin

    class R(ResultMixin):
        _title = "<script>x</script>"

        def to_frame(self):
            import pandas as pd

            return pd.DataFrame({"a": [1.0]})

    assert "<script>" not in R()._repr_html_()


def test_did_you_mean():
    assert did_you_mean("coaching", ["Coaching", "control"]) == " Did you mean 'Coaching'?"
    assert did_you_mean("contrl", ["Coaching", "control"]) == " Did you mean 'control'?"
    assert did_you_mean("zzz", ["Coaching"]) == ""
