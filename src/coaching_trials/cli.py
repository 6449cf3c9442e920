"""Command-line interface: ``coaching-trials <command> ...``.

Commands
--------
``demo [--out DIR] [--n-boot N]``
    Run the shipped analysis plan ``coaching_trials/configs/demo.toml`` on the synthetic
    example trial (PFI, self-valuation, UWES-9, QOL, IWPR): scores, mean (SD) summary,
    reliability, CONSORT flow, Table 1, the randomized comparison, non-randomized estimands,
    responders, audit, figures, the HTML report and ``manifest.json``; prints the mean (SD)
    table and the primary outcome.
``analyze CONFIG [--out DIR]``
    The same pipeline on any analysis plan (:mod:`coaching_trials.pipeline` documents the
    TOML schema).
``init [DATAFILE] [--participants FILE] [--out plan.toml]``
    Write a commented starter plan for ``analyze``, guessing the id, arm, wave and instrument
    columns from the file and saying what it guessed.
``power [--n-per-arm N] [--effect POINTS | --standardized-effect D] [--n-sims N] ...``
    Power of the randomized comparison by simulation, with its Monte Carlo interval; the
    effect is the true difference in the outcome's own points (or in baseline SDs).
``power-grid PLAN.toml --out DIR [--workers N | --scheduler ADDRESS]``
    Power over a grid of designs (n per arm x effect x dropout x ICC x analysis): the table,
    the power curve and a manifest; ``--example`` prints a plan to start from.
``instruments``
    List the shipped instruments.
``score FILE --instrument ID [--instrument ID ...] [--metric M] --out FILE``
    Score a survey export (CSV, TSV, Excel, Parquet, SPSS, Stata).
``validate FILE [--instrument ID ...]``
    Check a long responses file and list every problem (exit code 1 if any).

``score`` and ``validate`` read the file with :func:`coaching_trials.read_survey` and take
its options: ``--missing-code TOKEN=REASON`` (repeatable; nothing but a blank cell is missing
otherwise), ``--items [ID=]PATTERN`` (e.g. ``pfi_{n}``), ``--rename OLD=NEW``,
``--encoding``, ``--sep``, ``--decimal``, ``--skiprows``, ``--sheet``; what the reader detected
and every declared missing code it applied is printed.

Exit codes: 0 success, 1 ``validate`` found problems, 2 a refusal (bad input, options, config
or output folder) printed without a traceback; ``coaching-trials --debug ...`` shows it.

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from coaching_trials.pipeline import AnalysisRun

from coaching_trials._cli_common import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PROBLEMS,
    Command,
    CommandError,
    _check_out_dir,
    _format_table,
    _write_table,
)
from coaching_trials._cli_planning import PLANNING_COMMANDS

__all__ = ["COMMANDS", "EXIT_ERROR", "EXIT_OK", "EXIT_PROBLEMS", "Command", "CommandError",
           "build_parser", "main"]  # fmt: skip

DEMO_CONFIG = "demo.toml"  # shipped in coaching_trials/configs/
DEMO_N_BOOT = 500
KEYS = ("participant_id", "arm", "wave")
DEMO_HEADING = (
    "Synthetic example trial (coaching_trials.load_example('delayed_intervention')); "
    "mean (SD) by wave and arm:"
)


#: Printed under any data problem that names rows: the row labels are those of the file as
#: read (pandas' default index), which a spreadsheet user would otherwise read one or two off.
ROW_NOTE = (
    "Row numbers count the data rows of a file from 0: row 0 is the first row below the header "
    "(line 2 of a CSV file, row 2 of a spreadsheet)."
)


def _names_rows(problems: pd.DataFrame) -> bool:
    """True when any problem of a failure-cases / problems table lists row labels."""
    if "rows" not in problems.columns:
        return False
    return any(len(rows) > 0 for rows in problems["rows"] if isinstance(rows, (list, tuple)))


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _reader_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the file readers shared by ``score`` and ``validate``."""
    parser.add_argument(
        "--items",
        action="append",
        default=None,
        metavar="[ID=]PATTERN",
        help="item names by pattern when the file's differ from the instrument's: 'pfi_{n}' "
        "({n} = item position, 1 = first) or a regex such as 'Q12_(\\d+)'; prefix ID= to "
        "say which instrument; repeatable",
    )
    parser.add_argument(
        "--rename",
        action="append",
        default=None,
        metavar="OLD=NEW",
        help="rename a column of the file before anything else; repeatable",
    )
    parser.add_argument(
        "--missing-code",
        action="append",
        default=None,
        metavar="TOKEN=REASON",
        help="declare a missing-value code, e.g. 'N/A=not applicable' or '99=refused'; "
        "repeatable (nothing but a blank cell is missing otherwise)",
    )
    parser.add_argument("--encoding", default=None, help="text files: default detected")
    parser.add_argument("--sep", default=None, help="text files: separator; default detected")
    parser.add_argument(
        "--decimal", default=None, choices=(".", ","), help="text files: default detected"
    )
    parser.add_argument(
        "--skiprows", type=int, default=None, metavar="N", help="rows above the header"
    )
    parser.add_argument(
        "--sheet", default=None, help="Excel: sheet name or 0-based position; default detected"
    )


