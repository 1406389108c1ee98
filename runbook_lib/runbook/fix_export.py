"""The fix of a plan as infrastructure code (placeholder: the renderers come in the next slice)."""

from __future__ import annotations

from runbook_lib.errors import ConfigError
from runbook_lib.runbook.fix_plan import Plan

__all__ = ["FORMATS", "render"]

FORMATS: tuple[str, ...] = ()


def render(plan: Plan, fmt: str) -> str:
    raise ConfigError(f"fix --export {fmt} of {plan.name}: exports are not built yet; use fix --plan for the patch.")
