"""Run the Kiser et al. (JAMA Netw Open 2024) analysis plan with coaching_trials.

Usage (from the repository root, with the package installed or ``PYTHONPATH=src``)::

    python analyses/kiser2024/run.py                       # synthetic sample trial
    python analyses/kiser2024/run.py --config my.toml --out results/mine
    python analyses/kiser2024/run.py --responses data/responses.csv --participants data/people.csv

Writes into the output directory:

* ``side_by_side.csv`` — per outcome: the published figure (percent change per arm, between-arm
  difference with 95% CI) next to this run's figure, the estimator and the percent-change
  definition used, and the source of the published number;
* ``effects.csv`` (randomized comparison, fixed effects schema), ``descriptives.csv``,
  ``standardized.csv``, ``flow.csv``, ``baseline_table.csv``, ``nonrandomized.csv`` (delayed-arm
  pre/post, pooled pre/post, durability), ``audit.csv``;
* ``manifest.json`` — the configuration, the SHA-256 of the input files and the versions used, so
  the run can be repeated.

Outputs are deterministic (no timestamps). This script lives outside the library on purpose: it
reproduces one paper's plan with the package's public API.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
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

import coaching_trials as ct

HERE = Path(__file__).resolve().parent
CITATION = (
    "Kiser SB, Sterns JD, Lai PY, Horick NK, Palamara K. Physician Coaching by Professionally "
    "Trained Peers for Burnout and Well-Being: A Randomized Clinical Trial. JAMA Netw Open. "
    "2024. PubMed Central PMC11015346"
)
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
    "published_source",
)


def load_config(path: Path) -> dict[str, Any]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_data(config: dict[str, Any], base: Path) -> tuple[pd.DataFrame, pd.DataFrame | None, dict]:
    """Responses and participants per the config (the synthetic sample when no path is set)."""
    data = config.get("data", {})
    inputs: dict[str, Any] = {}
    if not data.get("responses"):
        example = ct.load_example("delayed_intervention")
        inputs["responses"] = "coaching_trials.load_example('delayed_intervention') (synthetic)"
        return example.responses, example.participants, inputs
    from coaching_trials.io.readers import read_survey

    resp_path = (base / data["responses"]).resolve()
    responses = read_survey(resp_path, sheet_name=data.get("sheet_name", 0))
    inputs["responses"] = {"path": str(resp_path), "sha256": _sha256(resp_path)}
    participants = None
    if data.get("participants"):
        part_path = (base / data["participants"]).resolve()
        participants = read_survey(part_path, sheet_name=data.get("sheet_name", 0))
        inputs["participants"] = {"path": str(part_path), "sha256": _sha256(part_path)}
    return responses, participants, inputs


def prepare(
    config: dict[str, Any], responses: pd.DataFrame, participants: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Rename columns per ``[columns.rename]`` and score the instruments of ``[scoring]``."""
    rename = config.get("columns", {}).get("rename", {})
    responses = responses.rename(columns=rename)
    if participants is not None:
        participants = participants.rename(columns=rename)
    for instrument, metric in config.get("scoring", {}).items():
        responses = ct.score(responses, instrument, metric=metric)
    return responses, participants


def build_trial(
    config: dict[str, Any], responses: pd.DataFrame, participants: pd.DataFrame | None
) -> ct.DelayedInterventionTrial:
    cols, design = config.get("columns", {}), config["design"]
    return ct.DelayedInterventionTrial(
        responses,
        subject=cols.get("subject", "participant_id"),
        arm=cols.get("arm", "arm"),
        wave=cols.get("wave", "wave"),
        immediate=design["immediate"],
        delayed=design["delayed"],
        baseline_wave=design["baseline_wave"],
        endpoint_wave=design["endpoint_wave"],
        followup_waves=tuple(design.get("followup_waves", ())),
        participants=participants,
    )


