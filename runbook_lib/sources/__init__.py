"""Readers of what a user has: a saved config, a CloudFormation/CDK template, a Terraform plan or state,
or ``distribution:<ID>`` on a target. Each gives one :class:`DistributionSource` per distribution.

``load_source(spec, target=None)`` detects the format from the content, not the file name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runbook_lib.errors import SourceError
from runbook_lib.sources.cloudformation import is_template, load_yaml, read_template
from runbook_lib.sources.origins import ApiOrigin, api_origins
from runbook_lib.sources.result import KINDS, DistributionSource
from runbook_lib.sources.saved import read_saved
from runbook_lib.sources.terraform import is_terraform, read_terraform

__all__ = ["ApiOrigin", "DistributionSource", "KINDS", "accepted", "api_origins", "load_source", "parse"]

DISTRIBUTION_PREFIX = "distribution:"


def accepted() -> str:
    """The accepted formats, in one line."""
    return "; ".join(KINDS.values())


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SourceError(f"Cannot read source {path!r} ({err}). Accepted: {accepted()}.") from err


def _parse_text(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return load_yaml(text)
    except Exception as err:  # yaml.YAMLError and its relatives: the content is neither JSON nor YAML
        raise SourceError(f"{path!r} is neither JSON nor YAML. Accepted: {accepted()}.") from err


def parse(data: Any, location: str, stem: str = "distribution") -> list[DistributionSource]:
    """Sources from already-parsed content (what :func:`load_source` does after reading the file)."""
    if is_terraform(data):
        found = read_terraform(data, location)
        what = "Terraform JSON with no aws_cloudfront_distribution"
    elif is_template(data):
        found = read_template(data, location)
        what = "CloudFormation template with no AWS::CloudFront::Distribution"
    else:
        found = read_saved(data, location, stem)
        what = "not a recognised format"
    if not found:
        raise SourceError(f"{location!r}: {what}. Accepted: {accepted()}.")
    return found


def load_source(spec: str, target: Any = None) -> list[DistributionSource]:
    """One source per distribution in ``spec``: a file path, or ``distribution:<ID>`` read from ``target``
    (a :class:`runbook_lib.aws.target.Target`). Raises :class:`SourceError` naming the accepted formats."""
    if spec.startswith(DISTRIBUTION_PREFIX):
        dist_id = spec[len(DISTRIBUTION_PREFIX):].strip()
        if not dist_id or target is None:
            raise SourceError(f"{spec!r} needs a distribution ID and a target (--target local|aws).")
        from runbook_lib.aws.read import read_distribution

        return [read_distribution(target, dist_id)]
    return parse(_parse_text(_read(spec), spec), spec, Path(spec).stem)
