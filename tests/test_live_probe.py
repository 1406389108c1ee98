"""``check distribution:<ID> --probe-live PATH…``: through the distribution and straight to the API, side by side.

On the local AWS against distributions the runbook builds (recommended: both sides answer; allviewer: CloudFront
refuses what the API answers, exit 1), every request watched to be GET or HEAD; on an aws target, the URLs each side
is sent to, with the answers given by a fake HTTP session (nothing leaves the machine).
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from runbook_lib.aws import provision
from runbook_lib.aws.target import Target
from runbook_lib.cli import main
from runbook_lib.errors import ConfigError
from runbook_lib.runbook import live_probe
from runbook_lib.sources import load_source
from tests.stubbing import stubbed_aws

SAVED = Path(__file__).parent / "fixtures" / "sources" / "recommended_get_distribution.json"


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every HTTP request any requests.Session sends during the test: (method, url)."""
    calls: list[tuple[str, str]] = []
    real = requests.Session.request

    def spy(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        calls.append((method.upper(), url))
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    return calls


def _check(target: Target, dist_id: str, *paths: str) -> tuple[int, dict[str, Any], str]:
    argv = ["check", f"distribution:{dist_id}", "--target", "local", "--endpoint-url", target.endpoint_url or "",
            "--api-origin", "api", "--requirements", "query-strings", "--replay", "none",
            "--probe-live", *paths]  # static beside the live probes: the replay is test_check_replay's
    out, text = io.StringIO(), io.StringIO()
    code = main([*argv, "--json"], out)
    main(argv, text)
    [dist] = json.loads(out.getvalue())["distributions"]
    return code, dist, text.getvalue()


def test_recommended_answers_alike_and_allviewer_breaks_on_the_local_aws(
        local_target: Target, sent: list[tuple[str, str]]) -> None:
    stack = provision.build(local_target, "live-probe", preset="recommended", progress=False)
    assert stack.distribution_id and stack.api_id
    code, dist, text = _check(local_target, stack.distribution_id, "/api/items?since=2020-01-01", "HEAD /api/items",
                              "/index.html")
    items, head, site = dist["live_probes"]
    assert code == 0, text
    assert (items["via_cloudfront"]["status"], items["direct"]["status"]) == (200, 200)
    assert items["via_cloudfront"]["served_by"] == items["direct"]["served_by"] == "api"
    # the echo shows what each request carried (CloudFront's Via, its Host): the bodies differ, the statuses not
    assert items["verdict"] == "differs: body" and not items["breaks"]
    assert items["direct"]["url"].endswith(f"/restapis/{stack.api_id}/prod/_user_request_/api/items?since=2020-01-01")
    assert head["method"] == "HEAD" and head["via_cloudfront"]["length"] == head["direct"]["length"] == 0
    # /index.html goes to the site bucket through CloudFront; straight at the API it matches no route
    assert site["behavior"] == "default" and site["via_cloudfront"]["served_by"] == "s3"
    assert site["behavior_origin"] != site["origin_id"] == "api" and "compared with API origin api" in text
    assert site["direct"]["status"] >= 400 and not site["breaks"] and "who answered" in site["verdict"]
    assert "live probes (GET/HEAD only)" in text and "/api/items?since=2020-01-01" in text

    provision.build(local_target, "live-probe", preset="allviewer", progress=False)  # the same distribution, updated
    code, dist, text = _check(local_target, stack.distribution_id, "/api/items")
    [items] = dist["live_probes"]
    assert code == 1 and items["breaks"], text
    assert items["direct"]["status"] == 200 and items["via_cloudfront"]["status"] == 403
    assert "BREAKS   GET /api/items" in text
    loopback = local_target.endpoint_url or ""
    assert sent and all(method in ("GET", "HEAD") and url.startswith(loopback) for method, url in sent), sent


def test_anything_but_get_and_head_is_refused_before_a_request_is_sent(
        local_target: Target, sent: list[tuple[str, str]]) -> None:
    for path in ("POST /api/items", "DELETE /api/items/7", "api/items", "/api/x\r\nX: y"):
        err = io.StringIO()
        with pytest.raises(ConfigError, match="--probe-live"):
            live_probe.parse_path(path)
        argv = ["check", "distribution:E000", "--target", "local", "--endpoint-url", local_target.endpoint_url or "",
                "--probe-live", path]
        assert main(argv, err) == 2
    assert sent == []
    assert live_probe.READ_ONLY == {"GET", "HEAD"}


def test_probe_live_needs_a_distribution_and_not_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(SAVED), "--probe-live", "/api/items"], io.StringIO()) == 2
    assert "--probe-live needs distribution:<ID>" in capsys.readouterr().err
    assert main(["check", "--all", "--target", "local", "--endpoint-url", "http://127.0.0.1:1",
                 "--probe-live", "/api/items"], io.StringIO()) == 2
    assert "not --all" in capsys.readouterr().err


