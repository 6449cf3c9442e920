"""One vocabulary across the public API (issue 10, point 5).

Every public callable of ``coaching_trials`` (the names in ``coaching_trials.__all__``, the
constructors of its public non-dataclass classes and the public methods of every public class)
is read with :func:`inspect.signature`; a parameter named after a retired synonym
(``coaching_trials._vocab.SYNONYMS``) or ``ci`` (which named the interval METHOD; the house
name is ``ci_method``) fails the test, with the full list of offenders in the message.

Retired names live on only in the :func:`coaching_trials._vocab.renamed` wrapper, never in a
signature: ``mmrm(visit=...)`` is a published contract (DESIGN.md) kept as a quiet alias in the
wrapper, so it needs no exception here. The exception list below is for a parameter that uses a
retired spelling with a DIFFERENT meaning; each entry says why, and an entry that no longer
matches a signature fails too (so the list cannot go stale).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest

import coaching_trials as ct
from coaching_trials._vocab import HOUSE, SYNONYMS

#: names a public signature may not use (old name -> what to write instead)
RETIRED = {**SYNONYMS, "ci": "ci_method"}

#: (qualified callable, parameter) -> why the retired spelling means something else there
EXCEPTIONS: dict[tuple[str, str], str] = {}


def _public_callables() -> Iterator[tuple[str, Callable]]:
    """(qualified name, callable) for every public function, constructor and method."""
    for name in ct.__all__:
        if name.startswith("_"):
            continue
        obj = getattr(ct, name)
        if inspect.isclass(obj):
            # A dataclass's constructor lists its attributes (the result schema, which keeps
            # its names); any other class's constructor is called by users.
            init = obj.__dict__.get("__init__")
            if init is not None and not dataclasses.is_dataclass(obj):
                yield f"{name}()", init
            for attr, member in inspect.getmembers(obj):
                if attr.startswith("_") or isinstance(inspect.getattr_static(obj, attr), property):
                    continue
                if not callable(member) or inspect.isclass(member):
                    continue
                if not str(getattr(member, "__module__", "")).startswith("coaching_trials"):
                    continue  # inherited from pandas, Exception, ...
                yield f"{name}.{attr}", member
        elif callable(obj):
            yield name, obj


def _offenders() -> list[str]:
    found = []
    for qualname, fn in _public_callables():
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):  # a builtin without a signature
            continue
        for param in params:
            if param in RETIRED and (qualname, param) not in EXCEPTIONS:
                found.append(f"{qualname}({param}=) -> {RETIRED[param]}=")
    return sorted(found)


def test_the_walk_sees_the_public_api():
    # a walker that sees nothing passes anything: it must reach functions, constructors
    # and methods (DelayedInterventionTrial's methods are where most of the API is)
    names = {q for q, _ in _public_callables()}
    assert {"mmrm", "ancova", "build_report", "plot_forest", "to_long"} <= names
    assert "DelayedInterventionTrial()" in names
    assert any(q.startswith("DelayedInterventionTrial.") for q in names)
    assert len(names) > 150


def test_no_public_signature_uses_a_retired_name():
    offenders = _offenders()
    assert not offenders, (
        f"{len(offenders)} public parameter(s) use a retired name (house vocabulary: "
        f"{', '.join(HOUSE)}); rename them and keep the old keyword with "
        "@renamed(old='new'):\n  " + "\n  ".join(offenders)
    )


def test_exceptions_are_still_needed():
    seen = set()
    for qualname, fn in _public_callables():
        try:
            seen |= {(qualname, p) for p in inspect.signature(fn).parameters}
        except (TypeError, ValueError):
            continue
    assert not set(EXCEPTIONS) - seen, f"stale exceptions: {sorted(set(EXCEPTIONS) - seen)}"


def test_renamed_wrappers_map_retired_names_to_house_names():
    # every @renamed alias on the public API retires a listed synonym (or ci) to its house
    # name, and the new name is the one in the signature
    problems = []
    for qualname, fn in _public_callables():
        for old, new in getattr(fn, "__renamed__", {}).items():
            params = inspect.signature(fn).parameters
            if RETIRED.get(old) != new or new not in params or old in params:
                problems.append(f"{qualname}: {old} -> {new}")
    assert not problems, problems


# ---------------------------------------------------------------------------------------------
# the old names still work, with a FutureWarning, and give the same answer
# ---------------------------------------------------------------------------------------------
def _call_old_and_new(
    fn: Callable, args: tuple, old: dict, new: dict, *, quiet: bool = False, **common
):
    """Call ``fn`` with the retired keywords ``old`` and with the house keywords ``new``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        via_old = fn(*args, **old, **common)
    future = [w for w in caught if issubclass(w.category, FutureWarning)]
    if quiet:
        assert not future, [str(w.message) for w in future]
    else:
        assert future, f"{fn.__name__}({', '.join(old)}=) gave no FutureWarning"
        said = " | ".join(str(w.message) for w in future)
        assert all(f"({k}=...) is now" in said and f"({v}=...)" in said
                   for k, v in zip(old, new, strict=True)), said  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        via_new = fn(*args, **new, **common)
    return via_old, via_new