def _pairs(values: Sequence[str] | None, option: str, what: str) -> dict[str, str]:
    """``["A=b", ...]`` -> ``{"A": "b"}``, refusing entries without ``=`` or with an empty side."""
    out: dict[str, str] = {}
    for value in values or ():
        left, eq, right = value.partition("=")
        if not eq or not left.strip() or not right.strip():
            raise CommandError(f"{option} {value!r}: expected {what}.")
        out[left.strip()] = right.strip()
    return out


def _print_read_notes(df: pd.DataFrame) -> None:
    """Print what the reader detected, the declared codes it applied and rows it dropped."""
    for rec in df.attrs.get("audit", ()):
        reason = str(rec.get("reason", ""))
        n_rows = int(rec.get("n_rows") or 0)
        if reason.startswith(("format detected", "declared missing")) or n_rows:
            print(f"  read: {reason}: {rec.get('detail', '')} ({n_rows} row(s))")


def _item_patterns(values: Sequence[str] | None, instruments: Sequence[str]) -> dict[str, str]:
    """``--items`` values -> ``{instrument: pattern}``; a bare pattern needs one instrument."""
    out: dict[str, str] = {}
    for value in values or ():
        left, eq, right = value.partition("=")
        if eq and left in instruments:
            out[left] = right
        elif len(instruments) == 1:
            out[instruments[0]] = value
        else:
            raise CommandError(
                f"--items {value!r}: with several instruments ({', '.join(instruments)}) say "
                f"which one, e.g. --items {instruments[0]}={value}."
            )
    return out


def _read(path: str, args: argparse.Namespace | None = None) -> pd.DataFrame:
    from coaching_trials.io.readers import read_survey

    if not Path(path).exists():
        raise CommandError(f"file not found: {path}")
    if args is None:
        return read_survey(path)
    sheet = args.sheet
    if sheet is not None and sheet.isdigit():
        sheet = int(sheet)
    df = read_survey(
        path,
        missing_codes=_pairs(args.missing_code, "--missing-code", "TOKEN=REASON") or None,
        encoding=args.encoding,
        sep=args.sep.replace("\\t", "\t") if args.sep else None,
        decimal=args.decimal,
        skiprows=args.skiprows,
        sheet_name=sheet,
    )
    renames = _pairs(args.rename, "--rename", "OLD=NEW")
    absent = [c for c in renames if c not in df.columns]
    if absent:
        raise CommandError(
            f"--rename: column(s) {', '.join(map(repr, absent))} not in {path}; found "
            f"{', '.join(map(repr, list(df.columns)[:12]))}."
        )
    if renames:
        attrs = dict(df.attrs)
        df = df.rename(columns=renames)
        df.attrs.update(attrs)
    return df


