"""Run folders: ``<root>/<UTC timestamp>/`` per run, ``<root>/latest`` pointing at the newest, and pruning.

A run folder is recognised by two things at once: its name is a run stamp (``20261129T054500Z``, or
``20261129T054500Z-2`` when two runs start in the same second) and it holds the marker file its command
writes (``check.json`` for ``check``, ``summary.json`` for ``report``). :func:`prune` removes only such
folders, oldest first, never a symlink, never the folder ``latest`` points at, and never anything else that
lives beside them (a user's notes, ``history.jsonl``, another command's runs).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

from runbook_lib.errors import ConfigError

__all__ = ["DEFAULT_KEEP", "STAMP_FORMAT", "check_keep", "is_run_folder", "new_run_dir", "point_latest", "prune"]

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
#: How many run folders ``--keep`` leaves by default.
DEFAULT_KEEP = 30
_STAMP = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


def new_run_dir(root: Path, now: dt.datetime | None = None) -> Path:
    """Create and return a fresh ``root/<stamp>`` (``<stamp>-2``, ``-3``... when that second is taken)."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime(STAMP_FORMAT)
    # After a folder of this second was pruned, its name must not come back: the new run sorts last.
    taken = [_order(p)[1] for p in root.glob(f"{stamp}*") if _STAMP.match(p.name)]
    for n in range(max(taken, default=0) + 1, 1000):
        folder = root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise ConfigError(f"Cannot create a run folder under {root}: 999 runs already started at {stamp}. "
                      "Use another --out folder.")


def point_latest(root: Path, run_dir: Path) -> None:
    """Point ``root/latest`` at ``run_dir`` (a relative symlink, so the folder can be moved)."""
    latest = root / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(run_dir.name, target_is_directory=True)


def is_run_folder(path: Path, marker: str) -> bool:
    """True for a real folder (not a symlink) named like a run stamp that holds ``marker``."""
    return (bool(_STAMP.match(path.name)) and not path.is_symlink() and path.is_dir()
            and (path / marker).is_file())


def _order(path: Path) -> tuple[str, int]:
    stamp, _, n = path.name.partition("-")
    return stamp, int(n or 1)


def check_keep(keep: int) -> None:
    """Refuse a ``--keep`` below 1 before anything is written."""
    if keep < 1:
        raise ConfigError(f"--keep must be at least 1 (got {keep}): the newest run is always kept.")


def prune(root: Path, keep: int = DEFAULT_KEEP, marker: str = "check.json") -> list[Path]:
    """Remove the oldest run folders under ``root`` beyond the newest ``keep``; returns what was removed."""
    check_keep(keep)
    if not root.is_dir():
        return []
    latest = root / "latest"
    protected = latest.resolve() if latest.is_symlink() else None
    runs = sorted((p for p in root.iterdir() if is_run_folder(p, marker)), key=_order)
    removed = []
    for folder in runs[:-keep]:
        if protected is not None and folder.resolve() == protected:
            continue
        shutil.rmtree(folder)
        removed.append(folder)
    return removed
