"""Tables as a person reads them: no index, verdicts first, HTML escaped, ✓/✗, no nan, integers as integers."""

from __future__ import annotations

import re

import pandas as pd

from runbook_lib.runbook.report_tables import display_value, table, tidy_html, whole_values


def _cells(markup: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>.*?</td>", markup, re.DOTALL)]


def test_values_show_as_read() -> None:
    assert [display_value(v) for v in (True, False, None, float("nan"), 201.0, 2.5, "x")] == \
        ["✓", "✗", "", "", "201", "2.5", "x"]


def test_styled_table_escapes_values_and_puts_verdicts_first() -> None:
    rows = [{"check": "diagnose", "observed": "Host: <your CloudFront domain>;", "status": 201.0,
             "cache_policy_id": float("nan"), "verdict": "pass", "verified": True},
            {"check": "403 page", "observed": "<html><h1>403 ERROR</h1></html>", "status": 403.0,
             "cache_policy_id": "abc", "verdict": "fail", "verified": False}]
    markup = table(rows).to_html()
    headers = re.findall(r'<th[^>]*class="col_heading[^"]*"[^>]*>([^<]*)</th>', markup)
    assert headers[:2] == ["verdict", "verified"]
    assert "Host: &lt;your CloudFront domain&gt;;" in markup and "<h1>" not in markup
    cells = _cells(markup)
    assert "201" in cells and "201.000000" not in markup and "nan" not in cells
    assert "✓" in cells and "✗" in cells and "True" not in cells
    assert 'class="row_heading' not in markup  # no index


def test_plain_dataframe_html_loses_its_default_index_and_junk() -> None:
    frame = pd.DataFrame({"fix": ["a", "b"], "status": [200.0, None], "verified": [True, False]})
    markup = tidy_html(frame.to_html())
    assert "<th>0</th>" not in markup and "<th>1</th>" not in markup
    assert _cells(markup) == ["a", "200", "✓", "b", "", "✗"]
    named = pd.DataFrame({"value": ["GET"]}, index=pd.Index(["viewer request"], name="step")).to_html()
    assert "viewer request" in tidy_html(named)  # a meaningful index stays


def test_aws_pages_in_values_are_links_and_the_rest_stays_text() -> None:
    url = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-401-unauthorized.html"
    markup = table([{"doc": url, "user-agent": 'probe/1.0 (+<a href="x">)'}]).to_html()
    assert f'<a href="{url}">docs.aws.amazon.com/…/http-401-unauthorized.html</a>' in markup
    assert "probe/1.0 (+&lt;a href=&quot;x&quot;&gt;)" in markup


def test_whole_values_stops_pandas_cutting_text() -> None:
    long = "fix 1: add an /api resource (/api/{proxy+}) to the API and redeploy stage prod"
    previous = pd.get_option("display.max_colwidth")
    try:
        pd.set_option("display.max_colwidth", 50)
        assert long not in pd.DataFrame({"fix": [long]})._repr_html_()  # pandas' default cuts it
        whole_values()
        assert long in pd.DataFrame({"fix": [long]})._repr_html_()
    finally:
        pd.set_option("display.max_colwidth", previous)
