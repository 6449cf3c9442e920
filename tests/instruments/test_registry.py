"""Instrument registry: shipped TOML definitions, the strict schema, custom instruments.

Expected structures below are transcribed from the sources cited in each TOML file
(``/work/shared/INSTRUMENTS.md`` collects them with their evidence grade), not from our code.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coaching_trials as ct
from coaching_trials.instruments.registry import (
    Instrument,
    InstrumentDefinitionError,
    get_instrument,
    list_instruments,
    load_instrument,
)

DEFINITIONS = (
    Path(__file__).resolve().parents[2] / "src" / "coaching_trials" / "instruments" / "definitions"
)
SHIPPED = ("cbi", "iwpr", "mbi", "miniz", "pfi", "qol", "svs", "uwes3", "uwes9")


def items(prefix: str, numbers) -> tuple[str, ...]:
    return tuple(f"{prefix}{i:02d}" for i in numbers)


# --------------------------------------------------------------------------------------------
# shipped definitions
# --------------------------------------------------------------------------------------------


def test_every_definition_file_loads_and_is_listed():
    files = sorted(p.stem for p in DEFINITIONS.glob("*.toml"))
    assert files == sorted(SHIPPED)
    for path in DEFINITIONS.glob("*.toml"):
        inst = load_instrument(path)
        assert inst.id == path.stem
        assert inst == get_instrument(path.stem)


def test_list_instruments_table():
    table = list_instruments()
    assert list(table.columns) == ["id", "name", "n_items", "subscales", "range", "licence"]
    assert table["id"].tolist() == sorted(SHIPPED)
    pfi = table.set_index("id").loc["pfi"]
    assert pfi["n_items"] == 16
    assert pfi["subscales"] == "pf, we, id, burnout"
    assert pfi["range"] == "0-4"
    assert table.set_index("id").loc["mbi", "range"] == "0-6"


@pytest.mark.parametrize("iid", SHIPPED)
def test_every_shipped_instrument_documents_its_sources(iid):
    inst = get_instrument(iid)
    assert inst.citation.strip()
    assert inst.licence.strip()
    assert any(tag in inst.evidence for tag in ("[V]", "[S]", "[?]"))


@pytest.mark.parametrize(
    ("iid", "subscale", "expected_items", "reverse", "aggregation", "higher_is"),
    [
        ("pfi", "pf", items("pfi_", range(1, 7)), (), "mean", "better"),
        ("pfi", "we", items("pfi_", range(7, 11)), (), "mean", "worse"),
        ("pfi", "id", items("pfi_", range(11, 17)), (), "mean", "worse"),
        ("pfi", "burnout", items("pfi_", range(7, 17)), (), "mean", "worse"),
        ("svs", "total", items("svs_", range(1, 5)), (), "sum", "better"),
        ("uwes9", "vigor", items("uwes_", (1, 2, 5)), (), "mean", "better"),
        ("uwes9", "dedication", items("uwes_", (3, 4, 7)), (), "mean", "better"),
        ("uwes9", "absorption", items("uwes_", (6, 8, 9)), (), "mean", "better"),
        ("uwes9", "total", items("uwes_", range(1, 10)), (), "mean", "better"),
        ("uwes3", "total", items("uwes_", (1, 3, 8)), (), "mean", "better"),
        ("mbi", "ee", items("mbi_", (1, 2, 3, 6, 8, 13, 14, 16, 20)), (), "sum", "worse"),
        ("mbi", "dp", items("mbi_", (5, 10, 11, 15, 22)), (), "sum", "worse"),
        ("mbi", "pa", items("mbi_", (4, 7, 9, 12, 17, 18, 19, 21)), (), "sum", "better"),
        ("miniz", "burnout_score", ("miniz_burnout",), (), "mean", "worse"),
        ("cbi", "personal", items("cbi_", range(1, 7)), (), "mean", "worse"),
        ("cbi", "work", items("cbi_", range(7, 14)), ("cbi_13",), "mean", "worse"),
        ("cbi", "client", items("cbi_", range(14, 20)), (), "mean", "worse"),
        ("qol", "score", ("qol_01",), (), "mean", "better"),
        ("iwpr", "score", ("iwpr_01",), (), "mean", "worse"),
    ],
)
def test_subscale_structure(iid, subscale, expected_items, reverse, aggregation, higher_is):
    sub = get_instrument(iid).subscales[subscale]
    assert sub.items == expected_items
    assert sub.reverse == reverse
    assert sub.aggregation == aggregation
    assert sub.higher_is == higher_is


@pytest.mark.parametrize(
    ("iid", "n_items", "lo", "hi", "default_metric"),
    [
        ("pfi", 16, 0, 4, "mean"),
        ("svs", 4, 0, 4, "sum"),
        ("uwes9", 9, 0, 6, "mean"),
        ("uwes3", 3, 0, 6, "mean"),
        ("mbi", 22, 0, 6, "sum"),
        ("miniz", 1, 1, 5, "raw"),
        ("cbi", 19, 0, 4, "0-100"),
        ("qol", 1, 0, 10, "raw"),
        ("iwpr", 1, 0, 10, "raw"),
    ],
)
def test_instrument_ranges(iid, n_items, lo, hi, default_metric):
    inst = get_instrument(iid)
    assert len(inst.items) == n_items
    assert (inst.response_min, inst.response_max) == (lo, hi)
    assert inst.default_metric == default_metric


def test_mbi_items_partition_all_22_items():
    mbi = get_instrument("mbi")
    seen = [i for s in mbi.subscales.values() for i in s.items]
    assert sorted(seen) == list(items("mbi_", range(1, 23)))


@pytest.mark.parametrize(
    "column",
    # the shared naming contract (common.md): every scored and flag column some module relies on
    [
        "pfi_pf", "pfi_we", "pfi_id", "pfi_burnout", "svs_total", "uwes9_vigor",
        "uwes9_dedication", "uwes9_absorption", "uwes9_total", "uwes3_total", "qol_score",
        "iwpr_score", "mbi_ee", "mbi_dp", "mbi_pa", "miniz_burnout_score", "cbi_personal",
        "cbi_work", "cbi_client", "pfi_burnout_high", "pfi_pf_high", "mbi_ee_high",
        "mbi_dp_high", "mbi_pa_low", "mbi_burnout",
    ],
)  # fmt: skip
def test_naming_contract_columns_exist(column):
    produced = {c for iid in SHIPPED for c in get_instrument(iid).output_columns()}
    assert column in produced


def test_get_instrument_is_case_insensitive_and_passes_instruments_through():
    pfi = get_instrument("PFI")
    assert pfi.id == "pfi"
    assert get_instrument(pfi) is pfi


def test_unknown_instrument_lists_known_ids():
    with pytest.raises(ValueError, match="instrument") as info:
        get_instrument("pfx")
    message = str(info.value)
    assert "'pfx'" in message
    for iid in SHIPPED:
        assert repr(iid) in message


def test_public_names_are_exported():
    assert ct.get_instrument is get_instrument
    assert ct.Instrument is Instrument
    assert ct.load_instrument is load_instrument


# --------------------------------------------------------------------------------------------
# metrics and cut-points move with the metric
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iid", "subscale", "cut", "metric", "expected"),
    [
        # declared on the item mean: x1, x n_items, x2.5, x25
        ("pfi", "burnout", "high", "mean", 1.33),
        ("pfi", "burnout", "high", "sum", 13.3),  # 1.33 x 10 items
        ("pfi", "burnout", "high", "0-10", 3.325),  # 1.33 x 2.5
        ("pfi", "burnout", "high", "0-100", 33.25),  # 1.33 x 25
        ("pfi", "pf", "high", "mean", 3.0),
        ("pfi", "pf", "high", "sum", 18.0),  # 3.0 x 6 items
        ("pfi", "pf", "high", "0-10", 7.5),
        ("pfi", "pf", "high", "0-100", 75.0),
        # declared on the raw sum (Brady 2022 crosswalk): WE >= 7 of 4 items
        ("pfi", "we", "high", "sum", 7.0),
        ("pfi", "we", "high", "mean", 1.75),  # 7 / 4
        ("pfi", "id", "high", "mean", 1.5),  # 9 / 6
        ("mbi", "ee", "high", "sum", 27.0),
        ("mbi", "ee", "high", "mean", 3.0),  # 27 / 9
        ("mbi", "dp", "high", "mean", 2.0),  # 10 / 5
        ("mbi", "pa", "low", "mean", 4.125),  # 33 / 8
        ("svs", "total", "low", "sum", 8.0),
        ("svs", "total", "low", "mean", 2.0),  # 8 / 4
        ("miniz", "burnout_score", "high", "raw", 3.0),
        ("qol", "score", "deficit", "raw", 5.0),
    ],
)
def test_cutpoint_moves_with_metric(iid, subscale, cut, metric, expected):
    inst = get_instrument(iid)
    assert inst.cutpoint_value(subscale, cut, metric=metric) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("iid", "subscale", "metric", "expected"),
    [
        ("pfi", "pf", "mean", (0, 4)),
        ("pfi", "pf", "sum", (0, 24)),
        ("pfi", "we", "sum", (0, 16)),
        ("pfi", "burnout", "sum", (0, 40)),
        ("pfi", "id", "0-10", (0, 10)),
        ("pfi", "id", "0-100", (0, 100)),
        ("svs", "total", "sum", (0, 16)),
        ("mbi", "ee", "sum", (0, 54)),
        ("mbi", "dp", "sum", (0, 30)),
        ("mbi", "pa", "sum", (0, 48)),
        ("cbi", "work", "0-100", (0, 100)),
        ("uwes9", "total", "mean", (0, 6)),
        ("miniz", "burnout_score", "raw", (1, 5)),
    ],
)
def test_score_range(iid, subscale, metric, expected):
    assert get_instrument(iid).score_range(subscale, metric) == expected


def test_convert_round_trips_between_metrics():
    pfi = get_instrument("pfi")
    values = np.array([0.0, 1.2, 3.7, 4.0])
    to_100 = pfi.convert(values, "burnout", from_metric="mean", to_metric="0-100")
    np.testing.assert_allclose(to_100, values * 25)
    back = pfi.convert(to_100, "burnout", from_metric="0-100", to_metric="sum")
    np.testing.assert_allclose(back, values * 10)


def test_unknown_metric_and_cutpoint_names_are_reported():
    pfi = get_instrument("pfi")
    with pytest.raises(ValueError, match="`metric` must be one of 'mean', 'sum', '0-10', '0-100'"):
        pfi.cutpoint_value("pf", "high", metric="z")
    with pytest.raises(ValueError, match="`cutpoint` must be one of 'high'; got 'low'"):
        pfi.cutpoint_value("pf", "low")
    with pytest.raises(ValueError, match="`subscale` must be one of"):
        pfi.score_range("xx")


def test_with_cutpoint_makes_a_strict_copy_and_leaves_the_original():
    pfi = get_instrument("pfi")
    strict = pfi.with_cutpoint("pf", "high", op=">")
    assert strict.subscales["pf"].cutpoints["high"].op == ">"
    assert not strict.subscales["pf"].cutpoints["high"].inclusive
    assert pfi.subscales["pf"].cutpoints["high"].op == ">="
    with pytest.raises(InstrumentDefinitionError, match="op"):
        pfi.with_cutpoint("pf", "high", op="=>")


# --------------------------------------------------------------------------------------------
# custom instruments and the strict schema
# --------------------------------------------------------------------------------------------


def minimal_spec() -> dict:
    return {
        "id": "demo",
        "name": "Demo scale",
        "items": ["d_1", "d_2", "d_3", "d_4"],
        "response_min": 1,
        "response_max": 5,
        "metrics": {"mean": {}, "sum": {"aggregation": "sum"}},
        "default_metric": "mean",
        "subscales": {
            "a": {"items": ["d_1", "d_2"], "reverse": ["d_2"], "higher_is": "better"},
            "b": {
                "items": ["d_3", "d_4"],
                "higher_is": "worse",
                "cutpoints": {"high": {"value": 4, "op": ">="}},
            },
            "all": {"composite_of": ["a", "b"], "higher_is": "better"},
        },
        "flags": {"alert": {"any": ["b.high"]}},
    }


def test_custom_instrument_from_dict():
    inst = load_instrument(minimal_spec())
    assert inst.items == ("d_1", "d_2", "d_3", "d_4")
    assert inst.subscales["all"].items == ("d_1", "d_2", "d_3", "d_4")
    assert inst.subscales["all"].reverse == ("d_2",)  # inherited from part "a"
    assert inst.subscales["a"].min_answered == 1  # half of 2, rounded up
    assert inst.subscales["all"].min_answered == 2
    assert inst.output_columns() == ["demo_a", "demo_b", "demo_all", "demo_b_high", "demo_alert"]
    assert inst.source == "<dict>"


def test_custom_instrument_from_toml_file(tmp_path):
    text = """
