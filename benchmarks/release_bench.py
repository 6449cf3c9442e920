"""The release step on the demo trial, and the demo's total time.

Prints the time of the joint release (linking every published count to its participants, the
interval audit and complementary suppression, the identifier scan) on the tables the demo
publishes (goal: under 1 s), the time of the compute step that produced them for comparison,
and the wall time of the whole demo (``coaching-trials demo``) run as a user runs it.

Run: ``python benchmarks/release_bench.py``
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from importlib import resources

import coaching_trials as ct
from coaching_trials.pipeline import _analyse, _load, _load_data, _prepare
from coaching_trials.report.publish import publish_trial, shared_tables


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    config = resources.files("coaching_trials") / "configs" / "demo.toml"
    with resources.as_file(config) as path:
        cfg, base, _ = _load(path, None, {"analysis.n_boot": 50})
    responses, participants, _, audit = _load_data(cfg, base)
    responses, participants = _prepare(cfg, responses, participants, audit)
    state = {}

    def compute() -> None:
        state["tables"], state["trial"], state["extras"] = _analyse(
            cfg, responses, participants, list(audit)
        )

    t_compute = best_of(compute, repeat=1)
    tables, trial, extras = state["tables"], state["trial"], state["extras"]
    analysis = cfg["analysis"]

    def published() -> dict:
        shared = shared_tables(
            trial,
            outcomes=analysis["outcomes"],
            primary=analysis["primary"],
            method=analysis["method"],
            adjust=analysis["adjust"],
            conf_level=analysis["conf_level"],
            nonrandomized=False,
            comparison=extras["comparison"],
            baseline=extras["baseline"],
        )
        for name in ("nonrandomized", "responders", "responder_proportions", "reliability"):
            shared[name] = tables[name]
        shared["summary"] = tables["summary"]
        return shared

    t_tables = best_of(published, repeat=1)
    shared = published()

    def step():
        return publish_trial(
            trial,
            shared,
            primary=analysis["primary"],
            responders=analysis["responders"],
            min_cell=cfg["report"]["min_cell"],
        )

    t_release = best_of(step)
    released = step()
    n_cells = sum(frame.size for frame in released.tables.values())
    print(f"compute (scores, comparison, reliability, ...):  {t_compute:7.3f} s")
    print(f"compute of the published tables (trajectories):  {t_tables:7.3f} s")
    print(
        f"release of {len(released.tables)} tables ({n_cells} cells, "
        f"{len(released.log)} logged):  {t_release:7.3f} s   (goal < 1 s)"
    )
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "coaching_trials", "demo", "--out", f"{folder}/out"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        t_demo = time.perf_counter() - t0
    print(f"whole demo (coaching-trials demo, wall):        {t_demo:7.3f} s")
    print(f"coaching_trials {ct.__version__}")


if __name__ == "__main__":
    main()
