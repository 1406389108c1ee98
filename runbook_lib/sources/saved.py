"""A saved ``aws cloudfront get-distribution-config`` (with or without the ETag wrapper) or ``get-distribution``."""

from __future__ import annotations

from typing import Any

from runbook_lib.sources.result import DistributionSource

__all__ = ["read_saved", "saved_config", "unwrap"]


def unwrap(data: Any) -> tuple[Any, str | None, str]:
    """What sits inside a saved answer: ``data`` with its ``Distribution`` and ``DistributionConfig`` wrappers taken
    off (each only when present), the distribution ID (``get-distribution`` has one), and where the result was
    (``"Distribution.DistributionConfig"``, ``""`` for a bare config), for messages about its content.

    https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_GetDistributionConfig.html,
    https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_GetDistribution.html
    """
    dist_id, where = None, []
    if isinstance(data, dict) and isinstance(data.get("Distribution"), dict):
        data, where = data["Distribution"], ["Distribution"]
        dist_id = data.get("Id")
    if isinstance(data, dict) and isinstance(data.get("DistributionConfig"), dict):
        data, where = data["DistributionConfig"], [*where, "DistributionConfig"]
    return data, str(dist_id) if dist_id else None, ".".join(where)


def saved_config(data: Any) -> tuple[dict[str, Any], str | None] | None:
    """(DistributionConfig, distribution ID or None) when ``data`` is one of the saved shapes (:func:`unwrap`),
    else None."""
    config, dist_id, _ = unwrap(data)
    if isinstance(config, dict) and "DefaultCacheBehavior" in config and "Origins" in config:
        return config, dist_id
    return None


def read_saved(data: Any, location: str, stem: str) -> list[DistributionSource]:
    """The one distribution of a saved CLI output (policies and functions are not in it: managed ones are known)."""
    found = saved_config(data)
    if found is None:
        return []
    config, dist_id = found
    notes = ["Custom cache/origin request policies and CloudFront Function code are not part of a saved "
             "config; use distribution:<ID> to read them."]
    return [DistributionSource(name=dist_id or stem, kind="saved", location=location, config=config, notes=notes)]
