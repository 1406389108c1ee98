from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def _mask_in_a_fresh_process(value: str, key: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != redact.KEY_ENV}
    if key is not None:
        env[redact.KEY_ENV] = key
    code = f"from runbook_lib.runbook.redact import mask; print(mask({value!r}))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_a_guess_cannot_be_confirmed_from_a_mask() -> None:
    # The example: an unkeyed sha256[:8] let a report holder confirm 'theme=dark; session=s1'.
    value = "theme=dark; session=s1"
    unkeyed = hashlib.sha256(value.encode()).hexdigest()[:8]
    assert unkeyed not in redact.mask(value)
    a, b = _mask_in_a_fresh_process(value, None), _mask_in_a_fresh_process(value, None)
    assert a != b  # every process (every run) draws its own key


def test_equal_values_get_equal_masks_across_the_notebooks_of_one_run() -> None:
    key = redact.new_run_key()
    first, second = _mask_in_a_fresh_process("Bearer x", key), _mask_in_a_fresh_process("Bearer x", key)
    assert first == second and "Bearer" not in first
    assert _mask_in_a_fresh_process("Bearer x", redact.new_run_key()) != first
    assert redact.is_sensitive(redact.KEY_ENV)  # the key itself is masked wherever a parameter is shown


def test_the_runner_gives_each_run_one_key_and_restores_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runbook_lib.runbook import runner

    seen: list[str] = []
    monkeypatch.setattr(runner, "connect", lambda *a, **k: None)
    monkeypatch.setattr(runner, "_execute_all", lambda *a: seen.append(os.environ[redact.KEY_ENV]))
    monkeypatch.setattr(runner, "_summary", lambda *a: {"ok": True, "probes": {}, "notebooks": []})
    monkeypatch.delenv(redact.KEY_ENV, raising=False)
    runner.run(target="aws", out_root=tmp_path, notebooks=())
    runner.run(target="aws", out_root=tmp_path, notebooks=())
    assert len(seen) == 2 and seen[0] != seen[1] and len(seen[0]) == 64
    assert redact.KEY_ENV not in os.environ
