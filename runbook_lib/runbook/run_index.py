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
from runbook_lib.runbook.share import STYLE, header_html, verdict_html

__all__ = ["render_index"]

#: A path fix has no symptom of its own (``symptom_seen`` null): shown as a dash.
_MARK = {True: "✓", False: "✗"}


def render_index(summary: Mapping[str, Any], run_dir: Path) -> Path:
    """``index.html``: the run at a glance (verdict, checks, pitfalls) with a link to each report."""
    esc = html.escape
    rows = "".join(
        f"<tr><td><a href='{esc(str(nb.get('html') or ''))}'>{esc(nb['name'])}</a></td>"
        f"<td class='{'ok' if nb['status'] == 'ok' else 'bad'}'>{esc(nb['status'])}</td>"
        f"<td>{esc(str(nb.get('error', '')))}</td></tr>"
        for nb in summary.get("notebooks", [])
    )
    pitfalls = "".join(
        f"<tr><td class='nw'>{esc(p['id'])}</td><td>{_MARK.get(p['symptom_seen'], '—')}</td>"
        f"<td class='{'ok' if p['fix_verified'] else 'bad'}'>{'✓' if p['fix_verified'] else '✗'}</td>"
        f"<td>{esc(str(p.get('note', '')))}</td></tr>"
        for p in summary.get("pitfalls", [])
    )
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Runbook run {esc(str(summary.get('run', '')))}</title>
<style>{STYLE}</style></head><body>
<h1>CloudFront → API Gateway runbook</h1>
{header_html(summary, run_dir)}
{verdict_html(summary)}
<p><b><a href="report.html">report.html</a></b>: the whole run in one file to share (verdict, what reaches the
API, pitfalls, every probe).</p>
<h2>Reports</h2><table><tr><th>notebook</th><th>status</th><th>error</th></tr>{rows}</table>
{'<h2>Pitfalls</h2><table><tr><th>pitfall</th><th>symptom seen</th><th>fix verified</th><th>note</th></tr>'
 + pitfalls + '</table>' if pitfalls else ''}
<p>Raw results: <a href="probes.csv">probes.csv</a>, <a href="summary.json">summary.json</a>.</p>
</body></html>"""
    path = run_dir / "index.html"
    write_atomically(path, body)
    return path
