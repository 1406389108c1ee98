"""Regenerate runbook_lib/cloudfront/data/enums.json from botocore's CloudFront service model.

The model (runbook_lib.cloudfront) must not import botocore, yet its config checks must use AWS's own
enums, not lists copied by hand. This script copies them once; tests/test_cloudfront_rules.py runs
``build()`` again and compares, so a botocore update that changes an enum fails the tests instead of
drifting silently.

Run: .venv/bin/python tools/cloudfront_enums.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session

__all__ = ["ENUMS", "ERRORS", "OUTPUT", "build", "main", "render"]

OUTPUT = Path(__file__).resolve().parents[1] / "runbook_lib" / "cloudfront" / "data" / "enums.json"

#: The enum shapes the config checks use.
ENUMS = (
    "CachePolicyCookieBehavior",
    "CachePolicyHeaderBehavior",
    "CachePolicyQueryStringBehavior",
    "ItemSelection",
    "Method",
    "OriginProtocolPolicy",
    "OriginRequestPolicyCookieBehavior",
    "OriginRequestPolicyHeaderBehavior",
    "OriginRequestPolicyQueryStringBehavior",
    "ViewerProtocolPolicy",
)

#: The error codes the config checks report, with the HTTP status the service model gives them.
ERRORS = (
    "InconsistentQuantities",
    "InvalidArgument",
    "InvalidDefaultRootObject",
    "InvalidHeadersForS3Origin",
    "NoSuchCachePolicy",
    "NoSuchOrigin",
    "NoSuchOriginRequestPolicy",
)


def build() -> dict[str, Any]:
    """The data file's content, from the installed botocore."""
    model = botocore.session.get_session().get_service_model("cloudfront")
    errors = {shape.name: shape.metadata["error"]["httpStatusCode"] for shape in model.error_shapes}
    return {
        "_source": f"botocore service model cloudfront {model.api_version} (tools/cloudfront_enums.py)",
        "enums": {name: list(model.shape_for(name).enum) for name in ENUMS},
        "errors": {code: errors[code] for code in ERRORS},
    }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def main() -> None:
    OUTPUT.write_text(render(build()), "utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
