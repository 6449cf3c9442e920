"""The shipped notebooks run top to bottom (code cells executed in one namespace)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pytest

matplotlib.use("Agg")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_is_a_notebook() -> None:
    assert NOTEBOOKS, "notebooks/ should hold at least one walkthrough"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path) -> None:
    notebook = json.loads(path.read_text())
    namespace: dict = {}
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert not cell.get("outputs"), f"{path.name}: cell {index} is committed with outputs"
        source = "".join(cell["source"])
        code = compile(source, f"{path.name}[{index}]", "exec")
        exec(code, namespace)  # noqa: S102 - running our own notebook is the point
    plt.close("all")
    assert "trial" in namespace and "comparison" in namespace
    effects = namespace["comparison"].effects
    assert effects.loc[0, "outcome"] == "pfi_burnout"
