"""Notebook parameters: declared once per notebook, checked in the first cell after the parameters.

papermill only warns about a parameter the notebook does not declare (its issue 818); a runbook
refuses it, and refuses a bad value, with the valid choices in the message.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runbook_lib.aws.presets import PRESETS
from runbook_lib.aws.target import TARGETS
from runbook_lib.errors import ParameterError
from runbook_lib.runbook.explain import check_request
from runbook_lib.runbook.requirements import parse as parse_requirements

_STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{2,29}$")
_IPYTHON_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}


@dataclass(frozen=True)
class Param:
    help: str
    check: Callable[[Any], str | None] = lambda v: None


def _choice(options: tuple[str, ...] | list[str]) -> Callable[[Any], str | None]:
    return lambda v: None if v in options else f"Valid choices: {', '.join(options)}."


def _stack_name(v: Any) -> str | None:
    if isinstance(v, str) and _STACK_NAME.match(v):
        return None
    return "Use 3-30 characters: lower-case letters, digits and '-', starting with a letter (it names a bucket)."


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
        "request": Param("a request to follow through CloudFront: METHOD /path?query", check_request),
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
    given = {
        k: v for k, v in namespace.items()
        if not k.startswith("_") and k not in _IPYTHON_NAMES
        and not isinstance(v, types.ModuleType | type | types.FunctionType | types.BuiltinFunctionType)
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
