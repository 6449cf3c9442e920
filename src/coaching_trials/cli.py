"""Command-line interface: ``coaching-trials <command> ...``.

Commands
--------
``demo [--out DIR] [--n-boot N]``
    Score the synthetic example trial (PFI, self-valuation, UWES-9, QOL, IWPR) and write
    ``scores.csv``, ``summary.csv`` (n, mean, SD per outcome, wave and arm) and
    ``reliability.csv`` (alpha and omega with intervals per multi-item subscale and wave).
``instruments``
    List the shipped instruments.
``score FILE --instrument ID [--instrument ID ...] [--metric M] --out FILE``
    Score a survey export (CSV, TSV, Excel, Parquet, SPSS, Stata).
``validate FILE [--instrument ID ...]``
    Check a long responses file and list every problem (exit code 1 if any).

Every command is one entry of ``COMMANDS`` (a name, a help line, a function adding its
arguments and a function running it), so a new command is one more entry. Heavy modules are
imported inside the commands, so ``coaching-trials instruments`` starts quickly. Output files
are deterministic: the same input gives the same bytes.

Examples
--------
>>> from coaching_trials.cli import main
>>> main(["instruments"])  # doctest: +ELLIPSIS
id ...
pfi ...
0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["COMMANDS", "Command", "build_parser", "main"]

DEMO_INSTRUMENTS: tuple[str, ...] = ("pfi", "svs", "uwes9", "qol", "iwpr")
RELIABILITY_INSTRUMENTS: tuple[str, ...] = ("pfi", "svs", "uwes9")  # multi-item only
DEMO_SEED = 2024  # seed of the bootstrap intervals for omega in reliability.csv
DEMO_N_BOOT = 500
KEYS = ("participant_id", "arm", "wave")
DEMO_PRIMARY = "pfi_burnout"
DEMO_OUTCOMES: tuple[str, ...] = (
    "pfi_burnout",
    "pfi_pf",
    "pfi_id",
    "iwpr_score",
    "qol_score",
    "uwes9_total",
    "svs_total",
)
FLOAT_DIGITS = 6


class CommandError(Exception):
    """A user error the CLI reports on stderr with exit code 1 (no traceback)."""


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, help line, argument setup and the function that runs it."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a table deterministically; the format follows the extension (default CSV)."""
    frame = frame.round(FLOAT_DIGITS)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix in (".xlsx", ".xls"):
        frame.to_excel(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t", lineterminator="\n")
    else:
        frame.to_csv(path, index=False, lineterminator="\n")


def _read(path: str) -> pd.DataFrame:
    from coaching_trials.io.readers import read_survey

    if not Path(path).exists():
        raise CommandError(f"file not found: {path}")
    return read_survey(path)


def _score_all(df: pd.DataFrame, instruments: Sequence[str], metric: str | None) -> pd.DataFrame:
    from coaching_trials.instruments.scoring import score

    scored = df
    for instrument in instruments:
        if metric is None:
            scored = score(scored, instrument)
        else:
            scored = score(scored, instrument, metric=metric)
    return scored


def _score_columns(instruments: Sequence[str]) -> list[str]:
    from coaching_trials.instruments.registry import get_instrument

    columns: list[str] = []
    for instrument in instruments:
        columns.extend(get_instrument(instrument).subscale_columns().values())
    return columns


def _format_table(frame: pd.DataFrame) -> str:
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 50):
        return frame.to_string(index=False)


def summarize_scores(
    scores: pd.DataFrame, outcomes: Sequence[str], *, by: Sequence[str] = ("wave", "arm")
) -> pd.DataFrame:
    """n, mean and SD of each outcome per group, one row per outcome x group (long format).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"wave": ["b", "b", "b"], "arm": ["x", "x", "y"], "s": [1.0, 3.0, 2.0]})
    >>> summarize_scores(df, ["s"])
      outcome wave arm  n  mean       sd
    0       s    b   x  2   2.0  1.414214
    1       s    b   y  1   2.0       NaN
    """
    import pandas as pd

    long = scores.melt(id_vars=list(by), value_vars=list(outcomes), var_name="outcome")
    long["outcome"] = pd.Categorical(long["outcome"], categories=list(outcomes), ordered=True)
    table = (
        long.groupby(["outcome", *by], observed=True, sort=True)["value"]
        .agg(n="count", mean="mean", sd="std")
        .reset_index()
    )
    table["outcome"] = table["outcome"].astype(str)
    table["n"] = table["n"].astype("int64")
    return table


