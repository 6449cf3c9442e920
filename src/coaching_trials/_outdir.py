"""Output folders written atomically: built beside the target, then renamed into place.

A run writes into a fresh temporary folder next to the target (same file system), and only
when every file is written does it swap the folder in: the old folder is renamed aside, the new
one renamed to the target, the old one removed. A run killed at any point leaves either the
previous complete folder, or no folder at the target (never a mix of two runs, never a stale
file from an earlier run). Leftover temporary folders of killed runs are removed by the next
run. A folder that this tool did not make (it has files but no run manifest) is refused unless
``force``; a folder that is (or holds) the current folder, the run's config or its input files
is refused always. Files added by hand inside a run folder are replaced with the folder.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

__all__ = ["GENERATOR", "OutputFolder", "OutputFolderError", "is_run_folder"]

GENERATOR = "coaching_trials"


#: Folders of the operating system's virtual file systems: never an output folder.
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")


class OutputFolderError(ValueError):
    """The output folder cannot be used (not ours, not a folder, not writable)."""


def _within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
    except ValueError:
        return False
    return True


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` holds a run of this tool (its manifest says so)."""
    manifest = path / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and (
        data.get("generator") == GENERATOR or "manifest_version" in data
    )


class OutputFolder:
    """Build a run's files in ``staging`` and move them to ``target`` with :meth:`commit`.

    Parameters
    ----------
    target : path
        The folder the run's files end up in.
    force : bool
        Replace a non-empty folder that this tool did not make.
    """

    def __init__(
        self, target: str | Path, *, force: bool = False, protect: Sequence[Path] = ()
    ) -> None:
        target = Path(target).expanduser()
        self.target = target.resolve() if target.exists() else target.absolute()
        system = next(
            (r for r in SYSTEM_FOLDERS if self.target == Path(r) or Path(r) in self.target.parents),
            None,
        )
        if system is not None:
            raise OutputFolderError(
                f"the output folder {str(target)!r} is inside {system}, a folder of the operating "
                "system (not a place for files); choose a folder of your own with --out "
                "(out=), e.g. --out results."
            )
        cwd = Path.cwd().resolve()
        if self.target == cwd or self.target in cwd.parents:
            raise OutputFolderError(
                f"the output folder {str(target)!r} is the current folder or holds it; a run "
                "replaces its output folder as a whole, so choose a new folder such as "
                "--out results."
            )
        inside = [p for p in protect if _within(Path(p), self.target)]
        if inside:
            raise OutputFolderError(
                f"the output folder {str(target)!r} holds this run's own input or config "
                f"({', '.join(str(p) for p in inside)}); a run replaces its output folder as a "
                "whole, so choose another folder (even --force does not delete inputs)."
            )
        if self.target.exists():
            if not os.access(self.target.parent, os.W_OK):
                raise OutputFolderError(
                    f"cannot write in {str(self.target.parent)!r} (the folder of the output "
                    f"{str(target)!r}); choose another --out (out=)."
                )
            if not self.target.is_dir():
                raise OutputFolderError(f"the output path {str(target)!r} is a file, not a folder.")
            has_files = any(self.target.iterdir())
            if has_files and not force and not is_run_folder(self.target):
                raise OutputFolderError(
                    f"the output folder {str(target)!r} has files that coaching_trials did not "
                    "write (no run manifest.json); choose an empty or new folder. Only if "
                    "everything in it may be deleted, pass --force (force=True) to replace it."
                )
        parent = self.target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputFolderError(
                f"cannot create the output folder's parent {str(parent)!r}: {exc.strerror or exc}."
            ) from None
        if not os.access(parent, os.W_OK):
            raise OutputFolderError(
                f"cannot write in {str(parent)!r} (the folder of the output); choose another --out."
            )
        self._clean_leftovers()
        token = uuid.uuid4().hex[:12]
        self.staging = parent / f".{self.target.name}.partial-{token}"
        try:
            self.staging.mkdir()
        except OSError as exc:
            raise OutputFolderError(
                f"cannot write the output folder {str(target)!r}: {exc.strerror or exc}."
            ) from None

    def _clean_leftovers(self) -> None:
        for pattern in (f".{self.target.name}.partial-*", f".{self.target.name}.old-*"):
            for old in self.target.parent.glob(pattern):
                shutil.rmtree(old, ignore_errors=True)

    def commit(self) -> Path:
        """Swap the finished folder into place; returns the target."""
        old = None
        if self.target.exists():
            old = self.target.parent / f".{self.target.name}.old-{uuid.uuid4().hex[:12]}"
            os.replace(self.target, old)
        os.replace(self.staging, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.target

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        if exc_type is not None:
            self.abort()
