"""Render an executed notebook (papermill output) to one self-contained HTML report.

The report is meant to be opened from a file or an attachment, offline: code inputs are hidden,
outputs and markdown are kept, a failed run says so at the top, and nothing is fetched at view
time. nbconvert's ``lab`` template loads require.js, MathJax and Mermaid from a CDN; we drop the
first two (no output of ours needs them) and inline a vendored Mermaid only when the notebook has
a diagram, so reports without one stay small.
"""

from __future__ import annotations

import ast
import functools
import html
import os
import re
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # nbformat pulls in jsonschema (seconds to import): load it only to render
    import nbformat

from runbook_lib.errors import ReportError

__all__ = ["render_html"]

# Parameter names whose values never appear in a report (matched case-insensitively, anywhere).
_SECRET_NAME = re.compile(r"key|secret|token|password|authorization", re.IGNORECASE)
_MASK = "***"

# CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks), other 2-byte escapes.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")

# papermill adds markdown cells with this tag around a failure; our own banner replaces them.
_PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"
_INJECTED_TAG = "injected-parameters"

_TEMPLATE_NAME = "runbook_report.html.j2"
# nbconvert re-serialises the page with BeautifulSoup, which drops comments: mark with an element.
_SCRIPTS_MARKER = '<div id="runbook-report-scripts"></div>'
_FAILED_ANCHOR = "runbook-failed-cell"
_MERMAID_DIV = re.compile(r'<div class="jp-Mermaid">')

# Extends nbconvert's lab template (``index.html.j2`` of the lab template directory).
_TEMPLATE = """\
{%- extends 'index.html.j2' -%}

{#- require.js and jupyter-widgets only serve outputs we do not produce, and load from a CDN. -#}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{#- MathJax would come from a CDN too; without it, TeX in markdown shows as typed. -#}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{#- Mermaid is inlined after rendering, and only when a diagram is present (see reports.py). -#}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}

{%- block extra_css -%}
<style type="text/css">
{{ resources.runbook_report.css }}
</style>
{%- endblock extra_css -%}

{%- block body_header -%}
{{ super() }}
{{ resources.runbook_report.header }}
{%- endblock body_header -%}

{%- block codecell -%}
{%- if cell.metadata.get('runbook_report', {}).get('failed') -%}
<div id="{{ resources.runbook_report.failed_anchor }}" class="runbook-failed-cell">
<p class="runbook-failed-label">This cell failed{{ resources.runbook_report.failed_label }}</p>
{{ super() }}
</div>
{%- else -%}
{{ super() }}
{%- endif -%}
{%- endblock codecell -%}

{%- block body_footer -%}
</main>
{{ resources.runbook_report.scripts_marker }}
</body>
{%- endblock body_footer -%}
"""

_CSS = """\
body.jp-Notebook { background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
.runbook-header { padding: 0 10px; }
.jp-RenderedHTMLCommon { font-size: 15px; line-height: 1.55; }
.jp-OutputArea-output pre { white-space: pre-wrap; word-break: break-word; }
.jp-Cell.jp-mod-noOutputs.jp-mod-noInput { display: none; }
.runbook-header { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #333; margin-bottom: 1rem; }
.runbook-header .runbook-title { font-size: 13px; color: #666; margin: 0 0 .5rem; }
.runbook-banner { border: 2px solid #c62828; background: #fdecea; color: #5f1111;
  border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1rem; }
.runbook-banner h2 { margin: 0 0 .35rem; font-size: 17px; color: #b71c1c; }
.runbook-banner p { margin: .2rem 0; }
.runbook-banner code { background: rgba(0,0,0,.06); padding: 0 .25em; border-radius: 3px; }
.runbook-params { border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem .75rem;
  margin: 0 0 1rem; background: #f6f8fa; }
.runbook-params summary { cursor: pointer; font-weight: 600; }
.runbook-params table { border-collapse: collapse; margin-top: .4rem; }
.runbook-params th, .runbook-params td { text-align: left; padding: .15rem .9rem .15rem 0;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px;
  vertical-align: top; }
.runbook-failed-cell { border-left: 4px solid #c62828; padding-left: .5rem; margin: .5rem 0; }
.runbook-failed-label { color: #b71c1c; font-weight: 600; margin: .25rem 0;
  font-family: system-ui, sans-serif; font-size: 14px; }
.runbook-mermaid { margin: .5rem 0; overflow: auto; }
.runbook-mermaid svg { max-width: 100%; height: auto; }
.runbook-mermaid-error { color: #b71c1c; white-space: pre-wrap; }
"""

