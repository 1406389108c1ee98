"""Every name the runbook derives fits AWS's rule for its kind, for every stack name the validator accepts
(issue 9, item 3): shortened with a stable hash, never cut."""

from __future__ import annotations

import re

import botocore.session
import pytest

from runbook_lib.aws import provision
from runbook_lib.aws.names import (
    DEFAULT_STACK,
    STACK_NAME_MAX,
    fit,
    lab_stack,
    paths_stack,
    stack_name_problem,
)
from runbook_lib.aws.stack import resource_names
from runbook_lib.aws.target import Target

ACCOUNT = "123456789012"
#: The reproduction: 30 characters, accepted; its lab's bucket name was cut to 63 and ended in "-us-east-".
LONGEST = "abcdefghij" * 3
REGIONS = sorted(botocore.session.get_session().get_available_regions("s3"))

# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html: 3-63 characters, lower-case
# letters, digits, '.' and '-', beginning and ending with a letter or digit.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
#: (kind, longest, pattern), each from the AWS page cited in runbook_lib/aws/names.py.
RULES = {
    "bucket": (63, _BUCKET),
    "function": (64, re.compile(r"^[a-zA-Z0-9-_]+$")),  # API_CreateFunction (Lambda)
    "role": (64, re.compile(r"^[\w+=,.@-]+$")),  # API_CreateRole (IAM)
    "oac": (64, re.compile(r"^.+$")),
    "cache_policy": (128, re.compile(r"^[\w-]+$")),
}


def _stacks() -> list[str]:
    names = [DEFAULT_STACK, "abc", LONGEST, "a" + "-b" * 14 + "c"]
    return [n for base in names for n in (base, lab_stack(base), paths_stack(base))]


@pytest.mark.parametrize("stack", _stacks())
def test_every_derived_name_fits_its_rule_in_every_region(stack: str) -> None:
    for region in REGIONS:
        names = resource_names(stack, ACCOUNT, region)
        for kind, (longest, pattern) in RULES.items():
            assert len(names[kind]) <= longest and pattern.match(names[kind]), (kind, names[kind])
        assert names["bucket"].endswith(f"-site-{ACCOUNT}-{region}")  # what docs/iam-policy.json scopes to


def test_the_reproduction_gives_distinct_valid_bucket_names_per_region() -> None:
    assert stack_name_problem(LONGEST) is None
    buckets = {resource_names(paths_stack(LONGEST), ACCOUNT, r)["bucket"] for r in ("us-east-1", "us-east-2")}
    assert len(buckets) == 2 and all(_BUCKET.match(b) and len(b) <= 63 for b in buckets)
    assert not any(b.endswith("-") for b in buckets)


def test_shortening_is_stable_and_keeps_stacks_apart() -> None:
    a = fit("x" * 60 + "a", "-suffix", 40)
    b = fit("x" * 60 + "b", "-suffix", 40)
    assert a == fit("x" * 60 + "a", "-suffix", 40)  # same input, same name
    assert a != b and len(a) == len(b) == 40 and a.endswith("-suffix")
    assert fit("short", "-suffix", 40) == "short-suffix"  # untouched when it fits
    assert not fit("x" * 20 + "-" + "y" * 40, "-s", 24).startswith("x" * 20 + "--")


@pytest.mark.parametrize(("name", "ok"), [
    ("abc", True), (LONGEST, True), ("a" * (STACK_NAME_MAX + 1), False), ("ab", False), ("abc-", False),
    ("1abc", False), ("Abc", False), ("a_bc", False), ("xn--abc", False), ("sthree-abc", False), ("a--b", False),
])
def test_stack_name_validation(name: str, ok: bool) -> None:
    assert (stack_name_problem(name) is None) is ok


def test_the_longest_stack_name_builds_its_paths_stack_locally(local_target: Target) -> None:
    from runbook_lib.aws import teardown

    stack = provision.build(local_target, paths_stack(LONGEST), progress=False)
    assert stack.bucket and len(stack.bucket) <= 63 and _BUCKET.match(stack.bucket)
    assert teardown.remove(local_target, paths_stack(LONGEST), progress=False)