def _score_all(
    df: pd.DataFrame,
    instruments: Sequence[str],
    metric: str | None,
    *,
    items: Mapping[str, str] | None = None,
    missing_codes: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    from coaching_trials.instruments.scoring import score

    scored = df
    for instrument in instruments:
        options: dict[str, object] = {
            "items": (items or {}).get(instrument),
            "missing_codes": missing_codes,
        }
        if metric is not None:
            options["metric"] = metric
        scored = score(scored, instrument, **options)  # type: ignore[arg-type]
    return scored


def summarize_scores(
    scores: pd.DataFrame, outcomes: Sequence[str], *, by: Sequence[str] = ("wave", "arm")
) -> pd.DataFrame:
    """n, mean and SD of each outcome per group: :func:`coaching_trials.pipeline.summarize_scores`
    (imported when called, so that the command line starts quickly)."""
    from coaching_trials.pipeline import summarize_scores as _summarize

    return _summarize(scores, outcomes, by=by)


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
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an output folder that coaching_trials did not write",
    )


def _demo(args: argparse.Namespace) -> int:
    from importlib import resources

    from coaching_trials.pipeline import run_analysis

    if args.n_boot < 1:
        raise CommandError(f"--n-boot must be a positive integer; got {args.n_boot}.")
    _check_out_dir(args.out)
    config = resources.files("coaching_trials") / "configs" / DEMO_CONFIG
    with resources.as_file(config) as path:
        run = run_analysis(
            path, out=args.out, overrides={"analysis.n_boot": args.n_boot}, force=args.force
        )
    _print_run(run, heading=DEMO_HEADING)
    return 0


def _print_run(run: AnalysisRun, *, heading: str) -> None:
    """The mean (SD) table, the primary outcome in plain words and the files written."""
    import pandas as pd

    tables = run.tables
    config = run.config
    summary = tables["summary"]
    outcomes = list(dict.fromkeys(summary["outcome"]))
    wide = summary.assign(
        cell=summary["mean"].map("{:.2f}".format) + " (" + summary["sd"].map("{:.2f}".format) + ")"
    ).pivot(index="outcome", columns=["wave", "arm"], values="cell")
    wide = wide.reindex(index=outcomes)
    waves = list(dict.fromkeys(summary["wave"]))
    wide = wide.reindex(columns=sorted(wide.columns, key=lambda c: (waves.index(c[0]), c[1])))
    print(heading)
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(wide.to_string())
    print()
    analysis = config["analysis"]
    print(
        _primary_summary(
            tables["effects"],
            tables["descriptives"],
            analysis["primary"],
            method=analysis["method"],
            endpoint=config["design"]["endpoint_wave"],
        )
    )
    for note in run.notes:
        print(f"Note: {note}")
    files = list(run.paths)
    shared = [n for n in files if n.startswith("release/")]
    n_tables = sum(n.endswith(".csv") for n in shared)
    n_figures = sum(n.endswith(".png") for n in shared)
    report = "report.html, " if "release/report.html" in files else ""
    n_private = sum(n.endswith(".csv") for n in files if n.startswith("analyst/"))
    print(f"\nWrote to {run.out}:")
    print(
        f"  release/  SAFE TO SHARE: {report}{n_tables} released tables, {n_figures} figures "
        f"(disclosure policy: {run.manifest['config']['report']['policy']})"
    )
    print(
        f"  analyst/  CONFIDENTIAL: {n_private} full tables with participant ids, the audit "
        "and the disclosure log"
    )
    print("  manifest.json  config, inputs and every output with its hash")


_METHOD_LABEL = {
    "ancova": "ANCOVA difference",
    "change": "Difference in mean change",
    "mmrm": "MMRM difference",
}


