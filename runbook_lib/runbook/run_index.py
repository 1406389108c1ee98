"""The run's ``index.html``: the verdict, the checks and the pitfalls at a glance, linking every notebook report.

The notebook reports themselves are :mod:`runbook_lib.runbook.reports`; this page is what ``make report`` opens
with (``outputs/latest/index.html``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runbook_lib.runbook.reports import write_atomically

__all__ = ["render_index"]


def _requirements(summary: Mapping[str, Any]) -> str:
    """What the main stack's API needs: met, unmet or unknown, with the fix ('' when verify did not run)."""
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(r['id'])}</td><td class='{'ok' if r['met'] is True else 'bad'}'>"
        f"{ {True: 'met', False: 'UNMET', None: 'UNKNOWN'}[r['met']] }</td>"
        f"<td>{esc(str(r.get('evidence', '')))}</td><td>{esc(str(r.get('fix', '')))}</td></tr>"
        for r in summary.get("requirements") or []
    )
    return ("<h2>What the API needs</h2><table><tr><th>requirement</th><th>verdict</th><th>evidence</th>"
            f"<th>fix</th></tr>{rows}</table>") if rows else ""


def render_index(summary: Mapping[str, Any], run_dir: Path) -> Path:
    """``index.html``: the run at a glance (verdict, checks, pitfalls) with a link to each report."""
    esc = html.escape
    ok = bool(summary.get("ok"))
    probes = summary.get("probes", {})
    rows = "".join(
        f"<tr><td><a href='{esc(str(nb.get('html') or ''))}'>{esc(nb['name'])}</a></td>"
        f"<td class='{'ok' if nb['status'] == 'ok' else 'bad'}'>{esc(nb['status'])}</td>"
        f"<td>{esc(str(nb.get('error', '')))}</td></tr>"
        for nb in summary.get("notebooks", [])
    )
    pitfalls = "".join(
        f"<tr><td>{esc(p['id'])}</td><td>{ {True: 'yes', False: 'no', None: '(a fix)'}[p['symptom_seen']] }</td>"
        f"<td class='{'ok' if p['fix_verified'] else 'bad'}'>{'yes' if p['fix_verified'] else 'NO'}</td>"
        f"<td>{esc(str(p.get('note', '')))}</td></tr>"
        for p in summary.get("pitfalls", [])
    )
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Runbook run {esc(str(summary.get('run', '')))}</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse;width:100%;margin:1rem 0}}td,th{{border:1px solid #ccc;padding:.3rem .5rem;
text-align:left;vertical-align:top}}.ok{{background:#d4edda}}.bad{{background:#f8d7da}}
.verdict{{font-size:1.4rem;padding:.6rem 1rem;border-radius:4px}}</style></head><body>
<h1>CloudFront → API Gateway runbook</h1>
<p class="verdict {'ok' if ok else 'bad'}">{'PASS' if ok else 'FAIL'}: target <b>{esc(str(summary.get('target')))}</b>,
{probes.get('total', 0)} checks: {probes.get('passed', 0)} passed, {probes.get('failed', 0)} failed,
{probes.get('deviations', 0)} known emulator deviations, {probes.get('not_observed', 0)} not observed (neither
counted as passes).</p>
{_requirements(summary)}
<h2>Reports</h2><table><tr><th>notebook</th><th>status</th><th>error</th></tr>{rows}</table>
{'<h2>Pitfalls</h2><table><tr><th>pitfall</th><th>symptom seen</th><th>fix verified</th><th>note</th></tr>'
 + pitfalls + '</table>' if pitfalls else ''}
<p>Raw results: <a href="probes.csv">probes.csv</a>, <a href="summary.json">summary.json</a>.</p>
</body></html>"""
    path = run_dir / "index.html"
    write_atomically(path, body)
    return path