def side_by_side(
    config: dict[str, Any], comparison: Any, immediate: str, delayed: str
) -> pd.DataFrame:
    """Published figures next to this run's, one row per outcome x quantity."""
    analysis = config["analysis"]
    effects = comparison.effects
    endpoint = config["design"]["endpoint_wave"]
    effects = effects[effects["wave"] == endpoint].set_index("outcome")
    desc = comparison.descriptives.set_index(["outcome", "arm"])
    metrics = config.get("scoring", {})
    conf = int(round(100 * float(analysis.get("conf_level", 0.95))))
    estimator = {
        "ancova": f"ANCOVA: {endpoint} on arm + baseline (OLS, t CI)",
        "change": "difference in mean change (pooled-variance t)",
        "mmrm": "MMRM (unstructured, REML, Satterthwaite df), baseline-adjusted",
    }[analysis.get("method", "ancova")]
    rows: list[dict[str, Any]] = []
    for pub in config.get("published", []):
        name = pub["outcome"]
        if name not in effects.index:
            continue
        instrument = name.split("_")[0]
        metric = metrics.get(instrument, metrics.get(name.rsplit("_", 1)[0], ""))
        common = dict(
            outcome=name,
            label=pub.get("label", name),
            percent_change_definition=analysis.get("percent_change", ""),
            metric=str(metric),
            published_source=CITATION,
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
                    estimator=(
                        "100 * (mean endpoint - mean baseline) / mean baseline; delta-method CI"
                    ),
                )
            )
        e = effects.loc[name]
        rows.append(
            dict(
                common,
                quantity=f"difference {immediate} - {delayed} at {endpoint}, points ({conf}% CI)",
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
                estimator=estimator,
            )
        )
    return pd.DataFrame(rows, columns=list(SIDE_BY_SIDE_COLUMNS))


def run(
    config_path: Path,
    out: Path | None = None,
    *,
    responses_path: str | None = None,
    participants_path: str | None = None,
    quiet: bool = False,
) -> dict[str, pd.DataFrame]:
    """Run the plan; return the tables written (keyed by file stem)."""
    config = load_config(config_path)
    if responses_path is not None:
        config.setdefault("data", {})["responses"] = str(Path(responses_path).resolve())
    if participants_path is not None:
        config.setdefault("data", {})["participants"] = str(Path(participants_path).resolve())
    out = Path(out if out is not None else config.get("output", {}).get("dir", "results/kiser2024"))
    out.mkdir(parents=True, exist_ok=True)

    responses, participants, inputs = load_data(config, config_path.parent)
    responses, participants = prepare(config, responses, participants)
    trial = build_trial(config, responses, participants)
    analysis = config["analysis"]
    outcomes = [analysis["primary"], *analysis.get("secondary", [])]
    adjust = analysis.get("adjust", "holm")
    comparison = trial.compare(
        outcomes,
        method=analysis.get("method", "ancova"),
        adjust=None if adjust in (None, "none") else adjust,
        primary=analysis["primary"],
        covariates=tuple(analysis.get("covariates", ())),
        cluster=analysis.get("cluster") or None,
        partially_nested=bool(analysis.get("partially_nested", True)),
        conf_level=float(analysis.get("conf_level", 0.95)),
    )
    immediate, delayed = trial.arms
    tables: dict[str, pd.DataFrame] = {
        "side_by_side": side_by_side(config, comparison, immediate, delayed),
        "effects": comparison.effects,
        "descriptives": comparison.descriptives,
        "standardized": comparison.standardized,
        "flow": trial.flow(analysis["primary"]),
        "baseline_table": trial.baseline_table().formatted,
        "audit": pd.concat([trial.audit, comparison.audit], ignore_index=True),
    }
    if trial.design["followup_waves"]:
        conf_level = float(analysis.get("conf_level", 0.95))
        tables["nonrandomized"] = pd.concat(
            [
                trial.delayed_arm_prepost(outcomes, conf_level=conf_level).effects,
                trial.pooled_prepost(outcomes, conf_level=conf_level).effects,
                trial.durability(outcomes, conf_level=conf_level).effects,
            ],
            ignore_index=True,
        )
    for stem, table in tables.items():
        table.to_csv(out / f"{stem}.csv", index=False, float_format="%.6g", lineterminator="\n")
    manifest = {
        "analysis": "Kiser et al. 2024 plan (analyses/kiser2024)",
        "published_source": CITATION,
        "config": config,
        "config_sha256": _sha256(config_path),
        "inputs": inputs,
        "versions": {
            "coaching_trials": ct.__version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
        },
        "files": sorted(f"{stem}.csv" for stem in tables),
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
    )
    if not quiet:
        with pd.option_context("display.width", 160, "display.max_columns", 12):
            cols = [
                "label",
                "quantity",
                "published_value",
                "published_text",
                "this_run_value",
                "this_run_conf_low",
                "this_run_conf_high",
            ]
            print(
                tables["side_by_side"][cols].to_string(
                    index=False, float_format=lambda x: f"{x:.2f}"
                )
            )
        print(f"\nwrote {len(tables)} tables and manifest.json to {out}")
    return tables


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=HERE / "config.toml")
    parser.add_argument("--out", type=Path, default=None, help="output directory")
    parser.add_argument("--responses", default=None, help="long responses file (overrides config)")
    parser.add_argument("--participants", default=None, help="participants file (overrides config)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    run(
        args.config,
        args.out,
        responses_path=args.responses,
        participants_path=args.participants,
        quiet=args.quiet,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