# Renders every ``.jp-Mermaid > pre.mermaid`` (what nbconvert emits for a ```mermaid fence or a
# text/vnd.mermaid output) as inline SVG, one at a time: Mermaid's render() is not re-entrant.
# If a diagram does not parse, its source stays visible with the parser's message under it.
_MERMAID_RENDERER = """\
(function () {
  "use strict";
  var blocks = Array.prototype.slice.call(document.querySelectorAll(".jp-Mermaid > pre.mermaid"));
  if (!blocks.length || !window.mermaid) { return; }
  window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default",
                              maxTextSize: 100000 });
  // nbconvert writes the diagram source into <pre> without HTML-escaping it, so a label such as
  // "a<br/>b" arrives as an element: read the markup back rather than only the text.
  function source(pre) {
    return pre.innerHTML.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
      .replace(/&nbsp;/g, " ").replace(/&amp;/g, "&").trim();
  }
  var chain = Promise.resolve();
  blocks.forEach(function (pre, i) {
    chain = chain.then(function () {
      var id = "runbook-mermaid-" + i;
      return window.mermaid.render(id, source(pre)).then(function (result) {
        var figure = document.createElement("figure");
        figure.className = "runbook-mermaid";
        figure.innerHTML = result.svg;
        pre.parentNode.replaceChild(figure, pre);
      }, function (err) {
        var leftover = document.getElementById("d" + id);
        if (leftover) { leftover.remove(); }
        var note = document.createElement("pre");
        note.className = "runbook-mermaid-error";
        note.textContent = "This Mermaid diagram could not be rendered: " + err;
        pre.parentNode.appendChild(note);
      });
    });
  });
})();
"""


def render_html(notebook: Path, html_path: Path, *, title: str | None = None) -> Path:
    """Render the executed ``notebook`` to one self-contained HTML file at ``html_path``.

    Code inputs are hidden; outputs and markdown are kept, with ANSI escapes and carriage-return
    progress redraws cleaned out of streams and tracebacks. The papermill parameters injected for
    this run are listed at the top, secrets (names containing key/secret/token/password/
    authorization) shown as ``***``. A failed run still gets its report, with a banner at the top
    naming the failing cell and exception and linking to it. Mermaid diagrams render offline.

    Returns ``html_path``. Raises :class:`ReportError` if the notebook cannot be read or the report
    cannot be written.
    """
    nb = _read_notebook(Path(notebook))
    html_path = Path(html_path)

    nb.cells = [c for c in nb.cells if _PAPERMILL_ERROR_TAG not in _tags(c)]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = _clean_outputs(cell.get("outputs", []))

    failure = _find_failure(nb)
    if failure is not None:
        nb.cells[failure.index].metadata["runbook_report"] = {"failed": True}
    parameters = _injected_parameters(nb)
    report_title = title if title is not None else Path(notebook).stem
    nb.metadata["title"] = report_title

    header = _render_header(nb, report_title, parameters, failure)
    failed_label = ""
    if failure is not None:
        failed_label = html.escape(f" ({failure.ename}: {_first_line(failure.evalue)})")
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        template_name="lab",
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    report_resources: dict[str, Any] = {
        "metadata": {"name": report_title, "path": str(Path(notebook).parent)},
        "runbook_report": {
            "css": _CSS,
            "header": header,
            "failed_anchor": _FAILED_ANCHOR,
            "failed_label": failed_label,
            "scripts_marker": _SCRIPTS_MARKER,
        },
    }
    try:
        body, _ = exporter.from_notebook_node(nb, resources=report_resources)
    except Exception as err:  # nbconvert raises many types (jinja, mistune, traitlets)
        raise ReportError(
            f"nbconvert could not render {notebook} to HTML ({type(err).__name__}: {err}). "
            "Open the notebook in Jupyter to check its outputs, or re-run it with papermill."
        ) from err

    scripts = _mermaid_scripts() if _MERMAID_DIV.search(body) else ""
    head, sep, tail = body.rpartition(_SCRIPTS_MARKER)
    body = head + scripts + tail if sep else body
    _write_atomically(html_path, body)
    return html_path


class _Failure:
    """Where and how the run failed, as shown in the banner."""

    def __init__(
        self, index: int, cell: Mapping[str, Any], ename: str, evalue: str, *, stopped: bool
    ) -> None:
        self.index = index
        #: papermill stopped the run here, so no later cell ran.
        self.stopped = stopped
        self.source_line = _first_line(str(cell.get("source", "")))
        self.execution_count = cell.get("execution_count")
        self.ename = ename
        self.evalue = evalue


