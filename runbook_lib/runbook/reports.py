"""Render an executed notebook (papermill output) to one self-contained HTML report.

The report is meant to be opened from a file or an attachment, offline: code inputs are hidden,
outputs and markdown are kept, a failed run says so at the top, and nothing is fetched at view
time. nbconvert's ``lab`` template loads require.js, MathJax and Mermaid from a CDN; we drop the
first two (no output of ours needs them) and draw diagrams once, at report time, as inline SVG with
the vendored Mermaid in a headless browser (:mod:`runbook_lib.runbook.diagrams`). Without a browser,
the report references one copy of the vendored script written beside it.
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
from runbook_lib.runbook import diagrams, redact, report_tables

__all__ = ["render_html", "table", "write_atomically"]

#: How a parameter whose name says it is a credential (:func:`redact.is_sensitive`) is shown.
_MASK = "***"

# CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks), other 2-byte escapes.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")

# papermill adds markdown cells with this tag around a failure; our own banner replaces them.
# A tqdm progress bar as it finally stands ("probes: 100%|####| 24/24 [00:01<00:00, 14.3it/s]"): not for a report.
_PROGRESS_LINE = re.compile(r"^.*\d{1,3}%\|.*\|\s*\d+/\d+.*$")
_PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"
_INJECTED_TAG = "injected-parameters"

#: The page template (extends nbconvert's lab template), its CSS and the Mermaid renderer: package data.
_TEMPLATE_NAME = "runbook_report.html.j2"
_TEMPLATE_FILE, _CSS_FILE, _RENDERER_FILE = "report.html.j2", "report.css", "mermaid-render.js"
_MERMAID_FILE = "mermaid.min.js"
# nbconvert re-serialises the page with BeautifulSoup, which drops comments: mark with an element.
_SCRIPTS_MARKER = '<div id="runbook-report-scripts"></div>'
_FAILED_ANCHOR = "runbook-failed-cell"
_MERMAID_DIV = re.compile(r'<div class="jp-Mermaid">')


def render_html(notebook: Path, html_path: Path, *, title: str | None = None, back_link: str | None = None) -> Path:
    """Render the executed ``notebook`` to one self-contained HTML file at ``html_path``.

    Code inputs are hidden; outputs and markdown are kept, with ANSI escapes and carriage-return
    progress redraws cleaned out of streams and tracebacks. The papermill parameters injected for
    this run are listed at the top, credentials (names :func:`redact.is_sensitive` flags) shown as
    ``***``. A failed run still gets its report, with a banner at the top naming the failing cell
    and exception and linking to it. Mermaid diagrams render offline.

    ``back_link``: the run's page (``index.html``) this report links back to, under its title.

    Returns ``html_path``. Raises :class:`ReportError` if the notebook cannot be read or the report
    cannot be written.
    """
    nb = _read_notebook(Path(notebook))
    failure = _prepare(nb)
    report_title = title if title is not None else Path(notebook).stem
    nb.metadata["title"] = report_title
    header = _render_header(nb, report_title, _injected_parameters(nb), failure, back_link)
    body = _export(nb, Path(notebook), report_title, header, failure)
    html_path = Path(html_path)
    write_atomically(html_path, _with_diagrams(body, html_path.parent))
    return html_path


def _with_diagrams(body: str, folder: Path) -> str:
    """Diagrams drawn as inline SVG when a browser is at hand; else Mermaid's script, one copy per folder."""
    head, sep, tail = body.rpartition(_SCRIPTS_MARKER)
    if not sep or not _MERMAID_DIV.search(body):
        return head + tail if sep else body
    drawn = diagrams.inline_svgs(head + _mermaid_scripts() + tail)
    if drawn is not None:
        return drawn
    shared = folder / _MERMAID_FILE
    if not shared.exists() or shared.stat().st_size != len(_asset(_MERMAID_FILE).encode()):
        write_atomically(shared, _asset(_MERMAID_FILE))
    renderer = '<script type="text/javascript">\n' + _asset(_RENDERER_FILE) + "</script>\n"
    return head + f'<script type="text/javascript" src="{_MERMAID_FILE}"></script>\n' + renderer + tail


def _prepare(nb: nbformat.NotebookNode) -> _Failure | None:
    """Drop papermill's error cells, clean every output, and mark the failed cell (returned)."""
    nb.cells = [c for c in nb.cells if _PAPERMILL_ERROR_TAG not in _tags(c)]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = _clean_outputs(cell.get("outputs", []))
    failure = _find_failure(nb)
    if failure is not None:
        nb.cells[failure.index].metadata["runbook_report"] = {"failed": True}
    return failure