# --------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", default="results", help="output directory (default: results/)", metavar="DIR"
    )
    parser.add_argument(
        "--n-boot",
        type=int,
        default=DEMO_N_BOOT,
        metavar="N",
        help=f"bootstrap resamples for the omega intervals (default: {DEMO_N_BOOT})",
    )


def _demo(args: argparse.Namespace) -> int:
    import pandas as pd

    from coaching_trials.datasets import load_example
    from coaching_trials.design.delayed import DelayedInterventionTrial
    from coaching_trials.instruments.reliability import reliability

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    example = load_example("delayed_intervention")
    responses = example.responses

    scored = _score_all(responses, DEMO_INSTRUMENTS, None)
    score_cols = [c for c in scored.columns if c not in responses.columns]
    scores = scored[[*KEYS, *score_cols]]
    written = {"scores.csv": scores}

    outcomes = _score_columns(DEMO_INSTRUMENTS)
    numeric = [c for c in outcomes if c in scores.columns]
    summary = summarize_scores(scores, numeric)
    written["summary.csv"] = summary

    tables = [
        reliability(responses, inst, by="wave", n_boot=args.n_boot, seed=DEMO_SEED)
        for inst in RELIABILITY_INSTRUMENTS
    ]
    written["reliability.csv"] = pd.concat(tables, ignore_index=True)

    # the delayed-intervention design: flow, Table 1, randomized and non-randomized estimands
    trial = DelayedInterventionTrial(scored, participants=example.participants, **example.design)
    comparison = trial.compare(list(DEMO_OUTCOMES), method="ancova", primary=DEMO_PRIMARY)
    nonrandomized = pd.concat(
        [
            trial.delayed_arm_prepost(list(DEMO_OUTCOMES)).to_frame(),
            trial.pooled_prepost(list(DEMO_OUTCOMES)).to_frame(),
            trial.durability(list(DEMO_OUTCOMES)).to_frame(),
        ],
        ignore_index=True,
    )
    written.update(
        {
            "flow.csv": trial.flow(DEMO_PRIMARY),
            "baseline_table.csv": trial.baseline_table().table,
            "effects.csv": comparison.effects,
            "descriptives.csv": comparison.descriptives,
            "standardized.csv": comparison.standardized,
            "nonrandomized.csv": nonrandomized,
            "audit.csv": trial.audit,
        }
    )
    for name, frame in written.items():
        _write_table(frame, out / name)

    wide = summary.assign(
        cell=summary["mean"].map("{:.2f}".format) + " (" + summary["sd"].map("{:.2f}".format) + ")"
    ).pivot(index="outcome", columns=["wave", "arm"], values="cell")
    wide = wide.reindex(index=[o for o in numeric if o in wide.index])
    print(
        "Synthetic example trial (coaching_trials.load_example('delayed_intervention')); "
        "mean (SD) by wave and arm:"
    )
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(wide.to_string())
    print()
    print(_primary_summary(comparison, DEMO_PRIMARY))
    print(f"\nWrote {len(written)} tables to {out}: {', '.join(written)}")
    return 0


