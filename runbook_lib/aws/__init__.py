"""The AWS side: where the runbook runs (local MiniStack or an account), and what it builds and removes there."""

__all__: list[str] = []
