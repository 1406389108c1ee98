"""report.html: the run in one self-contained file (share.render_report), and index.html saying the same."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from runbook_lib.runbook import results
from runbook_lib.runbook.run_index import render_index
from runbook_lib.runbook.share import reach_grid, render_report, save_lab

try:
    from tests import browser
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import browser  # type: ignore[no-redef]

# Any way a page could pull code or styles from the network at view time.
EXTERNAL = re.compile(r"""<script|<link[^>]*href\s*=\s*["']?(?:https?:)?//|@import|url\(\s*["']?(?:https?:)?//""", re.I)


def _row(preset: str, probe: str, check: str, expected: str, observed: str, verdict: str = "pass",
         note: str = "") -> dict[str, str]:
    return dict(zip(results.COLUMNS, (preset, probe, check, expected, observed, verdict, note), strict=True))


def _answered(preset: str, probe: str, status: str = "200", by: str = "api") -> list[dict[str, str]]:
    return [_row(preset, probe, "status", status, status), _row(preset, probe, "served_by", by, by)]


def _probes() -> list[dict[str, str]]:
    """Two presets as 02_verify_forwarding records them: recommended forwards, legacy-no-query drops the query."""
    rows: list[dict[str, str]] = []
    rows += _answered("recommended", "query-single") + [_row("recommended", "query-single", "api.query",
                                                              "since=2020-01-01", "since=2020-01-01")]
    rows += _answered("recommended", "header-host") + [_row("recommended", "header-host", "api.header.host",
                                                             "x.execute-api.amazonaws.com", "localhost",
                                                             "deviation", "local-origin-address")]
    rows += _answered("recommended", "method-get") + _answered("recommended", "method-post")
    rows += _answered("legacy-no-query", "query-single") + [_row("legacy-no-query", "query-single", "api.query",
                                                                  "(none)", "(none)")]
    rows += _answered("legacy-no-query", "method-get") + _answered("legacy-no-query", "method-post", "403",
                                                                   "cloudfront")
    rows += _answered("legacy-no-query", "header-host", "403", "cloudfront")
    # A raw CloudFront error page as an observed value: it must show as text, never as markup.
    rows.append(_row("legacy-no-query", "header-host", "response.body", "", "<h1>403 ERROR</h1><script>x()</script>",
                     "fail"))
    return rows


def _run_dir(tmp_path: Path, ok: bool = False) -> tuple[Path, dict[str, object]]:
    with (tmp_path / "probes.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=results.COLUMNS)
        writer.writeheader()
        writer.writerows(_probes())
    (tmp_path / "stack.json").write_text(json.dumps({"name": "cf-apigw-runbook", "distribution_id": "E123ABC",
                                                     "domain_name": "d1.cloudfront.net"}))
    summary: dict[str, object] = {
        "run": "20261129T050000Z", "target": "local", "preset": "recommended", "ok": ok,
        "probes": {"total": 14, "passed": 12, "failed": 1, "deviations": 1, "not_observed": 0},
        "requirements": [
            {"id": "query-strings", "met": True, "evidence": "query-single: arrived unchanged", "fix": ""},
            {"id": "host-is-api", "met": False, "evidence": "header-host: Host: <your CloudFront domain>;",
             "fix": "Use AllViewerExceptHostHeader "
                    "(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
                    "using-managed-origin-request-policies.html)."},
        ],
        "notebooks": [{"name": "02_verify_forwarding", "status": "error", "html": "02_verify_forwarding.html",
                       "error": "VerdictFailed: FAIL"}],
        "pitfalls": [{"id": "legacy-query-dropped", "symptom_seen": True, "fix_verified": True, "note": ""}],
    }
    return tmp_path, summary


def test_grid_reads_what_reached_the_api_from_the_probes() -> None:
    grid = {line["preset"][1]: line for line in reach_grid(_probes())}
    assert list(grid) == ["recommended", "legacy-no-query"]
    assert grid["recommended"]["query strings"] == ("ok", "since=2020-01-01")
    assert grid["legacy-no-query"]["query strings"] == ("bad", "not forwarded")
    assert grid["recommended"]["Host"] == ("warn", "localhost (local-origin-address)")
    assert grid["legacy-no-query"]["Host"] == ("bad", "never reaches the API: 403 from cloudfront")
    assert grid["recommended"]["methods"] == ("ok", "2 of 2 reach the API")
    assert grid["legacy-no-query"]["methods"] == ("warn", "1 of 2 reach the API; refused: POST")
    assert grid["recommended"]["cookie"] == ("none", "not probed")
    assert grid["legacy-no-query"]["as AWS documents"][0] == "bad"


def test_report_opens_with_header_and_verdict_and_escapes_values(tmp_path: Path) -> None:
    run_dir, summary = _run_dir(tmp_path)
    page = render_report(summary, run_dir).read_text(encoding="utf-8")
    body = page[page.index("<body"):]
    assert body.index("FAIL") < body.index("What reaches the API") < body.index("Pitfalls") < body.index("<details")
    for fact in ("2026-11-29 05:00 UTC", "local", "distribution E123ABC (d1.cloudfront.net)", "recommended"):
        assert fact in body.split('class="verdict')[0]
    assert "Host: &lt;your CloudFront domain&gt;;" in page  # escaped, not swallowed as a tag
    assert "&lt;h1&gt;403 ERROR&lt;/h1&gt;" in page and "<h1>403" not in page
    assert '<a href="https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/' in page  # AWS page linked
    assert "✗ UNMET" in page and "✓ met" in page
    assert "nan" not in re.sub(r"<[^>]+>", " ", page).split()
    assert not EXTERNAL.search(page), EXTERNAL.search(page)


def test_index_states_the_same_header_and_verdict_and_links_the_report(tmp_path: Path) -> None:
    run_dir, summary = _run_dir(tmp_path)
    report = render_report(summary, run_dir).read_text(encoding="utf-8")
    index = render_index(summary, run_dir).read_text(encoding="utf-8")
    same = report[report.index('<p class="meta">'):report.index("</table>")]
    assert same in index
    assert '<a href="report.html">' in index


def test_lab_tables_reach_the_report_without_nan(tmp_path: Path) -> None:
    run_dir, summary = _run_dir(tmp_path)
    pitfall = {"pitfall": "legacy-query-dropped", "symptom": "?since never arrives", "cause": "QueryString false",
               "fix": "a cache policy", "symptom seen": True, "fix verified": True, "note": "",
               "AWS doc": "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/x.html"}
    fix = {"fix": "path-fix-api-resource", "what changes": "an /api resource", "status": 200.0,
           "API path": float("nan"), "verified": True}
    json.loads(save_lab([pitfall], [fix], run_dir).read_text())  # valid JSON: no NaN
    page = render_report(summary, run_dir).read_text(encoding="utf-8")
    assert "?since never arrives" in page and "path-fix-api-resource" in page
    assert "<td class=''>200</td>" in page  # an integer, not 200.0
    assert "nan" not in re.sub(r"<[^>]+>", " ", page).split()


@pytest.mark.parametrize("width", [1280])
def test_report_and_index_tables_fit_the_page(tmp_path: Path, width: int) -> None:
    browser.chromium()
    run_dir, summary = _run_dir(tmp_path)
    for page in (render_report(summary, run_dir), render_index(summary, run_dir)):
        measured = browser.table_overflow(page, tmp_path, width=width)
        assert measured["overflowing"] == [], measured
        assert measured["scrollWidth"] == measured["width"], measured


def test_a_failed_run_says_what_failed(tmp_path: Path) -> None:
    _, summary = _run_dir(tmp_path)
    assert summary["ok"] is False
    from runbook_lib.runbook.share import why_failed

    reasons = why_failed(summary)
    assert reasons == ["notebook 02_verify_forwarding errored", "requirement not met: host-is-api",
                       "1 check failed"]
    assert why_failed({**summary, "ok": True}) == []
    page = render_report(summary, tmp_path).read_text(encoding="utf-8")
    assert "<b>FAIL</b> because notebook 02_verify_forwarding errored; requirement not met: host-is-api" in page
