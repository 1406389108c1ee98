"""The CloudFront rules, one small function per rule, each with its code, predicate, fix and AWS page.

``config`` holds what AWS rejects in a DistributionConfig (the model's ``config_errors``); ``api`` holds
what breaks an API behind a distribution that AWS accepts (the findings of ``diagnose``).
"""

from __future__ import annotations

__all__: list[str] = []
