"""The minimum-versions constraints file says exactly what pyproject.toml declares.

`.ci/run` installs a second environment with ``-c .ci/constraints-min.txt`` and runs the suite
there. That run only proves the declared floors if the file pins every floor, at the floor, and
nothing else. These tests fail when one of the two files is edited without the other.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / ".ci" / "constraints-min.txt"

# Test and dev tools: the minimum run may take them newer than their floors (they test the package,
# they are not what a user installs); the constraints file pins some of them only so that
# every wheel exists for the floors (pingouin -> scikit-learn, seaborn, xarray).
TEST_TOOLS = {"pytest", "pytest-xdist", "hypothesis", "selenium", "pypdf", "pingouin", "ruff"}


def _project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]


def _declared() -> dict[str, tuple[str, list[Requirement]]]:
    """Every requirement of the package and its extras: name -> (where, [requirements])."""
    project = _project()
    out: dict[str, tuple[str, list[Requirement]]] = {}
    groups = {"dependencies": project["dependencies"], **project["optional-dependencies"]}
    for where, reqs in groups.items():
        for text in reqs:
            req = Requirement(text)
            name = canonicalize_name(req.name)
            if name == canonicalize_name(project["name"]):
                continue  # the dev extra names the package itself
            out.setdefault(name, (where, []))[1].append(req)
    return out


def _floor(req: Requirement) -> Version | None:
    floors = [Version(s.version) for s in req.specifier if s.operator == ">="]
    return max(floors) if floors else None


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for n, raw in enumerate(CONSTRAINTS.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([0-9][0-9A-Za-z.\-+]*)", line)
        assert m, f"{CONSTRAINTS.name}:{n}: expected 'name==version', got {raw!r}"
        name = canonicalize_name(m.group(1))
        assert name not in pins, f"{CONSTRAINTS.name}:{n}: {name} is pinned twice"
        pins[name] = Version(m.group(2))
    return pins


def test_every_requirement_declares_a_floor():
    missing = [
        str(r) for reqs in (v[1] for v in _declared().values()) for r in reqs if _floor(r) is None
    ]
    assert not missing, f"requirements without a '>=' floor: {missing}"


def test_a_package_named_twice_has_one_floor():
    split = {
        name: sorted({str(_floor(r)) for r in reqs})
        for name, (_, reqs) in _declared().items()
        if len({_floor(r) for r in reqs}) > 1
    }
    assert not split, f"one package, different floors in different extras: {split}"


def test_every_runtime_floor_is_pinned_exactly_at_the_floor():
    pins = _pins()
    wrong = {}
    for name, (_, reqs) in _declared().items():
        if name in TEST_TOOLS:
            continue
        floor = _floor(reqs[0])
        if pins.get(name) != floor:
            wrong[name] = f"declared >={floor}, constraints file has {pins.get(name)}"
    assert not wrong, f"{CONSTRAINTS.name} does not match pyproject.toml: {wrong}"


def test_test_tool_pins_satisfy_the_declared_range():
    pins = _pins()
    declared = _declared()
    bad = {
        name: f"pinned {pins[name]}, declared {reqs[0].specifier}"
        for name, (_, reqs) in declared.items()
        if name in TEST_TOOLS and name in pins and pins[name] not in reqs[0].specifier
    }
    assert not bad, bad


@pytest.mark.parametrize(
    ("text", "problem"),
    [("numpy>=1.0\n", "numpy"), ("pandas==1.0.0\n", "pandas")],
)
def test_the_drift_check_can_fail(tmp_path, monkeypatch, text, problem):
    """A constraints file pinned below a floor (or missing one) is caught."""
    pins = {k: v for k, v in _pins().items() if k != problem}
    bad = tmp_path / "constraints.txt"
    bad.write_text("".join(f"{k}=={v}\n" for k, v in pins.items()) + text)
    monkeypatch.setattr(sys.modules[__name__], "CONSTRAINTS", bad)
    with pytest.raises(AssertionError, match=problem):
        test_every_runtime_floor_is_pinned_exactly_at_the_floor()
        _pins()
