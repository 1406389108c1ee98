"""Every Mermaid diagram of every notebook draws, as inline SVG in its report (diagrams.inline_svgs)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook

from runbook_lib.runbook import diagrams
from runbook_lib.runbook.reports import render_html

try:
    from tests import browser
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import browser  # type: ignore[no-redef]

_FENCE = re.compile(r"```mermaid\n.*?```", re.DOTALL)


def _diagrams(repo_root: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted((repo_root / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                found += [(path.stem, m.group(0)) for m in _FENCE.finditer(cell.source)]
    return found


def test_every_notebook_diagram_draws_as_svg_without_script(repo_root: Path, tmp_path: Path) -> None:
    browser.chromium()
    found = _diagrams(repo_root)
    assert {name for name, _ in found} >= {"00_explainer", "01_build_origin"}
    nb = new_notebook()
    nb.cells = [new_markdown_cell(f"## {name} #{i}\n\n{fence}") for i, (name, fence) in enumerate(found)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "all.ipynb")
    page = render_html(tmp_path / "all.ipynb", tmp_path / "all.html").read_text(encoding="utf-8")
    body = page[page.index("<body"):]
    errors = re.findall(r'class="runbook-mermaid-error">([^<]*)', body)
    assert errors == [], errors
    assert body.count('<figure class="runbook-mermaid"><svg') == len(found)
    assert "<script" not in page and len(page.encode()) < 1_500_000  # drawn once: no 3.6 MB script


def test_without_a_browser_the_script_is_written_once_beside_the_reports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_BROWSER", "no-such-browser-here")
    assert diagrams.browser() is None
    nb = new_notebook()
    nb.cells = [new_markdown_cell("```mermaid\nflowchart LR\n  A --> B\n```")]
    nbformat.write(nb, tmp_path / "m.ipynb")
    for name in ("m1.html", "m2.html"):
        page = render_html(tmp_path / "m.ipynb", tmp_path / name).read_text(encoding="utf-8")
        assert '<script type="text/javascript" src="mermaid.min.js"></script>' in page
        assert len(page.encode()) < 1_000_000
    assert sorted(p.name for p in tmp_path.glob("*.js")) == ["mermaid.min.js"]
