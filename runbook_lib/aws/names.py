"""The names the runbook gives what it creates: one place, so the notebooks, CLI, runner and teardown agree."""

from __future__ import annotations

__all__ = ["DEFAULT_STACK", "lab_stack", "paths_stack"]

#: The stack name every notebook and command uses unless told otherwise.
DEFAULT_STACK = "cf-apigw-runbook"


def lab_stack(stack_name: str) -> str:
    """The pitfalls lab's own stack, a child of ``stack_name``."""
    return f"{stack_name}-lab"


def paths_stack(stack_name: str) -> str:
    """The path-fix stack of the pitfalls lab, a child of ``stack_name``."""
    return f"{stack_name}-paths"
