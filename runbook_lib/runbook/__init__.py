"""The runbook: probes and verdicts, the pitfalls lab, the explainer, reports and the headless runner."""

__all__: list[str] = []