def _primary_summary(comparison: object, primary: str) -> str:
    """A few plain lines on the primary outcome: per-arm change and the adjusted difference."""
    effects = comparison.effects  # type: ignore[attr-defined]
    desc = comparison.descriptives  # type: ignore[attr-defined]
    row = effects.loc[effects["outcome"] == primary].iloc[0]
    lines = [f"Primary outcome {primary} ({row['estimand']}):"]
    for _, arm_row in desc.loc[desc["outcome"] == primary].iterrows():
        lines.append(
            f"  {arm_row['arm']:>10}: baseline {arm_row['baseline_mean']:.2f} "
            f"(n={int(arm_row['baseline_n'])}), endpoint {arm_row['endpoint_mean']:.2f} "
            f"(n={int(arm_row['endpoint_n'])}), change of means {arm_row['percent_change']:+.1f}%"
        )
    level = int(round(100 * row["conf_level"]))
    lines.append(
        f"  ANCOVA difference {row['contrast']}: {row['estimate']:.2f} "
        f"({level}% CI {row['conf_low']:.2f} to {row['conf_high']:.2f}), "
        f"t({row['df']:.0f}) = {row['statistic']:.2f}, p = {row['p_value']:.2g}"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# instruments
# --------------------------------------------------------------------------------------------


def _instruments_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--licence", action="store_true", help="also show the licence notes")


def _instruments(args: argparse.Namespace) -> int:
    from coaching_trials.instruments.registry import list_instruments

    table = list_instruments()
    columns = ["id", "name", "n_items", "subscales", "range"]
    if args.licence:
        columns.append("licence")
    print(_format_table(table[columns]))
    return 0


# --------------------------------------------------------------------------------------------
# score
# --------------------------------------------------------------------------------------------


def _score_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="survey export (csv, tsv, xlsx, parquet, sav, dta)")
    parser.add_argument(
        "--instrument",
        action="append",
        required=True,
        metavar="ID",
        help="instrument id (see `coaching-trials instruments`); repeat for several",
    )
    parser.add_argument(
        "--metric", default=None, help="score metric (one instrument only), e.g. mean, sum, 0-10"
    )
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="output file (.csv, .tsv, .parquet, .xlsx)"
    )


def _score(args: argparse.Namespace) -> int:
    instruments = list(dict.fromkeys(args.instrument))
    if args.metric is not None and len(instruments) > 1:
        raise CommandError("--metric can only be used with a single --instrument.")
    df = _read(args.file)
    scored = _score_all(df, instruments, args.metric)
    out = Path(args.out)
    _write_table(scored, out)
    added = [c for c in scored.columns if c not in df.columns]
    print(f"Scored {len(scored)} row(s) with {', '.join(instruments)}: added {', '.join(added)}.")
    print(f"Wrote {out}")
    return 0


# --------------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------------


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="long responses file (one row per participant x wave)")
    parser.add_argument(
        "--instrument",
        action="append",
        default=None,
        metavar="ID",
        help="instrument whose items to check; default: every instrument whose item "
        "columns are all present",
    )
    parser.add_argument("--subject", default="participant_id", help="participant id column")
    parser.add_argument("--arm", default="arm", help="arm column")
    parser.add_argument("--wave", default="wave", help="wave column")
    parser.add_argument("--arms", nargs="+", default=None, help="expected arm labels")
    parser.add_argument("--waves", nargs="+", default=None, help="expected wave labels")


def _detect_instruments(columns: Sequence[str]) -> list[str]:
    from coaching_trials.instruments.registry import get_instrument, list_instruments

    present = set(columns)
    return [iid for iid in list_instruments()["id"] if set(get_instrument(iid).items) <= present]


def _validate(args: argparse.Namespace) -> int:
    from coaching_trials.io.validate import validate_responses

    df = _read(args.file)
    instruments = args.instrument if args.instrument else _detect_instruments(df.columns)
    report = validate_responses(
        df,
        subject=args.subject,
        arm=args.arm,
        wave=args.wave,
        arms=args.arms,
        waves=args.waves,
        instruments=instruments,
        raise_on_error=False,
    )
    checked = ", ".join(instruments) if instruments else "none"
    print(f"{args.file}: instruments checked: {checked}")
    print(report.summary())
    return 0 if report.ok else 1


# --------------------------------------------------------------------------------------------
# dispatch
# --------------------------------------------------------------------------------------------

COMMANDS: tuple[Command, ...] = (
    Command(
        "demo",
        "run the whole analysis on the synthetic example trial and write the tables",
        _demo_arguments,
        _demo,
    ),
    Command("instruments", "list the shipped instruments", _instruments_arguments, _instruments),
    Command("score", "score a survey export", _score_arguments, _score),
    Command("validate", "check a long responses file", _validate_arguments, _validate),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per entry of ``COMMANDS``."""
    from coaching_trials import __version__

    parser = argparse.ArgumentParser(
        prog="coaching-trials",
        description="Analyse randomized coaching trials: scoring, validation, demo analysis.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        sub_parser = sub.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub_parser)
        sub_parser.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 success, 1 error or problems found).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.
    """
    parser = build_parser()
    args = parser.parse_args(None if argv is None else list(argv))
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args))
    except (CommandError, ValueError, OSError, ImportError) as exc:
        print(f"coaching-trials {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
