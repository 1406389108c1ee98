"""The explainer: runbook_lib.runbook.explain against the model's rules, and notebooks/00_explainer.ipynb run for real.

The expected values come from the request that was sent and from the AWS rules the model encodes
(each test names the page), never from the function's own output.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import nbformat
import papermill
import pytest

from runbook_lib import cli
from runbook_lib.aws import presets
from runbook_lib.aws.target import aws_api_origin
from runbook_lib.errors import ParameterError
from runbook_lib.runbook import explain, params, request_line
from runbook_lib.runbook.redact import mask
from runbook_lib.runbook.reports import render_html

try:
    from tests import browser
except ImportError:  # pragma: no cover - tests/ run without a package __init__
    import browser  # type: ignore[no-redef]

DOC = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
TOKEN = explain.EXAMPLE_HEADERS["Authorization"]
QUERY = "since=2020-01-01"
API = aws_api_origin(explain.API_ID, explain.STAGE, explain.REGION)


def _follow(preset: str, line: str, headers: dict[str, str] | None = None) -> dict[str, object]:
    return explain.follow(explain.example_config(preset), line, headers, explain.example_policies(preset))


# --- the library ---------------------------------------------------------------------------------


def test_example_config_reuses_the_build_notebooks_pieces() -> None:
    from runbook_lib.aws import provision

    config = explain.example_config("allviewer")
    assert config["CacheBehaviors"]["Items"] == [
        provision.api_behavior(presets.PRESETS["allviewer"], explain.CUSTOM_POLICY_ID)]
    api = next(o for o in config["Origins"]["Items"] if o["Id"] == "api")
    assert {k: api[k] for k in API} == API and api["OriginPath"] == "/prod"


@pytest.mark.parametrize(("preset", "expected"), [
    # QueryString=false: "None: nothing is forwarded" (DownloadDistValuesCacheBehavior.html, legacy)
    ("legacy-no-query", None),
    # CachingOptimized has no query strings in the key and no ORP (controlling-origin-requests.html)
    ("caching-optimized", None),
    # AllViewerExceptHostHeader forwards all query strings, in the viewer's order (QueryStringParameters.html)
    ("recommended", QUERY),
    ("custom-auth-in-key", QUERY),
])
def test_query_string_at_the_origin(preset: str, expected: str | None) -> None:
    assert _follow(preset, f"GET /api/data?{QUERY}")["query"] == expected


def test_origin_path_is_origin_path_plus_the_full_viewer_path() -> None:
    # DownloadDistValuesOrigin.html#DownloadDistValuesOriginPath: the matched prefix is not stripped.
    f = _follow("recommended", "GET /api/items/42")
    assert f["path"] == API["OriginPath"] + "/api/items/42"


def test_allviewer_forwards_the_viewer_host_and_api_gateway_answers_403() -> None:
    # https://repost.aws/knowledge-center/configure-cloudfront-to-forward-headers
    bad = _follow("allviewer", "GET /api/data")
    good = _follow("recommended", "GET /api/data")
    assert bad["origin_status"] == 403 and bad["headers"]["host"] == request_line.EXAMPLE_DISTRIBUTION_DOMAIN  # type: ignore[index]
    # origin-request-understand-origin-request-policy.html: CloudFront adds Host: <origin domain>
    assert good["origin_status"] is None and good["headers"]["host"] == API["DomainName"]  # type: ignore[index]


@pytest.mark.parametrize(("preset", "line", "arrives"), [
    # Header table, Authorization row (legacy): GET/HEAD removed; DELETE/PATCH/POST/PUT not removed.
    ("legacy-no-query", "GET /api/data", False),
    ("legacy-no-query", "POST /api/items", True),
    # A cache policy with no Authorization and no ORP: not forwarded (http-401-unauthorized.html).
    ("caching-optimized", "GET /api/data", False),
    ("caching-optimized", "POST /api/items", False),
    # In the cache key, or an all-viewer ORP: forwarded on every method.
    ("custom-auth-in-key", "GET /api/data", True),
    ("recommended", "GET /api/data", True),
])
def test_authorization_arrives_masked_or_not_at_all(preset: str, line: str, arrives: bool) -> None:
    headers = _follow(preset, line, {"Authorization": TOKEN})["headers"]
    assert isinstance(headers, dict)
    assert headers.get("authorization") == (mask(TOKEN) if arrives else None)
    assert TOKEN not in str(headers)


def test_user_agent_is_replaced_unless_forwarded() -> None:
    # RequestAndResponseBehaviorCustomOrigin.html#request-custom-user-agent-header
    ua = {"User-Agent": "curl/8.5.0"}
    assert _follow("caching-optimized", "GET /api/x", ua)["headers"]["user-agent"] == "Amazon CloudFront"  # type: ignore[index]
    assert _follow("recommended", "GET /api/x", ua)["headers"]["user-agent"] == "curl/8.5.0"  # type: ignore[index]


@pytest.mark.parametrize(("path", "behavior"), [
    ("/api/data", "/api/*"),
    ("/api/v1/items/42", "/api/*"),  # "*" matches "/" too
    ("/api", "default"),  # "/api/*" needs the slash after "api"
    ("/API/data", "default"),  # case-sensitive
    ("/apidata", "default"),
])
def test_behavior_matching(path: str, behavior: str) -> None:
    # DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern
    table = explain.match_table(explain.example_config(), [path])
    assert table.loc[0, "behavior"] == behavior
    assert table.loc[0, "origin"] == ("api" if behavior == "/api/*" else "site")


def test_compare_presets_has_a_row_per_request_and_preset_and_masks_credentials() -> None:
    table = explain.compare_presets(["GET /api/data?" + QUERY, "GET /api"])
    assert len(table) == 2 * len(presets.PRESETS)
    rows = table.set_index(["request", "preset"])
    assert rows.loc[("GET /api/data?" + QUERY, "recommended"), "Authorization"] == mask(TOKEN)
    assert rows.loc[("GET /api/data?" + QUERY, "caching-optimized"), "Authorization"] == explain.NOT_FORWARDED
    assert rows.loc[("GET /api/data?" + QUERY, "legacy-no-query"), "query"] == explain.NOT_FORWARDED
    assert rows.loc[("GET /api/data?" + QUERY, "recommended"), "query"] == QUERY
    assert rows.loc[("GET /api/data?" + QUERY, "allviewer"), "status"] == 403
    assert set(rows.xs("GET /api", level="request")["behavior"]) == {"default"}
    text = table.to_string()
    assert TOKEN not in text and "session=abc123" not in text


def test_policy_table_shows_the_merge() -> None:
    rows = explain.policy_table().set_index("preset")
    # understanding-how-origin-request-policies-and-cache-policies-work-together.html
    assert rows.loc["recommended", "cache key: query"] == "none"
    assert rows.loc["recommended", "forwarded: query"] == "all"
    assert rows.loc["recommended", "forwarded: headers"] == "all except host"
    assert rows.loc["allviewer", "forwarded: headers"] == "all"
    assert rows.loc["caching-optimized", "forwarded: headers"] == "none"
    assert rows.loc["custom-auth-in-key", "cache key: headers"] == "only authorization"


def test_show_is_readable_and_masks() -> None:
    table = explain.show(explain.example_config(), f"GET /api/data?{QUERY}", explain.EXAMPLE_HEADERS)
    assert table.loc["behavior matched", "value"] == "/api/*"
    assert table.loc["origin: query", "value"] == QUERY
    assert table.loc["origin header: authorization", "value"] == mask(TOKEN)
    assert TOKEN not in table.to_string()


def test_authorization_in_an_orp_follows_the_newest_text_and_says_so() -> None:
    config, policies = explain.auth_in_orp_example()
    f = explain.follow(config, "GET /api/data", {"Authorization": TOKEN}, policies)
    assert f["headers"]["authorization"] == mask(TOKEN)  # type: ignore[index]
    cautions = " ".join(f["cautions"])  # type: ignore[arg-type]
    assert f"{DOC}http-401-unauthorized.html" in cautions
    assert "https://repost.aws/knowledge-center/cloudfront-authorization-header" in cautions


def test_path_fixes_one_broken_four_fixed() -> None:
    rows = explain.path_fix_table("/api/items")
    assert len(rows) == 5
    broken = rows.iloc[0]
    assert broken["CloudFront sends"] == "/prod/api/items"
    assert broken["API Gateway answers"] == '403 {"message":"Missing Authentication Token"}'
    assert all(a.startswith("200") for a in rows["API Gateway answers"].iloc[1:])
    sent = dict(zip(rows["setup"].str[:5], rows["CloudFront sends"], strict=True))
    assert sent == {"broke": "/prod/api/items", "fix 1": "/prod/api/items", "fix 2": "/api/items",
                    "fix 3": "/api/items", "fix 4": "/prod/items"}


@pytest.mark.parametrize("line", ["FETCH /api", "GET api/data", "", "GET /a b"])
def test_bad_request_lines_are_refused_with_an_example(line: str) -> None:
    with pytest.raises(ParameterError, match=r"GET /api/data\?since=2020-01-01|Valid methods|must start"):
        request_line.parse(line)


def test_full_url_sets_scheme_and_host() -> None:
    req = request_line.parse("GET http://example.com/api/x?a=1")
    assert (req["scheme"], req["path"], req["query"], req["headers"]["Host"]) == ("http", "/api/x", "a=1",
                                                                                   "example.com")
    # ViewerProtocolPolicy redirect-to-https: GET over HTTP gets 301 (using-https-viewers-to-cloudfront.html)
    assert explain.follow(explain.example_config(), "GET http://example.com/api/x")["edge_status"] == 301


def test_unknown_preset_lists_the_valid_ones() -> None:
    with pytest.raises(ParameterError, match="Valid choices: " + ", ".join(presets.PRESETS)):
        explain.example_config("nope")


# --- the notebook, executed and rendered ---------------------------------------------------------


NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "00_explainer.ipynb"


def _mermaid_blocks() -> int:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return sum(c.source.count("```mermaid") for c in nb.cells if c.cell_type == "markdown")


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("explainer") / "00_explainer.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(out), parameters={"preset": "allviewer"},
                               kernel_name="python3", progress_bar=False, cwd=str(NOTEBOOK.parent))
    return out


def test_notebook_runs_without_aws(executed: Path) -> None:
    nb = nbformat.read(executed, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not [o for c in code for o in c.outputs if o.get("name") == "stderr"]  # no warnings in the report
    assert nb.metadata["papermill"]["parameters"]["preset"] == "allviewer"
    text = nbformat.writes(nb)
    assert "Missing Authentication Token" in text and "AllViewerExceptHostHeader" in text
    assert TOKEN not in text  # only the masked form is ever shown


def test_every_diagram_renders_as_svg_without_network(executed: Path, tmp_path: Path) -> None:
    expected = _mermaid_blocks()
    assert expected >= 2
    report = render_html(executed, tmp_path / "00_explainer.html")
    assert TOKEN not in report.read_text(encoding="utf-8")
    dom = browser.dump_dom(report, tmp_path / "profile", dead_proxy=True, budget_ms=15000)
    svgs = re.findall(r'<figure class="runbook-mermaid"><svg', dom)
    assert len(svgs) == expected, re.findall(r'class="runbook-mermaid-error">[^<]*', dom)
    assert '<pre class="mermaid">' not in dom  # nothing left unrendered


@pytest.mark.parametrize(("parameters", "message"), [
    ({"preset": "nope"}, "preset='nope' is not valid. Valid choices: " + ", ".join(presets.PRESETS)),
    ({"request": "FETCH /api"}, "request='FETCH /api' is not valid. Method FETCH"),
])
def test_bad_parameter_stops_at_the_first_cell_after_the_parameters(
    parameters: dict[str, str], message: str, tmp_path: Path
) -> None:
    out = tmp_path / "bad.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(str(NOTEBOOK), str(out), parameters=parameters, kernel_name="python3",
                                   progress_bar=False, cwd=str(NOTEBOOK.parent))
    assert caught.value.ename == "ParameterError"
    assert message in caught.value.evalue
    nb = nbformat.read(out, as_version=4)
    code = [c for c in nb.cells
            if c.cell_type == "code" and "papermill-error-cell-tag" not in c.metadata.get("tags", [])]
    tags = [c.metadata.get("tags", []) for c in code]
    first_after = tags.index(["injected-parameters"]) + 1
    failed = [i for i, c in enumerate(code) if any(o.output_type == "error" for o in c.outputs)]
    assert failed == [first_after]
    assert "params.validate" in code[first_after].source


def test_the_cli_and_the_explainer_read_a_request_line_the_same_way(tmp_path: Path) -> None:
    # One parser (runbook/request_line.py) behind explain.follow, the notebook's `request` parameter and the CLI.
    config_file = tmp_path / "dist.json"
    config_file.write_text(json.dumps(explain.example_config("legacy-no-query")))
    for line in ("GET /api/data?since=2020-01-01", "POST /api/items?a=1&a=2", "GET http://example.com/api/x"):
        out = io.StringIO()
        assert cli.main(["simulate", "--config", str(config_file), "--request", line, "--json"], out) == 0
        by_cli = json.loads(out.getvalue())
        by_explainer = explain.follow(explain.example_config("legacy-no-query"), line)
        assert (by_cli["behavior"], by_cli["edge_status"]) == (by_explainer["behavior"], by_explainer["edge_status"])
        sent = by_cli["origin_request"] or {}
        assert (sent.get("path"), sent.get("query")) == (by_explainer["path"], by_explainer["query"])
    assert request_line.check("FETCH /api") == explain_check("FETCH /api")


def explain_check(line: str) -> str | None:
    """What the explainer notebook's parameter check says (params.SPECS), for the comparison above."""
    return params.SPECS["00_explainer"]["request"].check(line)
