"""Every Mermaid diagram of every notebook renders in JupyterLab, with the Mermaid JupyterLab itself ships.

JupyterLab (≥ 4.1) draws a ```mermaid fence of a Markdown cell with ``@jupyterlab/mermaid``'s ``MermaidManager``
and its bundled Mermaid; a diagram that does not parse shows as a warning box (class ``jp-mod-warning``) with
Mermaid's error. This test loads JupyterLab's own build from the venv (``share/jupyter/lab/static``: its rspack
runtime, then ``@jupyterlab/mermaid`` from the runtime's share scope, exactly the module the Lab page uses) into a
``file://`` page in headless Chromium with the network blocked, and calls ``renderFigure`` on every diagram in one
browser session. Only JupyterLab's application start is held back (it needs a Jupyter server).
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

try:
    from tests import browser
    from tests.test_diagrams import _diagrams
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import browser  # type: ignore[no-redef]
    from test_diagrams import _diagrams  # type: ignore[no-redef]

#: A diagram that does not parse: ``{proxy+}`` inside a ``[...]`` label (issue 12's broken diagram in 01).
BROKEN = ("broken-example", "```mermaid\nflowchart LR\n  A[/api/{proxy+}] --> B[stage prod]\n```")

_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script id="jupyter-config-data" type="application/json">{config}</script>
<script>
// JupyterLab's bootstrap starts the application on window load, which needs a Jupyter server: hold that back,
// keep the rest (its runtime, share scope and chunk loading).
const _add = window.addEventListener.bind(window);
window.addEventListener = (type, fn, opts) => {{ if (type !== 'load') _add(type, fn, opts); }};
</script>
<script src="{main}"></script>
</head><body><pre id="mermaid-report">pending</pre>
<script>
const DIAGRAMS = {diagrams};
(async () => {{
  const report = document.getElementById('mermaid-report');
  try {{
    let require;
    self.{chunks}.push([[Symbol('runbook-probe')], {{}}, r => {{ require = r; }}]);
    await require.I('default');
    const versions = require.S.default['@jupyterlab/mermaid'];
    const version = Object.keys(versions)[0];
    const mod = (await versions[version].get())();
    const manager = new mod.MermaidManager();
    const results = [];
    for (const text of DIAGRAMS) {{
      const figure = await manager.renderFigure(text);
      const details = figure.querySelector('details > pre');
      results.push({{warning: figure.classList.contains(mod.WARNING_CLASS), svg: !!figure.querySelector('img'),
                     error: details ? details.textContent : ''}});
    }}
    report.textContent = JSON.stringify({{lab_mermaid: version, mermaid: manager.getMermaidVersion(), results}});
  }} catch (err) {{
    report.textContent = JSON.stringify({{failed: String(err) + '\\n' + (err.stack || '')}});
  }}
}})();
</script></body></html>
"""


def _static() -> Path:
    static = Path(sys.prefix) / "share" / "jupyter" / "lab" / "static"
    if not (static / "index.html").exists():
        pytest.fail(f"JupyterLab's build is not at {static}: install the project (make venv) so jupyterlab is there")
    return static


def _render_in_jupyterlab(diagrams: list[str], workdir: Path) -> dict[str, Any]:
    """Render ``diagrams`` (Mermaid text) with JupyterLab's MermaidManager, one browser session for all."""
    static = _static()
    index = (static / "index.html").read_text(encoding="utf-8")
    main = re.search(r"/(main\.[0-9a-f]+\.js)", index)
    assert main, "JupyterLab's index.html names no main.<hash>.js"
    runtime = (static / main.group(1)).read_text(encoding="utf-8")
    chunks = re.search(r"self\.((?:rspack|webpack)Chunk\w+)", runtime)
    assert chunks, "JupyterLab's runtime names no chunk array"
    config = {"fullStaticUrl": static.as_uri(), "federated_extensions": []}
    page = workdir / "jupyterlab-mermaid.html"
    page.write_text(_PAGE.format(config=json.dumps(config), main=(static / main.group(1)).as_uri(),
                                 chunks=chunks.group(1), diagrams=json.dumps(diagrams).replace("</", "<\\/")),
                    encoding="utf-8")
    args = [browser.chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
            "--disable-background-networking", "--disable-component-update", f"--user-data-dir={workdir / 'profile'}",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # nothing can be fetched
            "--virtual-time-budget=30000", "--dump-dom", page.as_uri()]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="mermaid-report">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, done.stdout[-2000:]
    report: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    assert "failed" not in report, f"JupyterLab's Mermaid could not be loaded: {report.get('failed')}"
    assert len(report["results"]) == len(diagrams)
    return report


def _failures(named: list[tuple[str, str]], results: list[dict[str, Any]]) -> list[str]:
    """One line per diagram JupyterLab shows as a warning: notebook, diagram number, first line, Mermaid's error."""
    out, seen = [], {}
    for (notebook, fence), result in zip(named, results, strict=True):
        seen[notebook] = seen.get(notebook, 0) + 1
        if result["warning"] or not result["svg"]:
            first = _text(fence).splitlines()[0]
            error = " ".join(result["error"].split())
            out.append(f"{notebook} diagram {seen[notebook]} ({first}): {error or 'no SVG drawn'}")
    return out


def _text(fence: str) -> str:
    """The diagram inside a ```mermaid fence: what JupyterLab's Markdown renderer hands to Mermaid."""
    return fence.removeprefix("```mermaid\n").removesuffix("```").rstrip("\n")


@pytest.fixture(scope="module")
def rendered(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[tuple[str, str]],
                                                                                    dict[str, Any]]:
    """Every notebook diagram and the broken example, rendered in one browser session."""
    named = [*_diagrams(repo_root), BROKEN]
    return named, _render_in_jupyterlab([_text(fence) for _, fence in named], tmp_path_factory.mktemp("lab"))


def test_every_notebook_diagram_renders_in_jupyterlab(
        rendered: tuple[list[tuple[str, str]], dict[str, Any]]) -> None:
    named, report = rendered
    notebooks = named[:-1]
    assert {name for name, _ in notebooks} >= {"00_explainer", "01_build_origin"}
    import jupyterlab

    assert report["lab_mermaid"] == jupyterlab.__version__  # the module the installed Lab page uses
    assert _failures(notebooks, report["results"][:-1]) == []


def test_a_diagram_jupyterlab_cannot_parse_is_named(rendered: tuple[list[tuple[str, str]], dict[str, Any]]) -> None:
    named, report = rendered
    [failure] = _failures(named[-1:], report["results"][-1:])
    assert failure.startswith("broken-example diagram 1 (flowchart LR): ") and "Parse error" in failure, failure