class _FakeHttp:
    """Answers each URL from ``answers`` (prefix → (status, headers, body)); records what was asked."""

    def __init__(self, answers: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
        self.answers, self.asked = answers, []  # type: list[tuple[str, str, dict[str, str]]]

    def request(self, method: str, url: str, headers: dict[str, str], **_: Any) -> requests.Response:
        self.asked.append((method, url, headers))
        status, extra, body = next(v for k, v in self.answers.items() if url.startswith(k))
        response = requests.Response()
        response.status_code, response._content, response.url = status, body, url
        response.headers.update(extra)
        return response


def test_on_aws_the_viewer_side_is_the_distribution_domain_and_the_direct_side_the_api_with_its_origin_path(
        ) -> None:
    [source] = load_source(str(SAVED))
    config = copy.deepcopy(source.config)
    api = next(o for o in config["Origins"]["Items"] if ".execute-api." in o["DomainName"])
    api["CustomHeaders"] = {"Quantity": 1, "Items": [{"HeaderName": "x-api-key", "HeaderValue": "k-secret-1"}]}
    source.config, source.kind, source.name = config, "distribution", "E2LIVE"
    domain = "d111111abcdef8.cloudfront.net"
    refusal = {"x-amzn-errortype": "ForbiddenException", "set-cookie": "s=abc", "content-type": "application/json"}
    http = _FakeHttp({f"https://{domain}": (403, refusal, b'{"message":"Forbidden"}'),
                      f"https://{api['DomainName']}": (200, {"content-type": "application/json"}, b'{"ok":1}')})
    with stubbed_aws("eu-west-1") as stub:
        stub.ok("cloudfront", "GetDistribution", {"Distribution": _distribution(config, domain), "ETag": "E1"},
                {"Id": "E2LIVE"})
        [c] = live_probe.probe_live(stub.target, source, ["/api/items?token=t0ps3cret&x=1"],
                                    http=http)  # type: ignore[arg-type]
        stub.assert_done()
    (m1, via_url, via_headers), (m2, direct_url, direct_headers) = http.asked
    assert (m1, m2) == ("GET", "GET") and via_headers == {}
    assert via_url == f"https://{domain}/api/items?token=t0ps3cret&x=1"
    assert direct_url == f"https://{api['DomainName']}{api['OriginPath']}/api/items?token=t0ps3cret&x=1"
    assert direct_headers == {"x-api-key": "k-secret-1"}  # what CloudFront adds to every request to this origin
    assert c.breaks and c.via_cloudfront.message == "Forbidden" and c.direct.status == 200
    shown = json.dumps(c.to_dict())
    assert "t0ps3cret" not in shown and "s=abc" not in shown and "k-secret-1" not in shown
    assert c.via_cloudfront.headers["x-amzn-errortype"] == "ForbiddenException"


def _distribution(config: dict[str, Any], domain: str) -> dict[str, Any]:
    from tests.stubbing import distribution

    return {**distribution("E2LIVE", config), "DomainName": domain}


def test_a_distribution_without_an_api_origin_is_refused_before_a_request_is_sent(
        sent: list[tuple[str, str]]) -> None:
    [source] = load_source(str(SAVED))
    for origin in source.config["Origins"]["Items"]:
        origin["DomainName"] = "www.example.com"
    with stubbed_aws("eu-west-1") as stub, pytest.raises(ConfigError, match="has no API origin.*--api-origin"):
        live_probe.compare(stub.target, source, "d111111abcdef8.cloudfront.net", ["/api/items"])
    assert sent == []
