"""The runbook: probes and verdicts, the pitfalls lab, the explainer, reports and the headless runner."""
