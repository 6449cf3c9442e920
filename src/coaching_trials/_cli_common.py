"""Pieces every command of the command line shares (see :mod:`coaching_trials.cli`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_PROBLEMS", "Command", "CommandError"]


class CommandError(Exception):
    """A user error the CLI reports on stderr with exit code 2 (no traceback)."""


#: Exit codes: 0 success; 1 `validate` found problems in the data; 2 a refusal (bad input,
#: options, config or output folder), reported on stderr without a traceback (``--debug``
#: shows it).
EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR = 0, 1, 2


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, help line, argument setup and the function that runs it."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _check_out_dir(out: str) -> None:
    """``--out`` must name a folder (new or existing), not a file."""
    if Path(out).exists() and not Path(out).is_dir():
        raise CommandError(f"--out {out}: is a file; expected a folder for the results.")


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a table deterministically; the format follows the extension (default CSV)."""
    from coaching_trials.pipeline import write_table

    write_table(frame, path)


def _format_table(frame: pd.DataFrame) -> str:
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 50):
        return frame.to_string(index=False)
