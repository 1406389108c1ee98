"""Hostile or malformed input ends in one line and exit 2, never a traceback or a forged header.

The hypothesis tests mutate a valid DistributionConfig at random paths (and try wholly random JSON): the
library may only raise ConfigError, the CLI may only exit 0 or 2 with at most one line on stderr.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbook_lib import cli, diagnose, simulate
from runbook_lib.cloudfront import shape
from runbook_lib.errors import ConfigError

try:
    from tests.model_fixtures import behavior, dist, legacy_fv, qi
except ImportError:  # pragma: no cover
    from model_fixtures import behavior, dist, legacy_fv, qi  # type: ignore[no-redef]

_REQUEST = {"method": "GET", "scheme": "https", "path": "/api/data", "query": "a=1",
            "headers": {"Host": "d111111abcdef8.cloudfront.net", "Authorization": "Bearer x"}}


def _base() -> dict[str, Any]:
    return dist(behavior("/api/*"), behavior("/legacy/*", legacy=legacy_fv(headers=["Accept"])))


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    out = io.StringIO()
    code = cli.main(argv, out)
    return code, out.getvalue(), capsys.readouterr().err


def _write(tmp_path: Path, data: Any, name: str = "dist.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


# --- headers and the request line -------------------------------------------------------------------


@pytest.mark.parametrize("header", [
    "X-Evil: a\r\nInjected: yes",  # CRLF in the value: a forged second header
    "X-Evil: a\nInjected: yes",
    "X-Evil: a\x00b",
    "X-Evil: a\x1bb",
    "X Evil: a",  # a space in the name
    "X-Évil: a",  # not a token
    "(X): a",
])
def test_header_injection_and_non_token_names_are_refused(
    header: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _cli(["simulate", "--config", _write(tmp_path, _base()), "--request", "GET /api/x",
                           "-H", header], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Injected: yes\n" not in err


def test_a_tab_in_a_header_value_is_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(["simulate", "--config", _write(tmp_path, _base()), "--request", "GET /api/x",
                         "-H", "X-Ok: a\tb"], capsys)
    assert code == 0 and "behavior:" in out


@pytest.mark.parametrize("request_line", ["GET /api/x\x00", "G(T /api/x", "GET /api/\x7fx"])
def test_control_characters_in_the_request_line_are_refused(
    request_line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(["simulate", "--config", _write(tmp_path, _base()), "--request", request_line], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_the_library_refuses_a_crlf_header_too() -> None:
    request = {**_REQUEST, "headers": {"X-Evil": "a\r\nInjected: yes"}}
    with pytest.raises(ConfigError, match="control character"):
        simulate(_base(), request)


# --- config shapes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("mutate", "path", "expected"), [
    (lambda c: c["CacheBehaviors"]["Items"][0].update(AllowedMethods="GET"),
     "CacheBehaviors.Items[0].AllowedMethods", "an object with Quantity and Items, got a string"),
    (lambda c: c.update(CacheBehaviors="x"), "CacheBehaviors", "an object with Quantity and Items, got a string"),
    (lambda c: c["CacheBehaviors"].update(Items={"a": 1}), "CacheBehaviors.Items", "a list, got an object"),
    (lambda c: c["DefaultCacheBehavior"].update(MaxTTL="1"), "DefaultCacheBehavior.MaxTTL", "a number"),
    (lambda c: c["Origins"]["Items"][0].update(CustomHeaders={"Quantity": 1, "Items": ["x"]}),
     "Origins.Items[0].CustomHeaders.Items[0]", "an object, got a string"),
    (lambda c: c["CacheBehaviors"]["Items"][1]["ForwardedValues"].update(Cookies=[]),
     "CacheBehaviors.Items[1].ForwardedValues.Cookies", "an object, got a list"),
])
def test_a_malformed_shape_is_named_by_its_path(
    mutate: Any, path: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _base()
    mutate(config)
    with pytest.raises(ConfigError) as err:
        simulate(config, _REQUEST)
    assert str(err.value).startswith(f"{path}: expected ") and expected in str(err.value)
    code, _, stderr = _cli(["diagnose", "--config", _write(tmp_path, {"DistributionConfig": config})], capsys)
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert f"DistributionConfig.{path}: expected" in stderr


def test_a_bad_custom_policy_is_named_by_its_path() -> None:
    config = dist(behavior("/api/*", cache="custom-1"))
    policies = {"custom-1": {"CachePolicyConfig": {"Name": "c", "MinTTL": 0, "MaxTTL": 1, "DefaultTTL": 0,
                                                   "ParametersInCacheKeyAndForwardedToOrigin": {
                                                       "HeadersConfig": {"HeaderBehavior": "whitelist",
                                                                         "Headers": "Authorization"}}}}}
    with pytest.raises(ConfigError, match=r"^custom-1\.CachePolicyConfig\.ParametersInCacheKeyAndForwardedToOrigin"
                                          r"\.HeadersConfig\.Headers: expected an object with Quantity and Items"):
        simulate(config, _REQUEST, policies)


def test_deeply_nested_json_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    code, _, err = _cli(["diagnose", "--config", str(path)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and str(path) in err and "nested" in err


def test_a_config_that_is_not_utf8_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(json.dumps({"Comment": "café"}, ensure_ascii=False).encode("latin-1"))
    code, _, err = _cli(["diagnose", "--config", str(path)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and str(path) in err and "UTF-8" in err


# --- quotas -----------------------------------------------------------------------------------------


def test_more_behaviors_than_the_quota_are_warned_about(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # cloudfront-limits.html, "Cache behaviors per distribution": 75 by default.
    assert shape.quota_warnings(dist(*[behavior(f"/p{i}/*") for i in range(75)])) == []
    config = dist(*[behavior(f"/p{i}/*") for i in range(76)])
    warnings = shape.quota_warnings(config)
    assert any("76 behaviors" in w and shape.QUOTAS_URL in w for w in warnings)
    code, out, err = _cli(["simulate", "--config", _write(tmp_path, config), "--request", "GET /p1/x"], capsys)
    assert code == 0 and "76 behaviors" in err and shape.QUOTAS_URL in err


def test_within_quota_no_warning() -> None:
    assert shape.quota_warnings(_base()) == []


def test_a_policy_naming_more_headers_than_the_quota_is_warned_about() -> None:
    names = [f"X-H{i}" for i in range(11)]
    policies = {"custom-1": {"CachePolicyConfig": {"Name": "c", "ParametersInCacheKeyAndForwardedToOrigin": {
        "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": qi(names)}}}}}
    warnings = shape.quota_warnings(dist(behavior("/api/*", cache="custom-1")), policies)
    assert len(warnings) == 1 and "11 headers" in warnings[0] and "custom-1" in warnings[0]


# --- random shapes ----------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*prefix, i))
    return found


def _replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    node[path[0]] = _replace(node[path[0]], path[1:], value)
    return node


@st.composite
def _mutated(draw: st.DrawFn) -> Any:
    config = _base()
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(config)
        config = _replace(config, draw(st.sampled_from(paths)), draw(_JSON))
    return config


def _library_only_config_errors(config: Any) -> None:
    for call in (lambda: simulate(config, _REQUEST), lambda: diagnose(config)):
        try:
            call()
        except ConfigError:
            pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated() | _JSON)
def test_random_shapes_give_only_config_errors_in_the_library(config: Any) -> None:
    _library_only_config_errors(config)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(config=_mutated() | _JSON)
def test_random_shapes_give_exit_0_or_one_line_and_exit_2_in_the_cli(
    config: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, config)
    for argv in (["simulate", "--config", path, "--request", "GET /api/x", "-H", "Authorization: Bearer x"],
                 ["diagnose", "--config", path, "--fail-on", "never"]):
        code, _, err = _cli(argv, capsys)
        assert code in (0, 2), err
        if code == 2:
            assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")


# --- endpoint_url: loopback by resolution, not by spelling -------------------------------------------


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:4566", "http://localhost:4566", "http://[::1]:4566"])
def test_loopback_endpoints_are_accepted(endpoint: str) -> None:
    from runbook_lib.aws.target import connect

    assert connect("local", endpoint_url=endpoint).endpoint_url == endpoint


@pytest.mark.parametrize("endpoint", [
    "http://127.0.0.1.nip.io:4566",  # starts with "127." but is a DNS name: it can resolve anywhere
    "http://127.example.invalid:4566",  # does not resolve at all
    "http://10.0.0.1:4566",
])
def test_endpoints_that_may_leave_the_machine_are_refused(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from runbook_lib.aws import target
    from runbook_lib.errors import ParameterError

    real = socket.getaddrinfo

    def resolver(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "127.0.0.1.nip.io":  # what a public DNS answer may say; no network in tests
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 4566)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.7", 4566))]
        if host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(target.socket, "getaddrinfo", resolver)
    with pytest.raises(ParameterError, match="loopback"):
        target.connect("local", endpoint_url=endpoint)


# --- simulate prints no credential unless asked ------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True])
def test_simulate_masks_authorization_and_cookie_unless_show_secrets(
    as_json: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from runbook_lib.cloudfront.policies import ALL_VIEWER_EXCEPT_HOST_HEADER

    config = _write(tmp_path, dist(behavior("/api/*", orp=ALL_VIEWER_EXCEPT_HOST_HEADER)))
    argv = ["simulate", "--config", config, "--request", "GET /api/x", "-H", "Authorization: Bearer s3cret-tok",
            "-H", "Cookie: session=c00kie-v", *(["--json"] if as_json else [])]
    code, out, _ = _cli(argv, capsys)
    assert code == 0 and "redacted" in out
    assert "s3cret-tok" not in out and "c00kie-v" not in out
    code, out, _ = _cli([*argv, "--show-secrets"], capsys)
    assert code == 0 and "s3cret-tok" in out and "c00kie-v" in out
