"""reports.render_html: executed notebook -> one self-contained HTML report.

Most tests execute small notebooks with papermill and the python3 kernel, as a runbook run would;
a few build outputs by hand where exact bytes matter (ANSI codes, carriage returns). The browser
tests open a report in headless Chromium with all network sent to a closed port, to prove that the
Mermaid diagram renders from the report alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from runbook_lib.errors import ReportError, RunbookError
from runbook_lib.runbook.reports import render_html
from runbook_lib.runbook.run_index import render_index

try:
    from tests import browser
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import browser  # type: ignore[no-redef]

KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
MERMAID_JS = Path(__file__).resolve().parent.parent / "runbook_lib" / "runbook" / "data" / "mermaid.min.js"

# Any way a page could pull code or styles from the network at view time.
EXTERNAL_LOADS = re.compile(
    r"""<script[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|\bimport\s*\(\s*["'](?:https?:)?//"""
    r"""|\bfrom\s*["'](?:https?:)?//"""
    r"""|<link[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|@import\s+(?:url\()?\s*["']?(?:https?:)?//""",
    re.IGNORECASE,
)


def _body(page: str) -> str:
    """The page after <head>: the lab CSS mentions class names and percentages too."""
    return page[page.index("<body") :]


def _write(nb: nbformat.NotebookNode, path: Path) -> Path:
    nb.metadata["kernelspec"] = KERNEL
    nbformat.write(nb, path)
    return path


def _execute(src: Path, out: Path, parameters: dict[str, object]) -> None:
    papermill.execute_notebook(
        str(src),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(src.parent),
    )


def _parameters_cell(source: str) -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


# --- papermill-executed notebooks (module-scoped: each costs a kernel start) --------------------


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, papermill.PapermillExecutionError]:
    """A run that raises in its fourth code cell, as papermill leaves it on disk."""
    d = tmp_path_factory.mktemp("failed")
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("# Probe the distribution"),
        _parameters_cell('region = "us-east-1"\napi_key = ""\nauth_token = ""\n'),
        new_code_cell('print("probing from", region)'),
        new_code_cell(
            "# probe the origin through CloudFront\n"
            'status, red, reset = 502, chr(27) + "[1;" + "31m", chr(27) + "[" + "0m"\n'
            'raise RuntimeError(f"origin answered {status} {red}Bad Gateway{reset}")'
        ),
        new_code_cell('print("never printed")'),
    ]
    src = _write(nb, d / "probe.ipynb")
    out = d / "probe.out.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        _execute(src, out, {"region": "eu-west-1", "api_key": "AKIA-SECRET-4242", "auth_token": "tok-9x"})
    assert out.is_file()
    return out, caught.value


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run with the outputs a runbook shows: a progress bar, a styled DataFrame, text."""
    d = tmp_path_factory.mktemp("good")
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("# Probe results\n\nWhat CloudFront forwarded to the origin."),
        _parameters_cell('stage = "dev"\nclient_secret = ""\n'),
        new_code_cell(
            "import sys, time\n"
            "from tqdm import tqdm\n"
            'for _ in tqdm(range(5), desc="probing", file=sys.stdout, mininterval=0, ascii=True):\n'
            "    time.sleep(0.01)\n"
        ),
        new_code_cell(
            "import pandas as pd\n"
            'df = pd.DataFrame({"path": ["/api/users", "/api/orders"], "status": [200, 403]})\n'
            'df.style.map(lambda v: "color: red" if v == 403 else "", subset=["status"])'
        ),
        new_code_cell('unmistakable_input_line = "QX-INPUT-7731"\nprint("forwarded Host header:", stage)'),
    ]
    src = _write(nb, d / "results.ipynb")
    out = d / "results.out.ipynb"
    _execute(src, out, {"stage": "prod", "client_secret": "s3cr3t-value"})
    return out


def test_failed_run_gets_a_banner_at_the_top_that_links_to_the_failing_cell(
    failed_run: tuple[Path, papermill.PapermillExecutionError], tmp_path: Path
) -> None:
    out, error = failed_run
    page = _body(render_html(out, tmp_path / "report.html").read_text(encoding="utf-8"))

    banner = page.index('class="runbook-banner"')
    assert banner < page.index("jp-Cell"), "the banner must come before any cell"
    banner_html = page[banner : page.index("</section>", banner)]
    assert "RuntimeError" in banner_html
    assert "origin answered 502 Bad Gateway" in banner_html
    assert "# probe the origin through CloudFront" in banner_html  # first line of the failing cell
    assert f"cell {error.cell_index}" in banner_html  # the index papermill reports
    anchor = re.search(r'href="#([^"]+)"', banner_html)
    assert anchor is not None
    target = page.index(f'id="{anchor.group(1)}"')
    assert page.index("Traceback", target) > target  # the anchor sits on the cell with the traceback
    # ANSI colour codes are gone from the traceback and the message, in any spelling.
    assert "\x1b" not in page and "[1;31m" not in page and "[0m" not in page and "[39m" not in page
    assert "ansi-" not in page  # nbconvert would have turned leftover codes into coloured spans
    # papermill's own red banner cells are replaced by ours.
    assert "papermill encountered an exception" not in page


def test_failed_run_lists_injected_parameters_with_secrets_masked(
    failed_run: tuple[Path, papermill.PapermillExecutionError], tmp_path: Path
) -> None:
    out, _ = failed_run
    page = _body(render_html(out, tmp_path / "report.html").read_text(encoding="utf-8"))

    params = page[page.index('class="runbook-params"') :]
    params = params[: params.index("</details>")]
    assert "<th>region</th><td>'eu-west-1'</td>" in params
    assert "<th>api_key</th><td>***</td>" in params
    assert "<th>auth_token</th><td>***</td>" in params
    assert "AKIA-SECRET-4242" not in page and "tok-9x" not in page
    assert page.index('class="runbook-params"') < page.index("jp-Cell")


def test_successful_run_hides_inputs_and_keeps_clean_outputs(good_run: Path, tmp_path: Path) -> None:
    page = _body(render_html(good_run, tmp_path / "report.html").read_text(encoding="utf-8"))

    assert "QX-INPUT-7731" not in page and "unmistakable_input_line" not in page  # input hidden
    assert "import pandas" not in page and "jp-InputArea-editor" not in page
    assert "forwarded Host header: prod" in page  # stdout kept
    assert "Probe results" in page and "<h1" in page  # markdown rendered
    assert "/api/orders" in page and "color: red" in page  # styled DataFrame kept with its style
    assert "runbook-banner" not in page  # no failure
    # A tqdm progress bar is not for a report: neither its redraws nor its final state remain.
    assert "probing" not in page and "\r" not in page
    assert "<th>stage</th><td>'prod'</td>" in page
    assert "<th>client_secret</th><td>***</td>" in page and "s3cr3t-value" not in page
    assert "In&nbsp;[" not in page and "Out[" not in page  # no prompts


# --- hand-built notebooks -----------------------------------------------------------------------


def test_stream_outputs_lose_ansi_codes_and_carriage_return_redraws(tmp_path: Path) -> None:
    nb = new_notebook()
    nb.cells = [
        new_code_cell(
            "x = 1",
            outputs=[
                new_output("stream", name="stderr", text="\x1b[32mstep 1\x1b[0m\r\n"),
                new_output("stream", name="stderr", text="\rupload:  10%|#         |"),
                new_output("stream", name="stderr", text="\rupload: 100%|##########|\n"),
                new_output("stream", name="stdout", text="\x1b]0;xterm-window-name\x07done\n"),
            ],
        )
    ]
    page = _body(
        render_html(_write(nb, tmp_path / "s.ipynb"), tmp_path / "s.html").read_text(encoding="utf-8")
    )
    assert "step 1" in page and "upload: 100%|##########|" in page and "done" in page
    assert "10%" not in page and "\x1b" not in page and "[32m" not in page and "xterm-window-name" not in page
    assert "ansi-" not in page


def test_report_without_mermaid_stays_small_and_loads_nothing(tmp_path: Path) -> None:
    nb = new_notebook()
    nb.cells = [new_markdown_cell("# Plain\n\n```python\nprint('not a diagram')\n```")]
    page = render_html(_write(nb, tmp_path / "p.ipynb"), tmp_path / "p.html").read_text(encoding="utf-8")
    assert len(page) < 1_000_000
    assert "mermaid.initialize" not in page and "<script" not in page
    assert not EXTERNAL_LOADS.search(page), EXTERNAL_LOADS.search(page)
    assert "cdnjs" not in page and "unpkg" not in page


def test_report_with_mermaid_carries_the_drawing_not_the_script_and_loads_nothing(tmp_path: Path) -> None:
    _chromium()
    nb = new_notebook()
    nb.cells = [new_markdown_cell("```mermaid\nflowchart LR\n  A --> B\n```")]
    page = render_html(_write(nb, tmp_path / "m.ipynb"), tmp_path / "m.html").read_text(encoding="utf-8")
    assert MERMAID_JS.read_text(encoding="utf-8")[:2000] not in page and "<script" not in page
    assert re.search(r'<div class="jp-Mermaid"><figure class="runbook-mermaid"><svg', page)
    assert len(page.encode()) < 1_000_000
    assert not EXTERNAL_LOADS.search(page), EXTERNAL_LOADS.search(page)
    assert "cdnjs" not in page


def test_title_and_parameter_values_are_escaped(tmp_path: Path) -> None:
    nb = new_notebook()
    nb.metadata["papermill"] = {"parameters": {"origin": "<b>bold</b>", "Authorization": "Bearer x"}}
    nb.cells = [new_markdown_cell("text")]
    page = render_html(_write(nb, tmp_path / "t.ipynb"), tmp_path / "t.html", title="Run <1>").read_text(
        encoding="utf-8"
    )
    assert "<title>Run &lt;1&gt;</title>" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    assert "<th>Authorization</th><td>***</td>" in page and "Bearer x" not in page


def test_report_folder_is_created_and_path_returned(tmp_path: Path) -> None:
    nb = new_notebook()
    nb.cells = [new_markdown_cell("hello report")]
    target = tmp_path / "reports" / "nested" / "r.html"
    assert render_html(_write(nb, tmp_path / "r.ipynb"), target) == target
    assert "hello report" in target.read_text(encoding="utf-8")
    assert [p.name for p in target.parent.iterdir()] == ["r.html"]  # no temporary file left


def test_missing_notebook_raises_report_error_saying_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"does not exist.*papermill output notebook") as caught:
        render_html(tmp_path / "nope.ipynb", tmp_path / "r.html")
    assert isinstance(caught.value, RunbookError)
    assert not (tmp_path / "r.html").exists()


def test_truncated_notebook_raises_report_error(tmp_path: Path) -> None:
    broken = tmp_path / "cut.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(ReportError, match="not a readable Jupyter notebook.*re-run"):
        render_html(broken, tmp_path / "r.html")


# --- a real browser, with no network ------------------------------------------------------------


# The Chromium helpers live in tests/browser.py, shared with the explainer's test.
_chromium = browser.chromium
_dump_dom = browser.dump_dom


@pytest.mark.parametrize("dead_proxy", [False, True], ids=["direct", "network-blocked"])
def test_mermaid_block_renders_as_svg_in_a_browser_without_network(tmp_path: Path, dead_proxy: bool) -> None:
    _chromium()
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell(
            "## Request path\n\n```mermaid\nflowchart LR\n"
            "  Viewer --> CF[CloudFront] -->|/api/*| APIGW[API Gateway]\n```\n"
        ),
        # nbconvert does not escape diagram source: markup and '&' in labels must survive.
        new_markdown_cell('```mermaid\nflowchart TB\n  O["Origin<br/>stage & path"] --> L[Lambda]\n```'),
        new_markdown_cell("```mermaid\nflowchart LR\n  A -->\n```"),  # does not parse
    ]
    report = render_html(_write(nb, tmp_path / "diagram.ipynb"), tmp_path / "diagram.html")
    dom = _body(_dump_dom(report, tmp_path / "profile", dead_proxy=dead_proxy))

    assert re.search(r'<figure class="runbook-mermaid"><svg[^>]*id="runbook-mermaid-0"', dom), dom[-3000:]
    assert re.search(r'<figure class="runbook-mermaid"><svg[^>]*id="runbook-mermaid-1"', dom), dom[-3000:]
    assert "API Gateway" in dom and "<p>Origin<br>stage &amp; path</p>" in dom
    # The broken diagram keeps its source on the page, with Mermaid's parse error under it.
    assert dom.count('<pre class="mermaid">') == 1
    assert re.search(
        r'class="runbook-mermaid-error">This Mermaid diagram could not be rendered: .*Parse error', dom
    )


# --- the run's index.html (run_index) -------------------------------------------------------------


def test_run_index_links_each_report_and_says_the_verdict(tmp_path: Path) -> None:
    summary = {
        "run": "20261129T050000Z", "target": "local", "ok": False,
        "probes": {"total": 3, "passed": 2, "failed": 1, "deviations": 0},
        "notebooks": [{"name": "02_verify_forwarding", "status": "error", "html": "02_verify_forwarding.html",
                       "error": "RunbookError: <b>query</b> dropped"}],
        "pitfalls": [{"id": "legacy-query-dropped", "symptom_seen": True, "fix_verified": False, "note": "n"}],
    }
    page = render_index(summary, tmp_path).read_text()
    assert (tmp_path / "index.html").is_file()
    assert "<b>FAIL</b> because notebook 02_verify_forwarding errored" in page and "target: <b>local</b>" in page
    assert "3 checks: 2 passed, 1 failed" in page
    assert "<a href='02_verify_forwarding.html'>02_verify_forwarding</a>" in page
    assert "&lt;b&gt;query&lt;/b&gt; dropped" in page  # errors are escaped, never markup
    assert "<td class='nw'>legacy-query-dropped</td><td>✓</td><td class='bad'>✗</td>" in page
    assert not EXTERNAL_LOADS.search(page)
