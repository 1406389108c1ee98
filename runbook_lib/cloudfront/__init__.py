"""The CloudFront forwarding model: pure Python, no AWS SDK, no network.

What a distribution does with a request (``simulate``), what AWS would reject or what breaks an API
behind it (``diagnose``), and the fixes as JSON patches. Every rule cites the AWS page it comes from.
"""

from __future__ import annotations

__all__: list[str] = []