def _format_p(p: float) -> str:
    """``p < 0.001`` below 0.001, else three decimals (as in the report).

    >>> _format_p(3.1e-05), _format_p(0.0456)
    ('p < 0.001', 'p = 0.046')
    """
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _primary_summary(
    effects: pd.DataFrame,
    descriptives: pd.DataFrame,
    primary: str,
    *,
    method: str = "ancova",
    endpoint: str | None = None,
) -> str:
    """A few plain lines on the primary outcome: per-arm change and the adjusted difference."""
    rows = effects.loc[effects["outcome"] == primary]
    if endpoint is not None and (rows["wave"] == endpoint).any():
        rows = rows.loc[rows["wave"] == endpoint]
    row = rows.iloc[0]
    lines = [f"Primary outcome {primary} ({row['estimand']}):"]
    for _, arm_row in descriptives.loc[descriptives["outcome"] == primary].iterrows():
        lines.append(
            f"  {arm_row['arm']:>10}: {int(arm_row['percent_change_n'])} with both scores: "
            f"baseline {arm_row['paired_baseline_mean']:.3f} -> endpoint "
            f"{arm_row['paired_endpoint_mean']:.3f}, change of means "
            f"{arm_row['percent_change']:+.1f}%"
        )
    level = int(round(100 * row["conf_level"]))
    lines.append(
        f"  {_METHOD_LABEL.get(method, 'Difference')} {row['contrast']}: {row['estimate']:.2f} "
        f"({level}% CI {row['conf_low']:.2f} to {row['conf_high']:.2f}), "
        f"t({row['df']:.0f}) = {row['statistic']:.2f}, {_format_p(row['p_value'])}"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# analyze
# --------------------------------------------------------------------------------------------


def _analyze_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="analysis plan (TOML; see coaching_trials.pipeline)")
    parser.add_argument(
        "--out", default="results", help="output directory (default: results/)", metavar="DIR"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an output folder that coaching_trials did not write",
    )


def _analyze(args: argparse.Namespace) -> int:
    from coaching_trials.pipeline import run_analysis

    if not Path(args.config).is_file():
        raise CommandError(f"config file not found: {args.config}")
    _check_out_dir(args.out)
    run = run_analysis(args.config, out=args.out, force=args.force)
    _print_run(run, heading=f"{run.config['report']['title']}: mean (SD) by wave and arm:")
    return 0


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
    _reader_arguments(parser)


def _score(args: argparse.Namespace) -> int:
    from coaching_trials.pipeline import check_table_path

    instruments = list(dict.fromkeys(args.instrument))
    if args.metric is not None and len(instruments) > 1:
        raise CommandError("--metric can only be used with a single --instrument.")
    check_table_path(args.out)
    items = _item_patterns(args.items, instruments)
    df = _read(args.file, args)
    missing_codes = _pairs(args.missing_code, "--missing-code", "TOKEN=REASON") or None
    scored = _score_all(df, instruments, args.metric, items=items, missing_codes=missing_codes)
    out = Path(args.out)
    _write_table(scored, out)
    added = [c for c in scored.columns if c not in df.columns]
    print(f"Scored {len(scored)} row(s) with {', '.join(instruments)}: added {', '.join(added)}.")
    _print_read_notes(df)
    for rec in scored.attrs.get("audit", ()):  # prorated and unscorable rows, nothing hidden
        if not str(rec.get("step", "")).startswith("score:"):
            continue  # the reader's records, printed above
        where = f"{rec['subscale']}: " if rec.get("subscale") else ""
        rows = f"{rec['n_rows']} row(s) " if rec.get("n_rows") else ""
        print(f"  {where}{rows}{rec['reason']}; {rec['detail']}")
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
        help="instrument whose items to check; default: every instrument with any of its "
        "item columns in the file (missing item columns are reported)",
    )
    parser.add_argument("--subject", default="participant_id", help="participant id column")
    parser.add_argument("--arm", default="arm", help="arm column")
    parser.add_argument("--wave", default="wave", help="wave column")
    parser.add_argument("--arms", nargs="+", default=None, help="expected arm labels")
    parser.add_argument("--waves", nargs="+", default=None, help="expected wave labels")
    _reader_arguments(parser)


