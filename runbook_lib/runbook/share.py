"""The run's ``report.html``: one self-contained file to send to someone (no network, no JavaScript).

It opens with the verdict (each requirement met or not), then a picture of what reaches the API (one row
per preset probed, one column per thing an API needs), the pitfalls and the path fixes, and the probe
table folded away. :func:`header_html` and :func:`verdict_html` are shared with ``index.html``
(:mod:`runbook_lib.runbook.run_index`), so both pages say the same thing.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runbook_lib.runbook.report_tables import linkify
from runbook_lib.runbook.reports import write_atomically

__all__ = ["REACH_COLUMNS", "STYLE", "header_html", "reach_grid", "render_report", "save_lab",
           "verdict_html", "why_failed"]

#: The picture's columns: what an API behind ``/api/*`` needs, each read from one probe and one check.
REACH_COLUMNS: dict[str, tuple[str, str]] = {
    "query strings": ("query-single", "api.query"),
    "Authorization": ("header-authorization", "api.header.authorization"),
    "custom header": ("header-custom", "api.header.x-runbook-probe"),
    "cookie": ("cookie", "api.header.cookie"),
    "Host": ("header-host", "api.header.host"),
    "path": ("path-deep", "api.path"),
}
_METHOD_PROBES = ("method-get", "method-head", "method-post", "method-put", "method-patch", "method-delete",
                  "method-options")
_NOT_SENT = ("(absent)", "(none)", "")
_MET = {True: "✓ met", False: "✗ UNMET"}

#: The page's styles, shared with index.html: one look for both.
STYLE = """body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1180px;margin:1.5rem auto;
padding:0 1rem;color:#222}h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;margin:1.6rem 0 .5rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0;table-layout:auto}
td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{overflow-wrap:normal;hyphens:none}.nw{white-space:nowrap}
.ok{background:#d4edda}.bad{background:#f8d7da}.warn{background:#fff3cd}.none{background:#e2e3e5}
.verdict{font-size:1.3rem;padding:.6rem 1rem;border-radius:4px;margin:.8rem 0}
.meta{color:#555;margin:.2rem 0}.meta b{color:#222}details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}
.small{font-size:13px}code{background:#f3f3f3;padding:0 .2em;border-radius:3px}"""


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _when(stamp: str) -> str:
    try:
        return dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def header_html(summary: Mapping[str, Any], run_dir: Path) -> str:
    """Date, target, source (the distribution probed) and preset, as a page's opening lines."""
    stack = _read_json(run_dir / "stack.json") or {}
    source = (f"distribution {stack.get('distribution_id')} ({stack.get('domain_name')}), stack {stack.get('name')}"
              if stack.get("distribution_id") else str(summary.get("source") or "no distribution built in this run"))
    items = (("date", _when(str(summary.get("run", "")))), ("target", summary.get("target")),
             ("source", source), ("preset", summary.get("preset")))
    return "".join(f'<p class="meta">{name}: <b>{_esc(value)}</b></p>' for name, value in items)


def why_failed(summary: Mapping[str, Any]) -> list[str]:
    """What made the run FAIL, one phrase each: notebooks that errored, requirements not met, failed checks,
    lab entries not verified ([] for a run that passed)."""
    reasons = [f"notebook {nb['name']} {'errored' if nb.get('status') == 'error' else nb.get('status')}"
               for nb in summary.get("notebooks", []) if nb.get("status") != "ok"]
    needs = summary.get("requirements")
    if needs is not None:
        unmet = [r["id"] for r in needs if r.get("met") is not True]
        reasons += [f"requirement{'s' if len(unmet) > 1 else ''} not met: {', '.join(unmet)}"] if unmet else []
        reasons += [] if needs else ["no requirement decided (verify did not finish)"]
    failed = summary.get("probes", {}).get("failed", 0)
    reasons += [f"{failed} check{'s' if failed > 1 else ''} failed"] if failed else []
    lab = [e["id"] for e in summary.get("pitfalls", []) if not e.get("fix_verified")]
    reasons += [f"lab fix not verified: {', '.join(lab)}"] if lab else []
    if not summary.get("ok") and not reasons:
        reasons.append("see the notebook reports")
    return reasons if not summary.get("ok") else []


def verdict_html(summary: Mapping[str, Any]) -> str:
    """PASS/FAIL in a coloured box, then one line per requirement (green met, red unmet or unknown)."""
    ok = bool(summary.get("ok"))
    p = summary.get("probes", {})
    reasons = why_failed(summary)
    why = f" because {'; '.join(reasons)}." if reasons else ":"
    parts = [f'<p class="verdict {"ok" if ok else "bad"}"><b>{"PASS" if ok else "FAIL"}</b>{_esc(why)} '
             f"{p.get('total', 0)} checks: {p.get('passed', 0)} passed, {p.get('failed', 0)} failed, "
             f"{p.get('deviations', 0)} known emulator deviations (never counted as passes), "
             f"{p.get('not_observed', 0)} not observed.</p>"]
    needs = summary.get("requirements")
    if needs is not None:
        rows = "".join(
            f"<tr class='{'ok' if r['met'] is True else 'bad'}'><td class='nw'>{_MET.get(r['met'], '? unknown')}</td>"
            f"<td class='nw'>{_esc(r['id'])}</td><td>{linkify(str(r.get('evidence', '')))}</td>"
            + (f"<td>{linkify(str(r.get('fix', '')))}</td>" if any(n.get("fix") for n in needs) else "") + "</tr>"
            for r in needs)
        fix_head = "<th>fix</th>" if any(n.get("fix") for n in needs) else ""
        parts.append(f"<table><tr><th>verdict</th><th>requirement</th><th>evidence (probes)</th>{fix_head}</tr>"
                     + (rows or "<tr class='bad'><td colspan=4>none decided: verify did not finish</td></tr>")
                     + "</table>")
    return "\n".join(parts)


def _probe_rows(run_dir: Path) -> list[dict[str, str]]:
    path = run_dir / "probes.csv"
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _cell(rows: list[dict[str, str]], probe: str, check: str) -> tuple[str, str]:
    """(css class, text) for one probe's check: what the API received, or who answered instead."""
    mine = {r["check"]: r for r in rows if r["probe"] == probe}
    if not mine:
        return "none", "not probed"
    served = mine.get("served_by", {}).get("observed", "")
    status = mine.get("status", {}).get("observed", "")
    if served and served != "api":
        return "bad", f"never reaches the API: {status} from {served}"
    row = mine.get(check)
    if row is None:
        return "none", "not probed"
    observed = row["observed"]
    if observed in _NOT_SENT:
        return "bad", "not forwarded"
    css = "warn" if row["verdict"] == "deviation" else "ok" if row["verdict"] == "pass" else "bad"
    note = f" ({row['note']})" if row["verdict"] == "deviation" and row["note"] else ""
    return css, f"{observed}{note}"


def _methods_cell(rows: list[dict[str, str]]) -> tuple[str, str]:
    answered = {r["probe"]: r["observed"] for r in rows if r["check"] == "status" and r["probe"] in _METHOD_PROBES}
    if not answered:
        return "none", "not probed"
    through = [p.split("-", 1)[1].upper() for p, status in answered.items() if status.startswith("2")]
    blocked = [p.split("-", 1)[1].upper() for p, status in answered.items() if not status.startswith("2")]
    css = "ok" if not blocked else "bad" if not through else "warn"
    refused = f"; refused: {', '.join(blocked)}" if blocked else ""
    return css, f"{len(through)} of {len(answered)} reach the API{refused}"


def reach_grid(rows: Iterable[Mapping[str, str]]) -> list[dict[str, tuple[str, str]]]:
    """One row per preset in ``probes.csv``: each column's (css class, text) from the observations."""
    by_preset: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_preset.setdefault(r["preset"], []).append(dict(r))
    grid = []
    for preset, mine in by_preset.items():
        failed = sum(r["verdict"] == "fail" for r in mine)
        line: dict[str, tuple[str, str]] = {
            "preset": ("", preset),
            "as AWS documents": ("bad", f"✗ {failed} failed") if failed else ("ok", f"✓ {len(mine)} checks"),
        }
        for column, (probe, check) in REACH_COLUMNS.items():
            line[column] = _cell(mine, probe, check)
        line["methods"] = _methods_cell(mine)
        grid.append(line)
    return grid


def _grid_html(grid: list[dict[str, tuple[str, str]]]) -> str:
    if not grid:
        return "<p>No probes in this run (02_verify_forwarding did not run or did not finish).</p>"
    columns = list(grid[0])
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td class='{css or 'nw'}'>{_esc(text)}</td>" for css, text in line.values())
                   + "</tr>" for line in grid)
    return (f"<table>{head}{body}</table><p class='small'>Green: arrived as AWS documents it; yellow: arrived, with "
            "a documented emulator deviation; red: not forwarded, or the request never reached the API.</p>")


def _rows_html(rows: Sequence[Mapping[str, Any]], columns: list[str], *, verdict: str = "",
               short: tuple[str, ...] = ()) -> str:
    def cell(col: str, value: Any) -> str:
        if isinstance(value, bool):
            # An unseen symptom is no failure by itself: the note names the deviation that hides it.
            css = "ok" if value else "warn" if col == "symptom seen" else "bad"
            return f"<td class='nw {css}'>{'✓' if value else '✗'}</td>"
        css = {"pass": "ok", "fail": "bad", "deviation": "warn", "not-observed": "none"}.get(str(value), "")
        css = (css if col == verdict else "") + (" nw" if col in short or col == verdict else "")
        return f"<td class='{css.strip()}'>{linkify('' if value is None else str(value))}</td>"
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)
    return f"<table><tr>{head}</tr>" + "".join(
        "<tr>" + "".join(cell(c, r.get(c)) for c in columns) + "</tr>" for r in rows) + "</table>"


def save_lab(pitfall_rows: list[dict[str, Any]], fix_rows: list[dict[str, Any]], folder: str | Path) -> Path:
    """``lab.json``: the pitfalls lab's tables (``pitfalls.table``, ``path_fixes.comparison_table``) for report.html."""
    path = Path(folder) / "lab.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tables = {"pitfalls": [_plain(r) for r in pitfall_rows], "path_fixes": [_plain(r) for r in fix_rows]}
    path.write_text(json.dumps(tables, indent=2, default=str))
    return path


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    """A table row as JSON can hold it: pandas' NaN (a missing value) becomes None, numpy numbers plain ones."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, float) and value != value:  # NaN
            value = None
        elif hasattr(value, "item"):  # a numpy scalar
            value = value.item()
        out[str(key)] = int(value) if isinstance(value, float) and value.is_integer() else value
    return out


def _lab_html(summary: Mapping[str, Any], run_dir: Path) -> str:
    lab = _read_json(run_dir / "lab.json") or {}
    pitfalls = lab.get("pitfalls") or summary.get("pitfalls") or []
    parts = []
    if pitfalls:
        cols = ["fix verified", "symptom seen", "pitfall", "symptom", "cause", "fix", "AWS doc", "note"]
        rows = [{"fix verified": p.get("fix verified", p.get("fix_verified")), "pitfall": p.get("pitfall", p.get("id")),
                 "symptom seen": p.get("symptom seen", p.get("symptom_seen")), **p} for p in pitfalls]
        parts.append("<h2>Pitfalls: symptom, cause, fix, proven live</h2>"
                     + _rows_html(rows, [c for c in cols if any(c in r for r in rows)]))
    fixes = lab.get("path_fixes") or []
    if fixes:
        cols = ["verified", "fix", "what changes", "status", "API path", "cost", "caveats", "deviation", "note"]
        parts.append("<h2>Four ways to map /api/* onto the API</h2>" + _rows_html(fixes, cols, short=("fix",)))
    return "\n".join(parts)


def render_report(summary: Mapping[str, Any], run_dir: Path) -> Path:
    """Write ``report.html`` in ``run_dir`` from ``summary`` and the run's files; returns its path."""
    probe_rows = _probe_rows(run_dir)
    columns = ["verdict", "preset", "probe", "check", "expected", "observed", "note"]
    table = (_rows_html(probe_rows, columns, verdict="verdict", short=("probe", "check")) if probe_rows
             else "<p>No probes in this run.</p>")
    links = "".join(f"<li>{_esc(nb['name'])}: {_esc(nb['status'])}"
                    + (f" ({_esc(nb['error'])})" if nb.get("error") else "") + "</li>"
                    for nb in summary.get("notebooks", []))
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>CloudFront → API Gateway: {"PASS" if summary.get("ok") else "FAIL"} ({_esc(summary.get("run", ""))})</title>
<style>{STYLE}</style></head><body>
<h1>CloudFront → API Gateway: what reaches the API</h1>
{header_html(summary, run_dir)}
{verdict_html(summary)}
<h2>What reaches the API</h2>
{_grid_html(reach_grid(probe_rows))}
{_lab_html(summary, run_dir)}
<details><summary>Every probe check ({len(probe_rows)} rows)</summary>{table}</details>
<h2>Notebooks of this run</h2><ul>{links}</ul>
<p class="small">This file stands alone: the notebook reports beside it (index.html) hold the full narrative.</p>
</body></html>"""
    path = run_dir / "report.html"
    write_atomically(path, body)
    return path
