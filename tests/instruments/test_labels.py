"""outcome_info / outcome_labels: display names, ranges and directions from the registry."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials.instruments.labels import LABEL_COLUMNS, suggest_outcome


@pytest.mark.parametrize(
    ("column", "metric", "short", "higher_is", "low", "high"),
    [
        # facts from shared/INSTRUMENTS.md (Trockel 2018; MBI manual; CBI Kristensen 2005)
        ("pfi_burnout", None, "Burnout", "worse", 0, 4),
        ("pfi_burnout", "sum", "Burnout", "worse", 0, 40),  # 10 items x 0-4
        ("pfi_pf", "0-100", "Fulfillment", "better", 0, 100),
        ("pfi_we", "sum", "Exhaustion", "worse", 0, 16),  # 4 items x 0-4
        ("mbi_ee", None, "Exhaustion", "worse", 0, 54),  # 9 items x 0-6
        ("mbi_pa", None, "Accomplishment", "better", 0, 48),  # 8 items x 0-6
        ("cbi_work", None, "Work burnout", "worse", 0, 100),
        ("svs_total", None, "Self-valuation", "better", 0, 16),
    ],
)
def test_scores_have_registry_names_ranges_and_direction(
    column, metric, short, higher_is, low, high
):
    info = ct.outcome_info(column, metric=metric)
    assert set(info) == set(LABEL_COLUMNS)
    assert info["kind"] == "score"
    assert info["short_label"] == short
    assert info["higher_is"] == higher_is
    assert (info["low"], info["high"]) == (low, high)
    assert f"{low:g}-{high:g}" in info["unit"]
    inst = ct.get_instrument(info["instrument_id"])
    assert info["instrument"] == inst.name
    assert info["label"] == inst.subscales[info["subscale"]].name


def test_flags_are_proportions_with_direction_of_the_cut():
    burnout = ct.outcome_info("pfi_burnout_high")  # high burnout: more is worse
    assert (burnout["kind"], burnout["unit"], burnout["higher_is"]) == (
        "flag",
        "proportion",
        "worse",
    )
    assert ">= 1.33" in burnout["label"]
    fulfilled = ct.outcome_info("pfi_pf_high")  # high fulfillment: more is better
    assert fulfilled["higher_is"] == "better"


def test_unknown_column_falls_back_to_its_name():
    info = ct.outcome_info("sessions_attended")
    assert info["label"] == info["short_label"] == "sessions_attended"
    assert info["instrument"] is None and info["higher_is"] is None
    assert math.isnan(info["low"]) and math.isnan(info["high"])


def test_table_one_row_per_column_in_order_and_defaults_to_every_score():
    tab = ct.outcome_labels(["pfi_pf", "nope", "pfi_burnout"])
    assert list(tab.columns) == list(LABEL_COLUMNS)
    assert tab["column"].tolist() == ["pfi_pf", "nope", "pfi_burnout"]
    every = ct.outcome_labels()
    want = [
        c
        for i in ct.list_instruments()["id"]
        for c in ct.get_instrument(i).subscale_columns().values()
    ]
    assert sorted(every["column"]) == sorted(want)
    assert every["label"].ne(every["column"]).all()  # every shipped score has a name
    assert every["higher_is"].isin(["better", "worse"]).all()


def test_superset_of_the_report_keys_and_same_values():
    # the report's private outcome_info (report/render.py) will switch to this function
    from coaching_trials.report.render import outcome_info as report_info

    for col in ct.outcome_labels()["column"]:
        old, new = report_info(col), ct.outcome_info(col)
        assert set(old) <= set(new)
        assert {k: new[k] for k in old} == old


def test_custom_instrument_short_name_default_and_explicit():
    spec = {
        "id": "wb",
        "name": "Well-being",
        "items": ["wb_1", "wb_2"],
        "response_min": 1,
        "response_max": 5,
        "subscales": {
            "total": {
                "name": "Overall well-being (two items)",
                "items": ["wb_1"],
                "higher_is": "better",
            },
            "one": {"name": "First", "short_name": "1st", "items": ["wb_2"], "higher_is": "worse"},
        },
    }
    inst = ct.load_instrument(spec)
    info = ct.outcome_info("wb_total", instruments=inst)
    assert info["short_label"] == "Overall well-being"  # name up to " ("
    assert (info["low"], info["high"]) == (1, 5)
    assert ct.outcome_info("wb_one", instruments=[inst])["short_label"] == "1st"
    assert ct.outcome_info("wb_one")["instrument"] is None  # not shipped
    assert inst.to_dict()["subscales"]["one"]["short_name"] == "1st"  # round-trips


def test_short_name_must_be_text():
    spec = {
        "id": "wb",
        "name": "W",
        "items": ["wb_1"],
        "response_min": 1,
        "response_max": 5,
        "subscales": {"t": {"items": ["wb_1"], "short_name": 3, "higher_is": "better"}},
    }
    with pytest.raises(ct.InstrumentDefinitionError, match="short_name"):
        ct.load_instrument(spec)


def test_suggestions_prefer_scored_columns():
    cols = [f"pfi_{i:02d}" for i in range(1, 17)] + ["pfi_pf", "pfi_burnout", "pfi_burnout_high"]
    assert suggest_outcome("burnout", cols) == ["pfi_burnout"]
    assert suggest_outcome("Fulfillment", cols) == ["pfi_pf"]
    assert suggest_outcome("pfi_burnot", cols) == ["pfi_burnout"]
    assert suggest_outcome("zzz", cols) == []


def test_bad_column_type():
    with pytest.raises(TypeError, match="column"):
        ct.outcome_info(3)  # type: ignore[arg-type]
    assert isinstance(ct.outcome_labels("pfi_pf"), pd.DataFrame)
