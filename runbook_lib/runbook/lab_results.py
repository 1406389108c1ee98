"""The pitfalls lab's verdict: one entry per pitfall and per path fix, and what makes the lab pass.

``summary.json``'s ``pitfalls`` list holds these entries, ten in all: the six pitfalls of
``runbook_lib.runbook.pitfalls`` and the four ways to map ``/api/*`` onto an API of
``runbook_lib.runbook.path_fixes``. The lab passes when every fix was verified and every symptom was seen,
except where a documented emulator deviation (docs/deviations.md) is named as the reason it could not be.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runbook_lib.errors import VerdictFailed
from runbook_lib.runbook.deviations import BY_ID
from runbook_lib.runbook.path_fixes import FIX_IDS, FixOutcome
from runbook_lib.runbook.pitfalls import PITFALL_IDS, Outcome

__all__ = ["ENTRY_IDS", "check", "entries", "fix_entry", "problems", "save", "verdict_line"]

#: Every entry ``summary.json`` must have: the pitfalls, then the path fixes.
ENTRY_IDS = (*PITFALL_IDS, *FIX_IDS)


def fix_entry(outcome: FixOutcome) -> dict[str, Any]:
    """A path fix as a ``summary.json`` entry (a fix has no symptom of its own: ``symptom_seen`` is null)."""
    return {"id": outcome.id, "kind": "path-fix", "symptom_seen": None, "fix_verified": outcome.verified,
            "shown_locally": outcome.shown_locally, "deviation": outcome.deviation, "note": outcome.note}


def entries(outcomes: list[Outcome], fixes: list[FixOutcome]) -> list[dict[str, Any]]:
    return [o.summary() for o in outcomes] + [fix_entry(f) for f in fixes]


def _named_deviation(entry: dict[str, Any]) -> str | None:
    named = entry.get("deviation") or str(entry.get("note", "")).split(":", 1)[0].strip()
    return named if named in BY_ID else None


def problems(found: list[dict[str, Any]], local: bool) -> list[str]:
    """What keeps the lab from passing, one sentence each ([] when it passes)."""
    out = [f"{i}: missing (the lab did not run it)" for i in ENTRY_IDS if i not in {e["id"] for e in found}]
    for e in found:
        note = f" ({e['note']})" if e.get("note") else ""
        if not e["fix_verified"]:
            out.append(f"{e['id']}: fix NOT verified{note}")
        elif e.get("kind") == "path-fix":
            if local and not e.get("shown_locally") and _named_deviation(e) is None:
                out.append(f"{e['id']}: not shown through CloudFront here and no documented deviation says why{note}")
        elif not e["symptom_seen"] and _named_deviation(e) is None:
            out.append(f"{e['id']}: symptom not seen, and no documented deviation hides it{note}")
    return out


def save(outcomes: list[Outcome], fixes: list[FixOutcome], folder: str | Path) -> Path:
    """``pitfalls.json``: the entries the run's ``summary.json`` takes."""
    path = Path(folder) / "pitfalls.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries(outcomes, fixes), indent=2))
    return path


def check(outcomes: list[Outcome], fixes: list[FixOutcome], local: bool) -> None:
    """Raise :class:`VerdictFailed` naming every pitfall or fix that failed (the lab notebook's last cell)."""
    found = problems(entries(outcomes, fixes), local)
    if found:
        raise VerdictFailed("Pitfalls lab FAIL: " + "; ".join(found))


def verdict_line(outcomes: list[Outcome], fixes: list[FixOutcome], local: bool) -> str:
    """One sentence: PASS, or FAIL naming what failed."""
    found = problems(entries(outcomes, fixes), local)
    if found:
        return "FAIL: " + "; ".join(found)
    hidden = sorted({d for e in entries(outcomes, fixes) if (d := _named_deviation(e))})
    extra = f" (where the local target cannot show it, the documented deviation is named: {', '.join(hidden)})"
    return (f"PASS: {len(outcomes)} pitfalls reproduced and fixed, {len(fixes)} path fixes verified"
            + (extra if hidden else "") + ".")