def _detect_instruments(columns: Sequence[str]) -> list[str]:
    """Instruments to check: those with every item column present, and those with only some.

    An instrument with some of its item columns (e.g. ``pfi_07`` lost in an export) is checked
    too, so that the missing columns are reported rather than the instrument silently skipped;
    unless every present item belongs to a complete instrument (the UWES-3 items are a subset
    of the UWES-9 items, so a UWES-3 file is not reported as an incomplete UWES-9).
    """
    from coaching_trials.instruments.registry import get_instrument, list_instruments

    present = set(columns)
    items = {iid: set(get_instrument(iid).items) for iid in list_instruments()["id"]}
    complete = [iid for iid, its in items.items() if its <= present]
    covered = set().union(*(items[iid] for iid in complete))
    partial = [
        iid
        for iid, its in items.items()
        if iid not in complete and its & present and not (its & present) <= covered
    ]
    return [iid for iid in items if iid in complete or iid in partial]


def _validate(args: argparse.Namespace) -> int:
    from coaching_trials.io.validate import validate_responses

    df = _read(args.file, args)
    instruments = args.instrument if args.instrument else _detect_instruments(df.columns)
    items = _item_patterns(args.items, instruments) if instruments else {}
    if args.items and not instruments:
        raise CommandError("--items needs --instrument ID (no instrument found in the file).")
    report = validate_responses(
        df,
        subject=args.subject,
        arm=args.arm,
        wave=args.wave,
        arms=args.arms,
        waves=args.waves,
        instruments=instruments,
        items=items or None,
        missing_codes=_pairs(args.missing_code, "--missing-code", "TOKEN=REASON") or None,
        raise_on_error=False,
    )
    checked = ", ".join(instruments) if instruments else "none"
    print(f"{args.file}: instruments checked: {checked}")
    _print_read_notes(df)
    print(report.summary())
    if _names_rows(report.problems):
        print(ROW_NOTE)
    return EXIT_OK if report.ok else EXIT_PROBLEMS


# --------------------------------------------------------------------------------------------
# dispatch
# --------------------------------------------------------------------------------------------

COMMANDS: tuple[Command, ...] = (
    Command(
        "demo",
        "run the whole analysis on the synthetic example trial (tables, figures, report)",
        _demo_arguments,
        _demo,
    ),
    Command(
        "analyze",
        "run a pre-specified analysis from a config file (tables, figures, report, manifest)",
        _analyze_arguments,
        _analyze,
    ),
    *PLANNING_COMMANDS,
    Command("instruments", "list the shipped instruments", _instruments_arguments, _instruments),
    Command("score", "score a survey export", _score_arguments, _score),
    Command("validate", "check a long responses file", _validate_arguments, _validate),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per entry of ``COMMANDS``."""
    from coaching_trials import __version__

    parser = argparse.ArgumentParser(
        prog="coaching-trials",
        description=(
            "Analyse randomized coaching trials: scoring, validation, pre-specified analyses "
            "from a config file, the demo analysis and power by simulation."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error (for bug reports)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        sub_parser = sub.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub_parser)
        sub_parser.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    0 success; 1 ``validate`` found problems in the data; 2 a refusal: bad input, options,
    config or output folder (one of the package's error classes), printed on stderr without
    a traceback (``coaching-trials --debug COMMAND ...`` shows it).

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
        if args.debug:
            raise
        print(f"coaching-trials {args.command}: error: {exc}", file=sys.stderr)
        cases = getattr(exc, "failure_cases", None)
        if cases is not None and _names_rows(cases):
            print(ROW_NOTE, file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