def _read_notebook(path: Path) -> nbformat.NotebookNode:
    if not path.is_file():
        raise ReportError(
            f"Notebook {path} does not exist (or is not a file). Pass the papermill output notebook, "
            "e.g. outputs/<name>.ipynb, and check that the run wrote it."
        )
    try:
        import nbformat

        nb: nbformat.NotebookNode = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
        return nb
    except OSError as err:
        raise ReportError(f"Cannot read notebook {path}: {err}. Check its permissions.") from err
    except Exception as err:  # nbformat: NotJSONError, ValidationError, KeyError on odd JSON
        raise ReportError(
            f"{path} is not a readable Jupyter notebook ({type(err).__name__}: {err}). "
            "Pass the .ipynb that papermill wrote; if it was cut short, re-run the notebook."
        ) from err


def _tags(cell: Mapping[str, Any]) -> list[str]:
    metadata = cell.get("metadata", {})
    tags = metadata.get("tags", []) if isinstance(metadata, Mapping) else []
    return [str(t) for t in tags] if isinstance(tags, list) else []


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _collapse_redraws(text: str) -> str:
    r"""Keep what a terminal would finally show on each line (tqdm redraws with ``\r``)."""
    lines = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if "\r" in line:
            parts = [p for p in line.split("\r") if p.strip()]
            line = parts[-1] if parts else ""
        lines.append(line)
    return "\n".join(lines)


def _clean_outputs(outputs: list[Any]) -> list[Any]:
    """Merge consecutive chunks of one stream, then clean streams and tracebacks for reading."""
    cleaned: list[Any] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            previous = cleaned[-1] if cleaned else None
            if (
                previous is not None
                and previous.get("output_type") == "stream"
                and previous.get("name") == output.get("name")
            ):
                previous["text"] = str(previous.get("text", "")) + str(output.get("text", ""))
                continue
            cleaned.append(output)
        else:
            if kind == "error":
                output["traceback"] = [_strip_ansi(str(line)) for line in output.get("traceback", [])]
                output["evalue"] = _strip_ansi(str(output.get("evalue", "")))
            cleaned.append(output)
    for output in cleaned:
        if output.get("output_type") == "stream":
            output["text"] = _collapse_redraws(_strip_ansi(str(output.get("text", ""))))
    return cleaned


def _find_failure(nb: nbformat.NotebookNode) -> _Failure | None:
    """The cell papermill marked as failed or, without papermill metadata, the first error output."""
    run_failed = bool(nb.metadata.get("papermill", {}).get("exception"))
    marked = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and cell.metadata.get("papermill", {}).get("exception") is True
    ]
    with_error = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and "raises-exception" not in _tags(cell)
        and any(o.get("output_type") == "error" for o in cell.get("outputs", []))
    ]
    if marked:
        index = marked[0]
    elif with_error:
        index = with_error[0]
    elif run_failed:
        # papermill says the run failed but no cell shows it (e.g. the kernel died): point at the
        # first cell that never finished.
        pending = [
            i
            for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and cell.metadata.get("papermill", {}).get("status") != "completed"
        ]
        if not pending:
            return None
        index = pending[0]
    else:
        return None
    cell = nb.cells[index]
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        ename, evalue = str(errors[0].get("ename", "")), str(errors[0].get("evalue", ""))
    else:
        ename, evalue = "Unknown error", "the cell has no error output (did the kernel die?)"
    return _Failure(index, cell, ename, evalue, stopped=run_failed)


