"""The planning commands of the command line: ``power``, ``power-grid`` and ``init``."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from coaching_trials._cli_common import Command, CommandError, _format_table, _write_table

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import Executor

__all__ = ["PLANNING_COMMANDS"]

# --------------------------------------------------------------------------------------------
# power
# --------------------------------------------------------------------------------------------

POWER_N_SIMS = 1000
POWER_SEED = 1


def _power_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--n-per-arm", type=int, default=None, metavar="N", help="participants in each arm"
    )
    parser.add_argument(
        "--n-immediate", type=int, default=None, metavar="N", help="immediate arm (default 67)"
    )
    parser.add_argument(
        "--n-delayed", type=int, default=None, metavar="N", help="delayed arm (default 71)"
    )
    parser.add_argument(
        "--outcome", default="pfi_burnout", help="scored outcome (default: pfi_burnout)"
    )
    parser.add_argument("--wave", default="month3", help="wave compared (default: month3)")
    parser.add_argument(
        "--analysis",
        default="ancova",
        help="ancova (default), change or difference",
    )
    parser.add_argument(
        "--effect",
        action="append",
        default=None,
        metavar="POINTS | CONSTRUCT=LATENT",
        help="the coaching effect: a bare number is the true difference in --outcome's own "
        "points (e.g. --effect -0.3 = 0.3 points less burnout on the PFI item mean); "
        "CONSTRUCT=VALUE instead sets one simulated construct's latent effect (pfi_pf, pfi_we, "
        "pfi_id, svs, uwes, qol, iwpr; repeatable). Default: the effects that roughly "
        "reproduce Kiser et al. 2024",
    )
    parser.add_argument(
        "--standardized-effect",
        type=float,
        default=None,
        metavar="D",
        help="the coaching effect in baseline SDs of --outcome (instead of --effect)",
    )
    parser.add_argument(
        "--dropout",
        type=float,
        default=None,
        metavar="P",
        help="probability of leaving before each follow-up wave, both arms "
        "(default: 0.06 immediate, 0.12 delayed)",
    )
    parser.add_argument(
        "--n-sims",
        type=int,
        default=POWER_N_SIMS,
        metavar="N",
        help=f"simulated trials (default: {POWER_N_SIMS})",
    )
    parser.add_argument("--conf-level", type=float, default=0.95, help="default 0.95")
    parser.add_argument(
        "--alternative", default="two-sided", help="two-sided (default), less or greater"
    )
    parser.add_argument(
        "--seed", type=int, default=POWER_SEED, help=f"random seed (default: {POWER_SEED})"
    )
    parser.add_argument(
        "--out", default=None, metavar="FILE", help="also write the result table (.csv)"
    )


def _parse_effects(values: Sequence[str] | None) -> tuple[float | None, dict[str, float] | None]:
    """``--effect`` values: (effect in outcome points or None, latent effects per construct)."""
    if not values:
        return None, None
    points: float | None = None
    latent: dict[str, float] = {}
    for text in values:
        key, sep, number = text.rpartition("=")
        try:
            value = float(number)
        except ValueError:
            raise CommandError(
                f"--effect must be POINTS or CONSTRUCT=VALUE with a number; got {text!r}."
            ) from None
        if sep:
            latent[key.strip()] = value
        elif points is not None:
            raise CommandError("--effect POINTS was given twice; give one effect in points.")
        else:
            points = value
    if points is not None and latent:
        raise CommandError(
            "--effect POINTS (the difference in the outcome's points) and --effect "
            "CONSTRUCT=VALUE (latent effects) cannot be combined; give one or the other."
        )
    return points, latent or None


def _power(args: argparse.Namespace) -> int:
    from coaching_trials.pipeline import check_table_path
    from coaching_trials.simulate.power import power

    if args.out is not None:
        check_table_path(args.out)
    for flag, value in (
        ("--n-per-arm", args.n_per_arm),
        ("--n-immediate", args.n_immediate),
        ("--n-delayed", args.n_delayed),
    ):
        if value is not None and value < 1:
            raise CommandError(f"{flag} must be a positive integer; got {value}.")
    if args.dropout is not None and not 0 <= args.dropout < 1:
        raise CommandError(f"--dropout must be a probability in [0, 1); got {args.dropout:g}.")
    n_imm = args.n_immediate if args.n_immediate is not None else args.n_per_arm
    n_dly = args.n_delayed if args.n_delayed is not None else args.n_per_arm
    kwargs = {"n_immediate": n_imm, "n_delayed": n_dly}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    effect, effects = _parse_effects(args.effect)
    if args.standardized_effect is not None and (effect is not None or effects):
        raise CommandError("give --effect or --standardized-effect, not both.")
    dropout = None
    if args.dropout is not None:
        dropout = {"immediate": args.dropout, "delayed": args.dropout}
    res = power(
        **kwargs,
        outcome=args.outcome,
        wave=args.wave,
        analysis=args.analysis,
        n_sims=args.n_sims,
        conf_level=args.conf_level,
        alternative=args.alternative,
        effect=effect,
        standardized_effect=args.standardized_effect,
        effects=effects,
        dropout=dropout,
        seed=args.seed,
    )
    level = int(round(100 * res.conf_level)) if res.conf_level * 100 % 1 == 0 else res.conf_level
    print(
        f"Simulated power: {res.analysis} of {res.outcome} at {res.wave}, immediate vs delayed "
        f"({res.n_immediate} vs {res.n_delayed} randomized), {res.alternative} test at "
        f"alpha = {1 - res.conf_level:.3g}, {res.n_sims} simulated trials, seed {res.seed}"
    )
    if effect is not None:
        print(f"  coaching effect asked for: {effect:g} points on {res.outcome}")
    elif args.standardized_effect is not None:
        print(
            f"  coaching effect asked for: {args.standardized_effect:g} baseline SDs of "
            f"{res.outcome} (SD {res.outcome_sd:.3f})"
        )
    elif effects:
        shown = ", ".join(f"{k} = {v:g}" for k, v in effects.items())
        print(f"  coaching effects (latent, per simulated construct): {shown}")
    print(
        f"  power {res.power:.3f} ({level}% Monte Carlo CI {res.power_conf_low:.3f} to "
        f"{res.power_conf_high:.3f})"
    )
    print(
        f"  true difference simulated {res.true_effect:.3f} points "
        f"({res.standardized_effect:.3f} SD); mean estimate {res.mean_estimate:.3f} "
        f"(bias {res.bias:+.3f}); empirical SE {res.empirical_se:.3f}, mean model SE "
        f"{res.mean_std_error:.3f}; CI coverage {res.coverage:.3f}; failed fits {res.n_failed}"
    )
    if args.out is not None:
        _write_table(res.to_frame(), Path(args.out))
        print(f"Wrote {args.out}")
    return 0


# --------------------------------------------------------------------------------------------
# power-grid
# --------------------------------------------------------------------------------------------


def _power_grid_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "plan",
        nargs="?",
        default=None,
        metavar="PLAN.toml",
        help="the grid plan: [design], [grid], [simulation], [plot] (see --example)",
    )
    parser.add_argument("--out", default=None, metavar="DIR", help="output folder (new or empty)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes (default 1); the table is identical whatever N",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on a Dask cluster instead: its scheduler address, e.g. tcp://host:8786 "
        "(needs the parallel extra: pip install 'coaching-trials[parallel]')",
    )
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    parser.add_argument(
        "--example", action="store_true", help="print an example plan to start from and exit"
    )


def _power_grid(args: argparse.Namespace) -> int:
    from coaching_trials.simulate.plan import EXAMPLE_PLAN, run_power_grid

    if args.example:
        print(EXAMPLE_PLAN, end="")
        return 0
    if args.plan is None or args.out is None:
        raise CommandError(
            "give a plan and an output folder: coaching-trials power-grid PLAN.toml --out DIR "
            "(coaching-trials power-grid --example > plan.toml writes one to start from)."
        )
    if not Path(args.plan).is_file():
        raise CommandError(f"plan file not found: {args.plan}")
    if args.workers < 1:
        raise CommandError(f"--workers must be a positive integer; got {args.workers}.")
    if args.scheduler is not None and args.workers != 1:
        raise CommandError("give --workers (processes here) or --scheduler (a cluster), not both.")
    with _executor(args) as executor:
        run = run_power_grid(args.plan, out=args.out, executor=executor, progress=args.progress)
    table = run.to_frame()
    print(f"Power grid: {len(table)} cells, {run.grid.n_sims} simulated trials each")
    shown = [c for c in ("analysis", "n_per_arm", "effect", "dropout", "icc", "power",
                         "power_se") if c in table.columns]  # fmt: skip
    print(_format_table(table[shown].round(3)))
    print(f"Wrote {run.out} (power_grid.csv, power_grid.parquet, power_curve.png, manifest.json)")
    return 0


@contextmanager
def _executor(args: argparse.Namespace) -> Iterator[Executor | None]:
    """The executor ``--workers``/``--scheduler`` ask for, shut down on exit (None: serial)."""
    if args.scheduler is not None:
        try:
            from dask.distributed import Client
        except ImportError:
            raise CommandError(
                "--scheduler needs dask.distributed: pip install 'coaching-trials[parallel]'"
            ) from None
        with Client(args.scheduler) as client:
            yield client.get_executor()
    elif args.workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            yield pool
    else:
        yield None


# --------------------------------------------------------------------------------------------
# init
# --------------------------------------------------------------------------------------------


def _init_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "datafile",
        nargs="?",
        default=None,
        metavar="DATAFILE",
        help="a long responses file (one row per person and wave); without it the plan runs "
        "the shipped synthetic example",
    )
    parser.add_argument("--participants", default=None, metavar="FILE", help="participants file")
    parser.add_argument(
        "--out", default="plan.toml", metavar="PLAN", help="the plan to write (default plan.toml)"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing plan file")


def _init(args: argparse.Namespace) -> int:
    from coaching_trials.starter import starter_plan

    target = Path(args.out)
    if target.suffix.lower() != ".toml":
        raise CommandError(f"--out {args.out}: the plan is a TOML file; name it *.toml.")
    if target.is_dir():
        raise CommandError(f"--out {args.out}: is a folder; give the plan file's name.")
    if target.exists() and not args.force:
        raise CommandError(f"{args.out} exists; use --force to replace it.")
    for option, path in (("DATAFILE", args.datafile), ("--participants", args.participants)):
        if path is not None and not Path(path).is_file():
            raise CommandError(f"{option} {path}: file not found.")
    text = starter_plan(args.datafile, participants=args.participants, plan_dir=target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    if args.datafile is None:
        print(
            f"Wrote {target}: a plan that runs the shipped SYNTHETIC example trial. Point its "
            "[data] section at your file, or run `coaching-trials init YOUR_FILE` to have the "
            "columns guessed."
        )
        print(f"Next: coaching-trials analyze {target} --out results")
        return 0
    print(f"Wrote {target}. What was guessed (check each line before running):")
    for line in text.splitlines():
        if "#" in line and not line.lstrip().startswith("#"):
            print(f"  {line.split('#', 1)[0].strip():<40} # {line.split('#', 1)[1].strip()}")
    print(f"Next: coaching-trials analyze {target} --out results")
    return 0


PLANNING_COMMANDS: tuple[Command, ...] = (
    Command(
        "init",
        "write a commented starter plan for `analyze`, guessed from a data file",
        _init_arguments,
        _init,
    ),
    Command(
        "power", "power of a delayed-intervention trial by simulation", _power_arguments, _power
    ),
    Command(
        "power-grid",
        "power over a grid of designs from a plan file (table, power curve, manifest)",
        _power_grid_arguments,
        _power_grid,
    ),
)
