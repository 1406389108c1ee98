"""Notebook parameters: declared once per notebook, checked in the first cell after the parameters.

papermill only warns about a parameter the notebook does not declare (its issue 818); a runbook
refuses it, and refuses a bad value, with the valid choices in the message.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runbook_lib.aws.names import stack_name_problem
from runbook_lib.aws.presets import PRESETS
from runbook_lib.aws.target import TARGETS
from runbook_lib.errors import ParameterError
from runbook_lib.runbook import request_line
from runbook_lib.runbook.check import REPLAYS
from runbook_lib.runbook.requirements import parse as parse_requirements

__all__ = ["SPECS", "Param", "validate"]

_IPYTHON_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}


@dataclass(frozen=True)
class Param:
    help: str
    check: Callable[[Any], str | None] = lambda v: None


def _choice(options: tuple[str, ...] | list[str]) -> Callable[[Any], str | None]:
    return lambda v: None if v in options else f"Valid choices: {', '.join(options)}."


def _stack_name(v: Any) -> str | None:
    return stack_name_problem(v)


def _string(v: Any) -> str | None:
    return None if isinstance(v, str) else "Pass a string."


def _requirements(v: Any) -> str | None:
    if not isinstance(v, str):
        return "Pass a string: comma-separated requirement ids, or a .json/.yaml file listing them."
    try:
        parse_requirements(v)
    except ParameterError as err:
        return str(err)
    return None


_COMMON = {
    "target": Param("where to run: 'local' (embedded MiniStack) or 'aws' (your account)", _choice(TARGETS)),
    "stack_name": Param("names and tags everything the runbook creates", _stack_name),
    "region": Param("AWS region for target='aws' (empty: the profile's or AWS_REGION)", _string),
    "profile": Param("AWS profile for target='aws' (empty: the default credential chain)", _string),
    "endpoint_url": Param("local AWS endpoint (empty: the one `make lab` / `make report` started)", _string),
    "results_dir": Param("folder for CSV/JSON results (empty: do not write files)", _string),
}

SPECS: dict[str, dict[str, Param]] = {
    "00_explainer": {
        "preset": Param("the /api/* settings to explain first", _choice(list(PRESETS))),
        "request": Param("a request to follow through CloudFront: METHOD /path?query", request_line.check),
    },
    "01_build_origin": {**_COMMON, "preset": Param("behavior settings for /api/*", _choice(list(PRESETS)))},
    "02_verify_forwarding": {
        **_COMMON,
        "requirements": Param("what the API needs: comma-separated ids or a .json/.yaml file (empty: the six "
                              "defaults)", _requirements),
    },
    "03_pitfalls_lab": {
        **_COMMON,
        "domain_name": Param("target aws only: a domain you control, for the base path mapping fix", _string),
        "certificate_arn": Param("target aws only: an issued ACM certificate for domain_name", _string),
    },
    "04_your_distribution": {
        **{k: _COMMON[k] for k in ("target", "region", "profile", "endpoint_url", "results_dir")},
        "source": Param("distribution:<ID>, or a saved config, CloudFormation/CDK template or Terraform JSON file "
                        "(empty: the example cdk synth template)", _string),
        "requirements": Param("what the API needs: comma-separated ids or a .json/.yaml file (empty: the six "
                              "defaults)", _requirements),
        "replay": Param("; ".join(f"{k}: {v}" for k, v in REPLAYS.items()), _choice(list(REPLAYS))),
    },
    "05_fix_safely": {
        **_COMMON,
        "source": Param("what to fix: distribution:<ID>, a saved config, a template or a Terraform plan (empty: "
                        "the stack's distribution)", _string),
        "requirements": Param("what the API needs: comma-separated ids or a .json/.yaml file (empty: the six "
                              "defaults)", _requirements),
        "apply": Param("True: apply the plan (backup, change, probes, automatic rollback); False: change nothing",
                       lambda v: None if isinstance(v, bool) else "Pass True or False."),
    },
    "09_teardown": dict(_COMMON),
}


def validate(notebook: str, namespace: dict[str, Any]) -> types.SimpleNamespace:
    """Check the parameters found in ``namespace`` (a notebook's ``globals()``) against its spec.

    Raises :class:`ParameterError` listing every problem and the valid choices; returns the
    parameters as attributes.
    """
    try:
        spec = SPECS[notebook]
    except KeyError:
        raise ParameterError(f"No parameter spec for notebook {notebook!r}; known: {', '.join(SPECS)}.") from None
    assigned = _parameter_cell_names(namespace)
    given = {
        k: v for k, v in namespace.items()
        if not k.startswith("_") and k not in _IPYTHON_NAMES
        and not isinstance(v, types.ModuleType | type | types.FunctionType | types.BuiltinFunctionType)
        and (assigned is None or k in assigned or k in spec)
    }
    problems = [f"unknown parameter {k!r}" for k in given if k not in spec]
    problems += [f"missing parameter {k!r} ({p.help})" for k, p in spec.items() if k not in given]
    for k, p in spec.items():
        if k in given and (why := p.check(given[k])):
            problems.append(f"{k}={given[k]!r} is not valid. {why}")
    if problems:
        valid = "\n".join(f"  {k}: {p.help}" for k, p in spec.items())
        raise ParameterError(
            f"Notebook {notebook}: " + "; ".join(problems) + f".\nIts parameters are:\n{valid}"
        )
    return types.SimpleNamespace(**{k: given[k] for k in spec})


def _parameter_cell_names(namespace: dict[str, Any]) -> set[str] | None:
    """Names assigned by the cells run just before this one, when they hold only assignments.

    In a kernel, ``In`` lists the cells run so far, the current one last. The cells before it that hold
    nothing but assignments are the parameters cell and papermill's injected-parameters cell: their
    names are the parameters given. Every other global (``p``, ``aws``, ``stack`` of an earlier
    "Run All" in the same kernel) is not a parameter. None outside a kernel: then every global counts.
    """
    history = namespace.get("In")
    if not isinstance(history, list) or len(history) < 2:
        return None
    names: set[str] = set()
    for source in reversed(history[:-1]):
        found = _assigned_names(str(source))
        if not found:
            break
        names |= found
    return names


def _assigned_names(source: str) -> set[str]:
    """The names a cell of plain ``name = literal`` lines assigns (as parameters cells are); empty for any other."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else None
        value = getattr(node, "value", None)
        if not targets or not all(isinstance(t, ast.Name) for t in targets) or not _is_literal(value):
            return set()
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _is_literal(node: ast.expr | None) -> bool:
    try:
        ast.literal_eval(node) if node is not None else None
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return node is not None
