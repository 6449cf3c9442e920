"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt

matplotlib.use("Agg")

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert blocks, "README should show a Python example"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    plt.close("all")
    effects = namespace["comparison"].effects
    assert effects["outcome"].tolist() == ["pfi_burnout", "pfi_pf", "pfi_id", "uwes9_total"]


def test_readme_has_exactly_two_setup_commands() -> None:
    text = README.read_text()
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", setup, flags=re.DOTALL)
    assert len(commands) == 2
    ci = (README.parent / ".ci" / "run").read_text()
    assert commands[1].strip() in ci.splitlines(), ".ci/run must call the README's test command"


def test_readme_runs_from_a_folder_outside_the_repository(tmp_path: Path) -> None:
    """The README's Python blocks and its "analyze" recipe, run as a pip user would: in a fresh
    process whose working folder is outside the repository (nothing relative to the clone)."""
    import subprocess
    import sys

    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    script = "import matplotlib\nmatplotlib.use('Agg')\n" + "\n".join(blocks)
    (tmp_path / "readme_blocks.py").write_text(script, encoding="utf-8")
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "readme_blocks.py"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # "analyze": copy the demo plan out of the installed package, as the README says, and run it
    section = text.split("## Running a pre-specified analysis", 1)[1].split("\n## ", 1)[0]
    finder = re.search(
        r'`(python3 -c "import coaching_trials, pathlib;\s*print\(.*?\)")`', section, re.S
    )
    assert finder, "the README must say where the installed demo plan is"
    command = " ".join(finder.group(1).split()).replace("python3", sys.executable, 1)
    where = subprocess.run(
        command, shell=True, cwd=tmp_path, capture_output=True, text=True, env=env,
        executable="/bin/bash",
    )  # fmt: skip
    plan = Path(where.stdout.strip())
    assert plan.is_file(), where.stderr
    (tmp_path / "plan.toml").write_text(plan.read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "coaching_trials", "analyze", "plan.toml", "--out", "results"],
        cwd=tmp_path, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "results" / "release" / "report.html").is_file()
    assert (tmp_path / "results" / "analyst" / "effects.csv").is_file()
