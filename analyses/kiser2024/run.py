"""Run the Kiser et al. (JAMA Netw Open 2024) analysis plan with coaching_trials.

Usage (from the repository root, with the package installed)::

    python analyses/kiser2024/run.py                       # synthetic sample trial
    python analyses/kiser2024/run.py --config my.toml --out results/mine
    python analyses/kiser2024/run.py --responses data/waves.csv --participants data/people.csv

``config.toml`` is an ordinary ``coaching-trials analyze`` plan (one config format everywhere);
``published.toml`` holds the paper's figures. Writes into the output folder:

* ``analysis/`` — the pre-specified analysis, as ``coaching-trials analyze`` writes it
  (``release/``: the report, released tables and figures; ``analyst/``: the full tables;
  ``manifest.json``), with the published estimand: the difference in mean change;
* ``sensitivity_ancova/`` — the same plan with the baseline-adjusted ANCOVA, tables only;
* ``side_by_side.csv`` — per outcome: the published figure (percent change per arm, between-arm
  difference with 95% CI) next to this run's figures from both estimators, labelled, with the
  percent-change definition, the metric and the source; its ``data`` column says SYNTHETIC when
  the run used the package's sample trial.

Outputs are deterministic (no timestamps). This script lives outside the library on purpose: it
reproduces one paper's plan with the package's public API.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from coaching_trials.pipeline import load_config, run_analysis, write_table

HERE = Path(__file__).resolve().parent
SYNTHETIC = "SYNTHETIC sample trial (coaching_trials.load_example), not the study's data"
PERCENT_CHANGE = "100 * (endpoint mean / baseline mean - 1), arm means of paired complete cases"
ESTIMATORS = {
    "change": "difference in mean change (pooled-variance t): the published estimand",
    "ancova": "ANCOVA, endpoint on arm + baseline (OLS, t CI): sensitivity analysis",
    "mmrm": "MMRM (unstructured, REML, Satterthwaite df), baseline-adjusted",
}
SIDE_BY_SIDE_COLUMNS = (
    "outcome",
    "label",
    "quantity",
    "published_value",
    "published_conf_low",
    "published_conf_high",
    "published_text",
    "this_run_value",
    "this_run_conf_low",
    "this_run_conf_high",
    "this_run_p_value",
    "this_run_p_adjusted",
    "this_run_n",
    "estimator",
    "percent_change_definition",
    "metric",
    "data",
    "published_source",
)


def _published(path: Path) -> dict[str, Any]:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def side_by_side(
    published: dict[str, Any],
    runs: dict[str, Any],
    cfg: dict[str, Any],
    *,
    data_label: str,
) -> pd.DataFrame:
    """Published figures next to this run's, one row per outcome x quantity x estimator."""
    design, analysis = cfg["design"], cfg["analysis"]
    immediate, delayed, endpoint = design["immediate"], design["delayed"], design["endpoint_wave"]
    conf = int(round(100 * float(analysis["conf_level"])))
    metrics = {entry["id"]: entry["metric"] for entry in cfg["instruments"]}
    main = runs[analysis["method"]]
    desc = main.tables["descriptives"].set_index(["outcome", "arm"])
    rows: list[dict[str, Any]] = []
    for pub in published.get("published", []):
        name = pub["outcome"]
        if (name, immediate) not in desc.index:
            continue
        common = dict(
            outcome=name,
            label=pub.get("label", name),
            percent_change_definition=PERCENT_CHANGE,
            metric=str(metrics.get(name.split("_")[0], "")),
            data=data_label,
            published_source=published.get("citation", ""),
        )
        for arm, key, who in (
            (immediate, "coaching", "coaching arm"),
            (delayed, "control", "control arm"),
        ):
            d = desc.loc[(name, arm)]
            rows.append(
                dict(
                    common,
                    quantity=f"percent change of arm mean, {who} ({arm}), %",
                    published_value=pub.get(f"{key}_percent", np.nan),
                    published_text=pub.get(f"{key}_text", ""),
                    this_run_value=d["percent_change"],
                    this_run_conf_low=d["percent_change_conf_low"],
                    this_run_conf_high=d["percent_change_conf_high"],
                    this_run_n=d["percent_change_n"],
                    estimator="percent change of paired means; delta-method CI",
                )
            )
        for method, run in runs.items():
            effects = run.tables["effects"]
            e = effects[(effects["outcome"] == name) & (effects["wave"] == endpoint)].iloc[0]
            rows.append(
                dict(
                    common,
                    quantity=(
                        f"difference {immediate} - {delayed} at {endpoint}, points ({conf}% CI)"
                    ),
                    published_value=pub.get("difference", np.nan),
                    published_conf_low=pub.get("conf_low", np.nan),
                    published_conf_high=pub.get("conf_high", np.nan),
                    published_text=pub.get("difference_text", ""),
                    this_run_value=e["estimate"],
                    this_run_conf_low=e["conf_low"],
                    this_run_conf_high=e["conf_high"],
                    this_run_p_value=e["p_value"],
                    this_run_p_adjusted=e["p_adjusted"],
                    this_run_n=e["n_treated"] + e["n_control"],
                    estimator=ESTIMATORS[method],
                )
            )
    return pd.DataFrame(rows, columns=list(SIDE_BY_SIDE_COLUMNS))


