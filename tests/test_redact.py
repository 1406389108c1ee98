from __future__ import annotations

from runbook_lib.runbook import redact


def test_mask_hides_the_value_but_equal_values_match() -> None:
    a, b, c = redact.mask("Bearer s3cret-token"), redact.mask("Bearer s3cret-token"), redact.mask("Bearer other")
    assert "s3cret" not in a and "Bearer" not in a
    assert a == b and a != c
    assert "19 chars" in a


def test_sensitive_names() -> None:
    for name in ("Authorization", "api.header.authorization", "Cookie", "x-api-key", "aws_secret_access_key",
                 "access_key_id", "api_key", "auth_token", "client_secret", "db_password", "proxy-authorization"):
        assert redact.is_sensitive(name), name
    for name in ("Accept-Language", "api.query", "status", "User-Agent", "stack_name", "region", "preset",
                 "api.header.x-runbook-probe", "certificate_arn"):
        assert not redact.is_sensitive(name), name


def test_headers_masks_only_credentials() -> None:
    out = redact.headers({"Authorization": "Bearer x", "Cookie": "a=1", "X-Custom": "v"})
    assert out["X-Custom"] == "v"
    assert out["Authorization"] != "Bearer x" and out["Cookie"] != "a=1"
