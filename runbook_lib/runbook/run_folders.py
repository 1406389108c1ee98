"""Run folders: ``<root>/<UTC timestamp>/`` per run, ``<root>/latest`` pointing at the newest, and pruning.

A run folder is recognised by two things at once: its name is a run stamp (``20261129T054500Z``, or
``20261129T054500Z-2`` when two runs start in the same second) and it holds the marker file its command
writes (``check.json`` for ``check``, ``summary.json`` for ``report``). :func:`prune` removes only such
folders, oldest first, never a symlink, never the folder ``latest`` points at, and never anything else that
lives beside them (a user's notes, ``history.jsonl``, another command's runs). ``make report`` (through
``lifecycle``, which re-exports :func:`new_run_dir` and :func:`point_latest`) and ``check --out`` share them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import uuid
from pathlib import Path

from runbook_lib.errors import ConfigError

__all__ = ["DEFAULT_KEEP", "STAMP_FORMAT", "check_keep", "is_run_folder", "new_run_dir", "point_latest", "prune"]

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
#: How many run folders ``--keep`` leaves by default.
DEFAULT_KEEP = 30
_STAMP = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


def new_run_dir(out_root: Path, now: dt.datetime | None = None) -> Path:
    """``out_root/<UTC timestamp>``, or ``<timestamp>-2``, ``-3``... when another run took that second.

    ``mkdir`` is atomic: exactly one run gets each name. The suffix starts after the highest one of that
    second still present, so a name freed by :func:`prune` never comes back and the new run sorts last."""
    out_root.mkdir(parents=True, exist_ok=True)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime(STAMP_FORMAT)
    taken = [_order(p)[1] for p in out_root.glob(f"{stamp}*") if _STAMP.match(p.name)]
    for n in range(max(taken, default=0) + 1, 1000):
        run_dir = out_root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:
            continue
    raise ConfigError(f"{out_root} already has 999 runs named {stamp}*: nothing more can start this second. "
                      "Clean it with `make clean` or use another --out folder.")


def point_latest(out_root: Path, run_dir: Path) -> Path:
    """Point ``out_root/latest`` at ``run_dir`` atomically (a fresh relative symlink renamed over it with
    ``os.replace``): a reader sees the old run or the new, never none."""
    latest = out_root / "latest"
    tmp = out_root / f".latest-{uuid.uuid4().hex}"
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    try:
        os.replace(tmp, latest)
    except OSError:
        tmp.unlink()
        raise
    return latest


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