def _injected_parameters(nb: nbformat.NotebookNode) -> dict[str, Any] | None:
    """Parameters papermill injected for this run, or None if the notebook was not run by papermill."""
    papermill = nb.metadata.get("papermill")
    recorded = papermill.get("parameters") if isinstance(papermill, Mapping) else None
    if isinstance(recorded, Mapping):
        return dict(recorded)
    injected = [c for c in nb.cells if _INJECTED_TAG in _tags(c)]
    if not injected:
        return None if papermill is None else {}
    # No metadata record (an edited notebook?): read the simple assignments papermill writes.
    found: dict[str, Any] = {}
    for cell in injected:
        try:
            tree = ast.parse(str(cell.source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    try:
                        found[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        found[target.id] = ast.unparse(node.value)
    return found


def _show_value(name: str, value: Any) -> str:
    if _SECRET_NAME.search(name):
        return _MASK
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _render_header(
    nb: nbformat.NotebookNode,
    title: str,
    parameters: dict[str, Any] | None,
    failure: _Failure | None,
) -> str:
    esc = html.escape
    papermill = nb.metadata.get("papermill", {})
    when = papermill.get("end_time") or papermill.get("start_time")
    status = "failed" if failure is not None else "completed"
    subtitle = f"{esc(title)} &middot; run {status}"
    if when:
        subtitle += f" &middot; {esc(str(when))}"
    parts = ['<header class="runbook-header">', f'<p class="runbook-title">{subtitle}</p>']

    if failure is not None:
        where = f"cell {failure.index}"
        if isinstance(failure.execution_count, int):
            where += f" (In [{failure.execution_count}])"
        parts.append('<section class="runbook-banner" role="alert">')
        parts.append("<h2>This run failed</h2>")
        line = f'<p>Failed at <a href="#{_FAILED_ANCHOR}">{esc(where)}</a>'
        if failure.source_line:
            line += f": <code>{esc(failure.source_line)}</code>"
        parts.append(line + "</p>")
        parts.append(
            f"<p><strong>{esc(failure.ename)}</strong>: {esc(_first_line(failure.evalue) or '')}</p>"
        )
        if failure.stopped:
            parts.append(
                "<p>The run stopped there: later cells did not run. The traceback is at the cell.</p>"
            )
        parts.append("</section>")

    if parameters is not None:
        parts.append('<details class="runbook-params" open>')
        parts.append(f"<summary>Parameters ({len(parameters)} injected)</summary>")
        if parameters:
            parts.append("<table>")
            for name in sorted(parameters):
                shown = _show_value(name, parameters[name])
                parts.append(f"<tr><th>{esc(name)}</th><td>{esc(shown)}</td></tr>")
            parts.append("</table>")
        else:
            parts.append("<p>None: the notebook ran with its default parameters.</p>")
        parts.append("</details>")
    parts.append("</header>")
    return "\n".join(parts)


@functools.lru_cache(maxsize=1)
def _mermaid_scripts() -> str:
    """The vendored Mermaid build and our renderer, as inline <script> elements."""
    try:
        js = resources.files(__package__).joinpath("data/mermaid.min.js").read_text(encoding="utf-8")
    except (OSError, ModuleNotFoundError) as err:
        raise ReportError(
            "The vendored Mermaid script runbook_lib/runbook/data/mermaid.min.js is missing "
            f"({err}). Reinstall runbook-lib (pip install -e .) so its package data is present."
        ) from err
    # Inside <script>, "</script" ends the element early; "<script" after "<!--" changes how the
    # parser looks for the end. Neither occurs in Mermaid's build; refuse a build where one does.
    if re.search(r"</?script", js, re.IGNORECASE):
        raise ReportError(
            "runbook_lib/runbook/data/mermaid.min.js contains a '<script' or '</script' sequence and cannot "
            "be inlined safely. Re-vendor dist/mermaid.min.js from the mermaid npm package."
        )
    return (
        '<script type="text/javascript">\n' + js + "\n</script>\n"
        '<script type="text/javascript">\n' + _MERMAID_RENDERER + "</script>\n"
    )


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, so a reader never sees half a report."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o644)  # mkstemp makes it 0600; a report is meant to be shared
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as err:
        raise ReportError(
            f"Cannot write the report to {path}: {err}. Check that the folder is writable "
            "or pass another html_path."
        ) from err


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
        f"<tr><td>{esc(p['id'])}</td><td>{'yes' if p['symptom_seen'] else 'no'}</td>"
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
{probes.get('deviations', 0)} known emulator deviations (never counted as passes).</p>
<h2>Reports</h2><table><tr><th>notebook</th><th>status</th><th>error</th></tr>{rows}</table>
{'<h2>Pitfalls</h2><table><tr><th>pitfall</th><th>symptom seen</th><th>fix verified</th><th>note</th></tr>'
 + pitfalls + '</table>' if pitfalls else ''}
<p>Raw results: <a href="probes.csv">probes.csv</a>, <a href="summary.json">summary.json</a>.</p>
</body></html>"""
    path = run_dir / "index.html"
    _write_atomically(path, body)
    return path


def table(data: Any) -> Any:
    """Rows (a DataFrame or a list of dicts) as a left-aligned table without the index, for notebooks."""
    import pandas as pd

    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
    left = {"text-align": "left", "vertical-align": "top"}
    return (frame.style.hide(axis="index").set_properties(**left)
            .set_table_styles([{"selector": "th", "props": [("text-align", "left")]}]))