_TABLE = pd.DataFrame({"outcome": ["pfi_burnout", "pfi_wellbeing"], "estimate": [-0.25, 0.5]})


@pytest.mark.parametrize(
    "module, name",
    [
        ("coaching_trials.release", "numeric_view"),
        ("coaching_trials.report.tables", "format_frame"),
        ("coaching_trials.report.tables", "html_table"),
        ("coaching_trials.report.tables", "latex_table"),
    ],
)
def test_table_helpers_take_data_for_frame(module, name):
    fn = getattr(importlib.import_module(module), name)
    old, new = _call_old_and_new(fn, (), {"frame": _TABLE}, {"data": _TABLE})
    if isinstance(old, pd.DataFrame):
        pd.testing.assert_frame_equal(old, new)
    else:
        assert old == new
    with pytest.raises(TypeError, match="both frame= and data="):
        fn(frame=_TABLE, data=_TABLE)


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    return ct.load_example().responses


def test_to_long_and_to_wide_old_names(example):
    wide = ct.to_wide(
        example.drop(columns=["wave_date"]).iloc[:30], subject="participant_id", wave="wave"
    )
    a, b = _call_old_and_new(
        ct.to_long,
        (),
        {"wide": wide, "id_col": "participant_id", "wave_col": "wave"},
        {"data": wide, "subject": "participant_id", "wave": "wave"},
    )
    pd.testing.assert_frame_equal(a, b)
    long = example.drop(columns=["wave_date"]).iloc[:30]
    a, b = _call_old_and_new(
        ct.to_wide,
        (),
        {"long": long, "id_col": "participant_id", "wave_col": "wave"},
        {"data": long, "subject": "participant_id", "wave": "wave"},
    )
    pd.testing.assert_frame_equal(a, b)


def test_percent_change_ci_is_ci_method():
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {
            "arm": np.repeat(["immediate", "delayed"], 20),
            "base": rng.normal(3.0, 0.5, 40),
            "end": rng.normal(2.6, 0.5, 40),
        }
    )
    kw = dict(outcome="end", baseline="base", arm="arm", treated="immediate")
    a, b = _call_old_and_new(
        ct.percent_change, (data,), {"ci": "delta"}, {"ci_method": "delta"}, **kw
    )
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())


def test_mmrm_visit_is_a_quiet_alias_of_wave(example):
    data = ct.score(example, "pfi", keep_items=False)
    data = data[data["wave"] != "baseline"].dropna(subset=["pfi_burnout"])
    kw = dict(outcome="pfi_burnout", arm="arm", subject="participant_id", treated="immediate",
              covariance="cs")  # fmt: skip
    a, b = _call_old_and_new(
        ct.mmrm, (data,), {"visit": "wave"}, {"wave": "wave"}, quiet=True, **kw
    )
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