id = "demo"
name = "Demo scale"
citation = "none"
licence = "none"
items = ["d_1", "d_2", "d_3"]
response_min = 0
response_max = 3
aggregation = "sum"

[subscales.total]
items = ["d_1", "d_2", "d_3"]
reverse = ["d_3"]
higher_is = "worse"
min_answered = 2

[subscales.total.cutpoints.high]
value = 6
op = ">"
"""
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    for source in (path, str(path)):
        inst = load_instrument(source)
        assert inst.source == str(path)
        assert inst.default_metric == "raw"
        assert inst.subscales["total"].aggregation == "sum"
        assert inst.subscales["total"].cutpoints["high"].op == ">"
        assert inst.score_range("total") == (0, 9)


def test_to_dict_round_trips():
    for iid in SHIPPED:
        inst = get_instrument(iid)
        again = load_instrument(inst.to_dict())
        assert again == inst
        assert again.to_dict() == inst.to_dict()


def test_definition_is_not_changed_by_loading():
    spec = minimal_spec()
    before = copy.deepcopy(spec)
    load_instrument(spec)
    assert spec == before


def _edit(path: tuple, value) -> dict:
    spec = minimal_spec()
    target = spec
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return spec


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("colour",), "blue", "key `colour`: unknown key"),
        (("subscales", "a", "weight"), 2, "key `subscales.a.weight`: unknown key"),
        (("metrics", "mean", "scale"), 2, "key `metrics.mean.scale`: unknown key"),
        (
            ("subscales", "b", "cutpoints", "high", "strict"),
            True,
            "key `subscales.b.cutpoints.high.strict`: unknown key",
        ),
        (("name",), _DELETE, "key `name`: required key is missing"),
        (("response_max",), "5", "key `response_max`: must be a finite number, got '5'"),
        (("response_max",), 1, "key `response_min`: must be smaller than response_max"),
        (("items",), ["d_1", "d_1", "d_2", "d_3", "d_4"], "item 'd_1' is listed more than once"),
        (("id",), "Demo", "key `id`: 'Demo' must start with a lower-case letter"),
        (
            ("subscales", "b", "items"),
            ["d_2", "d_3", "d_4"],
            "key `subscales.b.items`: item 'd_2' is already in subscale 'a'",
        ),
        (
            ("subscales", "a", "reverse"),
            ["d_3"],
            "key `subscales.a.reverse`: reverse key 'd_3' is not among the subscale's items",
        ),
        (
            ("subscales", "a", "items"),
            ["d_1", "d_2", "d_9"],
            "key `subscales.a.items`: item 'd_9' is not among the instrument's `items`",
        ),
        (("items",), ["d_1", "d_2", "d_3", "d_4", "d_5"], "item 'd_5' belongs to no subscale"),
        (("subscales", "a", "higher_is"), "up", "key `subscales.a.higher_is`: must be one of"),
        (("subscales", "a", "higher_is"), _DELETE, "key `subscales.a.higher_is`: required"),
        (
            ("subscales", "a", "min_answered"),
            3,
            "key `subscales.a.min_answered`: must be between 1 and 2",
        ),
        (
            ("subscales", "a", "min_answered"),
            1.5,
            "key `subscales.a.min_answered`: must be an integer",
        ),
        (
            ("subscales", "a", "aggregation"),
            "median",
            "key `subscales.a.aggregation`: must be one of",
        ),
        (
            ("subscales", "all", "composite_of"),
            ["a", "zz"],
            "key `subscales.all.composite_of`: 'zz' is not another subscale",
        ),
        (
            ("subscales", "all", "reverse"),
            ["d_2"],
            "key `subscales.all.reverse`: a composite takes its reverse keys from its parts",
        ),
        (
            ("subscales", "all", "items"),
            ["d_1"],
            "key `subscales.all`: give exactly one of `items` or `composite_of`",
        ),
        (
            ("subscales", "b", "cutpoints", "high", "metric"),
            "0-100",
            "key `subscales.b.cutpoints.high.metric`: must name a declared metric",
        ),
        (
            ("subscales", "b", "cutpoints", "high", "op"),
            "=>",
            "key `subscales.b.cutpoints.high.op`",
        ),
        (("subscales", "b", "cutpoints", "high", "value"), _DELETE, "high.value`: required key"),
        (("flags", "alert", "any"), ["zz.high"], "names unknown subscale 'zz'"),
        (("flags", "alert", "any"), ["a.high"], "names unknown cut-point 'high'"),
        (
            ("flags", "alert", "all"),
            ["b.high"],
            "key `flags.alert`: give exactly one of `any` or `all`",
        ),
        (("default_metric",), "0-10", "key `default_metric`: must name a declared metric"),
        (("metrics", "sum", "factor"), 0, "key `metrics.sum.factor`: must be > 0"),
        (("flags", "all"), {"any": ["b.high"]}, "output column 'demo_all' would be produced twice"),
    ],
)
def test_schema_errors_name_the_key(path, value, expected):
    spec = _edit(path, value)
    with pytest.raises(InstrumentDefinitionError) as info:
        load_instrument(spec)
    message = str(info.value)
    assert "Invalid instrument definition in <dict>" in message
    assert expected in message


def test_schema_errors_are_all_reported_at_once_with_the_file_name(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(
        'id = "broken"\nname = "x"\nitems = ["a", "b"]\nresponse_min = 0\nresponse_max = 4\n'
        'colour = "red"\n'
        '[subscales.s]\nitems = ["a", "b"]\nreverse = ["c"]\nhigher_is = "better"\n'
        '[subscales.s.cutpoints.hi]\nvalue = 2\nmetric = "nope"\n',
        encoding="utf-8",
    )
    with pytest.raises(InstrumentDefinitionError) as info:
        load_instrument(path)
    message = str(info.value)
    assert str(path) in message
    assert "3 problem(s)" in message
    assert "key `colour`" in message
    assert "key `subscales.s.reverse`" in message
    assert "key `subscales.s.cutpoints.hi.metric`" in message


def test_invalid_toml_syntax_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("id = \n", encoding="utf-8")
    with pytest.raises(InstrumentDefinitionError, match="Invalid TOML in .*bad.toml"):
        load_instrument(path)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (Path("/nonexistent/x.toml"), FileNotFoundError),
        (42, TypeError),
        (["id"], TypeError),
    ],
)
def test_load_instrument_bad_sources(source, error):
    with pytest.raises(error):
        load_instrument(source)


# --------------------------------------------------------------------------------------------
# reverse keying
# --------------------------------------------------------------------------------------------


def test_reverse_keyed_applies_min_plus_max_minus_r():
    cbi = get_instrument("cbi")
    frame = pd.DataFrame({c: [0, 4, np.nan] for c in cbi.items})
    out = cbi.reverse_keyed(frame)
    assert out["cbi_13"].tolist()[:2] == [4, 0]  # 0 + 4 - r
    assert np.isnan(out["cbi_13"].iloc[2])
    assert out["cbi_12"].tolist()[:2] == [0, 4]  # not reverse-keyed
    assert frame["cbi_13"].tolist()[:2] == [0, 4]  # caller's frame untouched


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([np.nan, 1.0, 2.0, 3.0, 4.0, 5.0]), min_size=4, max_size=4),
        min_size=1,
        max_size=20,
    )
)
def test_reverse_keying_twice_is_identity(rows):
    inst = load_instrument(minimal_spec())
    frame = pd.DataFrame(rows, columns=list(inst.items))
    twice = inst.reverse_keyed(inst.reverse_keyed(frame))
    pd.testing.assert_frame_equal(twice, frame)


def test_reverse_keyed_missing_columns():
    with pytest.raises(ValueError, match="pfi_16"):
        get_instrument("pfi").reverse_keyed(pd.DataFrame({"pfi_01": [1]}))
