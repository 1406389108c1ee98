"""``check ... --out DIR``: every run in its own folder, a history line per run, and what changed since the last.

Each run gets ``DIR/<UTC timestamp>/`` (``check.json``, ``check.txt``, and ``config.json``: the normalized
configuration, policies and CloudFront Functions of every distribution, as the source reader produced
them), ``DIR/latest`` points at it, and one JSON line is appended to ``DIR/history.jsonl``:
``{"time", "run", "source", "ok", "config_hash", "verdicts": [{"distribution", "behavior", "requirement",
"met"}], "errors": ["<distribution> <behavior> <finding code>"]}``.

The run's report (``check.txt``, and what the command prints) opens with "changed since the last run": the
verdicts that changed (newly failing first), then the drift, one line per changed setting of the
configuration and policies, compared with the last run of the same source in ``DIR``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_lib.runbook.check import CheckResult, table, write
from runbook_lib.runbook.run_folders import DEFAULT_KEEP, check_keep, new_run_dir, point_latest, prune

__all__ = ["HISTORY", "RunRecord", "changes", "record", "snapshot"]

HISTORY = "history.jsonl"
_CONFIG = "config.json"
_WORD = {True: "met", False: "unmet", None: "unknown"}
_LABEL_KEYS = ("PathPattern", "Id", "Name", "HeaderName")
_MAX_DRIFT_LINES = 60


@dataclass
class RunRecord:
    run_dir: Path
    line: dict[str, Any]
    #: The "changed since the last run" section, ending with a blank line.
    changes: str
    pruned: list[Path]


def snapshot(result: CheckResult) -> dict[str, Any]:
    """Configuration, policies and function code of every distribution, by distribution name."""
    shot: dict[str, Any] = {}
    for dist in result.distributions:
        src = dist.source
        shot[dist.name] = {"config": src.config if src else {}, "policies": src.policies if src else {},
                           "functions": src.functions if src else {}}
    return shot


def _hash(shot: dict[str, Any]) -> str:
    canonical = json.dumps(shot, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _line(result: CheckResult, run_dir: Path, shot: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    verdicts = [{"distribution": d.name, "behavior": b.path_pattern, "requirement": r["id"], "met": r["met"]}
                for d in result.distributions for b in d.behaviors for r in b.requirements]
    errors = [f"{d.name} {f.get('behavior') or '*'} {f['code']}" for d in result.distributions
              for f in d.findings if f.get("severity") == "error"]
    return {"time": now.isoformat(timespec="seconds"), "run": run_dir.name, "source": result.source,
            "ok": result.ok, "config_hash": _hash(shot), "verdicts": verdicts, "errors": errors}


def _previous(root: Path, source: str) -> dict[str, Any] | None:
    path = root / HISTORY
    if not path.is_file():
        return None
    last = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            continue  # a line cut by a crash is skipped, not fatal
        if isinstance(line, dict) and line.get("source") == source:
            last = line
    return last


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "Quantity":  # CloudFront's Quantity repeats the length of Items
                _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            label = next((item[k] for k in _LABEL_KEYS if isinstance(item, dict) and k in item), index)
            _flatten(item, f"{prefix}[{label}]", out)
    else:
        out[prefix] = json.dumps(value) if "\n" not in str(value) else f"<{len(str(value).splitlines())} lines>"


def _drift(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    old: dict[str, str] = {}
    new: dict[str, str] = {}
    _flatten(before, "", old)
    _flatten(after, "", new)
    lines = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            lines.append(f"- {key}: {old[key]} (removed)")
        elif key not in old:
            lines.append(f"+ {key}: {new[key]} (added)")
        elif old[key] != new[key]:
            lines.append(f"~ {key}: {old[key]} -> {new[key]}")
    if len(lines) > _MAX_DRIFT_LINES:
        rest = len(lines) - _MAX_DRIFT_LINES
        lines = [*lines[:_MAX_DRIFT_LINES], f"... and {rest} more (compare the two runs' {_CONFIG})"]
    return lines


def _word(value: Any) -> str:
    return _WORD[value] if value in (True, False, None) else str(value)


def _verdict_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    def keyed(line: dict[str, Any]) -> dict[str, Any]:
        met = {f"{v['distribution']} {v['behavior']} {v['requirement']}": v["met"] for v in line["verdicts"]}
        met.update({f"{e} (error finding)": False for e in line.get("errors", [])})
        return met

    old, new = keyed(before), keyed(after)
    failing, passing, other = [], [], []
    for key in sorted(old.keys() | new.keys()):
        was, now = old.get(key, "absent"), new.get(key, "absent")
        if was == now:
            continue
        text = f"{key}: {_word(was)} -> {_word(now)}"
        if key.endswith("(error finding)"):
            text = f"{key}: {'new' if now is False else 'gone'}"
        if now is not True and now != "absent" and was in (True, "absent"):
            failing.append(f"newly failing: {text}")
        elif now is True or (now == "absent" and key.endswith("(error finding)")):
            passing.append(f"now passing:   {text}")
        else:
            other.append(f"changed:       {text}")
    return failing + other + passing


def changes(before: dict[str, Any] | None, after: dict[str, Any], old_shot: dict[str, Any] | None,
            new_shot: dict[str, Any]) -> str:
    """The "changed since the last run" section, from two history lines and two snapshots."""
    if before is None:
        return f"changed since the last run: nothing to compare, this is the first run of {after['source']} here\n\n"
    head = f"changed since the last run ({before['run']}, {'PASS' if before['ok'] else 'FAIL'} -> " \
           f"{'PASS' if after['ok'] else 'FAIL'}):"
    verdicts = _verdict_changes(before, after)
    if before["config_hash"] == after["config_hash"]:
        drift = ["configuration and policies: unchanged"]
    elif old_shot is None:
        drift = [f"configuration and policies: changed (hash {before['config_hash'][:19]} -> "
                 f"{after['config_hash'][:19]}); the last run's {_CONFIG} is gone (pruned), so no details"]
    else:
        drift = ["configuration and policies (drift):", *(f"  {d}" for d in _drift(old_shot, new_shot))]
    lines = [head, "  verdicts:" if verdicts else "  verdicts: unchanged", *(f"    {v}" for v in verdicts),
             *(f"  {d}" for d in drift)]
    return "\n".join(lines) + "\n\n"


def record(result: CheckResult, out_root: str | Path, keep: int = DEFAULT_KEEP,
           now: dt.datetime | None = None) -> RunRecord:
    """Write this run's folder, append its history line, point ``latest`` at it and prune beyond ``keep``."""
    check_keep(keep)
    root = Path(out_root)
    moment = now or dt.datetime.now(dt.UTC)
    before = _previous(root, result.source)
    run_dir = new_run_dir(root, moment)
    shot = snapshot(result)
    line = _line(result, run_dir, shot, moment)
    old_file = root / before["run"] / _CONFIG if before else None
    old_shot = json.loads(old_file.read_text(encoding="utf-8")) if old_file and old_file.is_file() else None
    section = changes(before, line, old_shot, shot)
    (run_dir / _CONFIG).write_text(json.dumps(shot, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    write(result, run_dir)
    (run_dir / "check.txt").write_text(section + table(result), encoding="utf-8")
    with (root / HISTORY).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, separators=(",", ":")) + "\n")
    point_latest(root, run_dir)
    return RunRecord(run_dir, line, section, prune(root, keep, "check.json"))