def run(
    config_path: Path,
    out: Path | None = None,
    *,
    responses_path: str | None = None,
    participants_path: str | None = None,
    published_path: Path = HERE / "published.toml",
    quiet: bool = False,
) -> dict[str, pd.DataFrame]:
    """Run the plan and its ANCOVA sensitivity analysis; return the tables (``side_by_side``
    and the main run's analyst tables)."""
    config_path = Path(config_path).resolve()
    if responses_path is not None:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
        raw.setdefault("data", {}).pop("example", None)
        raw["data"]["responses"] = str(Path(responses_path).resolve())
        if participants_path is not None:
            raw["data"]["participants"] = str(Path(participants_path).resolve())
        config: Any = raw
        base_dir: Path | None = config_path.parent
    else:
        config, base_dir = config_path, None
    cfg = load_config(config, base_dir=base_dir)
    synthetic = cfg["data"]["example"] is not None
    data_label = SYNTHETIC if synthetic else "your data"
    out = Path(out if out is not None else Path("results") / "kiser2024")
    method = cfg["analysis"]["method"]
    say = (lambda *a: None) if quiet else print
    if synthetic:
        say(f"SYNTHETIC: running on the {SYNTHETIC}.")
    runs = {method: run_analysis(config, out=out / "analysis", base_dir=base_dir, force=False)}
    if method != "ancova":
        runs["ancova"] = run_analysis(
            config,
            out=out / "sensitivity_ancova",
            base_dir=base_dir,
            overrides={
                "analysis.method": "ancova",
                "report.figures": False,
                "report.html": False,
                "report.title": f"{cfg['report']['title']} (ANCOVA sensitivity analysis)",
            },
        )
    table = side_by_side(_published(published_path), runs, cfg, data_label=data_label)
    write_table(table, out / "side_by_side.csv")
    if not quiet:
        with pd.option_context("display.width", 160, "display.max_columns", 12):
            cols = ["label", "quantity", "estimator", "published_value", "this_run_value"]
            shown = table[cols].assign(estimator=table["estimator"].str.split(":").str[0])
            print(shown.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
        tag = "SYNTHETIC " if synthetic else ""
        print(f"\nwrote the {tag}analysis to {out / 'analysis'}, the ANCOVA sensitivity analysis")
        print(f"to {out / 'sensitivity_ancova'} and side_by_side.csv to {out}")
    return {"side_by_side": table, **dict(runs[method].tables)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=HERE / "config.toml")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    parser.add_argument(
        "--responses", default=None, help="long responses file (replaces the example)"
    )
    parser.add_argument("--participants", default=None, help="participants file")
    args = parser.parse_args(argv)
    run(args.config, args.out, responses_path=args.responses, participants_path=args.participants)
    return 0


if __name__ == "__main__":
    sys.exit(main())