def _export(nb: nbformat.NotebookNode, notebook: Path, title: str, header: str, failure: _Failure | None) -> str:
    """nbconvert's lab template with ours on top: inputs hidden, images embedded."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        template_name="lab",
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _asset(_TEMPLATE_FILE)})],
        template_file=_TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    failed_label = "" if failure is None else html.escape(f" ({failure.ename}: {_first_line(failure.evalue)})")
    report_resources: dict[str, Any] = {
        "metadata": {"name": title, "path": str(notebook.parent)},
        "runbook_report": {"css": _asset(_CSS_FILE), "header": header, "failed_anchor": _FAILED_ANCHOR,
                           "failed_label": failed_label, "scripts_marker": _SCRIPTS_MARKER},
    }
    try:
        body, _ = exporter.from_notebook_node(nb, resources=report_resources)
    except Exception as err:  # nbconvert raises many types (jinja, mistune, traitlets)
        raise ReportError(
            f"nbconvert could not render {notebook} to HTML ({type(err).__name__}: {err}). "
            "Open the notebook in Jupyter to check its outputs, or re-run it with papermill."
        ) from err
    return str(body)


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
    """Merge consecutive chunks of one stream, then clean streams (no ANSI codes, no progress bars),
    tracebacks and DataFrame tables (:func:`report_tables.tidy_html`) for reading."""
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
            text = _collapse_redraws(_strip_ansi(str(output.get("text", ""))))
            output["text"] = "\n".join(line for line in text.split("\n") if not _PROGRESS_LINE.match(line))
        elif "text/html" in output.get("data", {}):
            output["data"]["text/html"] = report_tables.tidy_html(_joined(output["data"]["text/html"]))
    return [o for o in cleaned if o.get("output_type") != "stream" or str(o.get("text", "")).strip()]


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


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
    if redact.is_sensitive(name):
        return _MASK
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _render_header(
    nb: nbformat.NotebookNode,
    title: str,
    parameters: dict[str, Any] | None,
    failure: _Failure | None,
    back_link: str | None = None,
) -> str:
    esc = html.escape
    papermill = nb.metadata.get("papermill", {})
    when = papermill.get("end_time") or papermill.get("start_time")
    status = "failed" if failure is not None else "completed"
    subtitle = f"{esc(title)} &middot; run {status}"
    if when:
        subtitle += f" &middot; {esc(str(when))}"
    parts = ['<header class="runbook-header">', f'<p class="runbook-title">{subtitle}</p>']
    if back_link:
        parts.append(f'<p class="runbook-back"><a href="{esc(back_link)}">&larr; the whole run: '
                     f"{esc(back_link)}</a></p>")

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
        parts.append('<details class="runbook-params">')
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


@functools.lru_cache(maxsize=4)
def _asset(name: str) -> str:
    """A file of runbook_lib/runbook/data/, the package data the report is built from."""
    try:
        return resources.files(__package__).joinpath(f"data/{name}").read_text(encoding="utf-8")
    except (OSError, ModuleNotFoundError) as err:
        raise ReportError(
            f"The report's package data runbook_lib/runbook/data/{name} is missing ({err}). "
            "Reinstall runbook-lib (pip install -e .) so its package data is present."
        ) from err


def _mermaid_scripts() -> str:
    """The vendored Mermaid build and our renderer, as inline <script> elements."""
    js, renderer = _asset(_MERMAID_FILE), _asset(_RENDERER_FILE)
    # Inside <script>, "</script" ends the element early; "<script" after "<!--" changes how the
    # parser looks for the end. Neither occurs in Mermaid's build; refuse a build where one does.
    if re.search(r"</?script", js + renderer, re.IGNORECASE):
        raise ReportError(
            "runbook_lib/runbook/data/mermaid.min.js contains a '<script' or '</script' sequence and cannot "
            "be inlined safely. Re-vendor dist/mermaid.min.js from the mermaid npm package."
        )
    return (
        '<script type="text/javascript">\n' + js + "\n</script>\n"
        '<script type="text/javascript">\n' + renderer + "</script>\n"
    )


def write_atomically(path: Path, text: str) -> None:
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


def table(data: Any) -> Any:
    """Rows (a DataFrame or a list of dicts) as a table for notebooks: :func:`report_tables.table`."""
    return report_tables.table(data)
