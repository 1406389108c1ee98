"""``check ... --junit FILE``: a check result as JUnit XML, the report format CI systems render as tests.

One ``<testsuite>`` per distribution. In it, one ``<testcase>`` per requirement per API behavior
(``classname`` = ``<distribution>/<path pattern>``, ``name`` = the requirement id) and one per error finding
of ``diagnose`` (``name`` = the finding's code). An unmet requirement and an unknown one (unknown is not met)
are ``<failure>`` elements whose ``message`` says what was found and whose text carries the fix; an error
finding likewise. A distribution with no API behavior gets one ``<skipped>`` case saying so, so the suite is
never silently empty. The element and attribute names follow the JUnit XML schema that Jenkins, GitLab and
GitHub test reporters read (testsuites/testsuite/testcase/failure/skipped, with tests/failures/errors/skipped
counts).
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from runbook_lib.runbook.check import CheckResult, DistributionCheck

__all__ = ["to_junit", "write_junit"]

_WORD = {False: "unmet", None: "unknown"}


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", {"classname": classname, "name": name, "time": "0"})


def _fail(case: ET.Element, kind: str, message: str, details: list[str]) -> None:
    failure = ET.SubElement(case, "failure", {"type": kind, "message": message})
    failure.text = "\n".join(line for line in details if line)


def _requirement(suite: ET.Element, classname: str, requirement: dict[str, Any]) -> None:
    case = _case(suite, classname, str(requirement["id"]))
    met = requirement["met"]
    evidence = str(requirement.get("evidence") or "")
    if met is True:
        ET.SubElement(case, "system-out").text = evidence
        return
    word = _WORD[met]
    fix = str(requirement.get("fix") or "")
    doc = str(requirement.get("doc") or "")
    _fail(case, word, f"{requirement['id']} {word}: {evidence}",
          [f"requirement {requirement['id']} is {word}", f"why: {evidence}", f"fix: {fix}" if fix else "",
           f"AWS page: {doc}" if doc else ""])


def _finding(suite: ET.Element, distribution: str, finding: dict[str, Any]) -> None:
    case = _case(suite, f"{distribution}/{finding.get('behavior') or '*'}", str(finding["code"]))
    fix = finding.get("fix") or {}
    description = str(fix.get("description") or "") if isinstance(fix, dict) else str(fix)
    _fail(case, "error-finding", f"{finding['code']}: {finding.get('effect', '')}",
          [f"why: {finding.get('why', '')}", f"fix: {description}" if description else "",
           f"AWS page: {finding.get('doc_url', '')}" if finding.get("doc_url") else ""])


def _suite(root: ET.Element, dist: DistributionCheck, stamp: str) -> None:
    suite = ET.SubElement(root, "testsuite", {"name": f"check {dist.name}", "timestamp": stamp})
    for behavior in dist.behaviors:
        for requirement in behavior.requirements:
            _requirement(suite, f"{dist.name}/{behavior.path_pattern}", requirement)
    for finding in dist.findings:
        if finding.get("severity") == "error":
            _finding(suite, dist.name, finding)
    if not dist.behaviors:
        case = _case(suite, dist.name, "api-behaviors")
        ET.SubElement(case, "skipped", {"message": "no behavior sends requests to an API origin; "
                                                   "name one with --api-origin ID"})
    _count(suite)


def _count(element: ET.Element) -> None:
    cases = list(element.iter("testcase"))
    element.set("tests", str(len(cases)))
    element.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    element.set("errors", "0")
    element.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    element.set("time", "0")


def to_junit(result: CheckResult, now: dt.datetime | None = None) -> str:
    """The JUnit XML document of ``result`` (UTF-8 text with its XML declaration)."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%S")
    root = ET.Element("testsuites", {"name": f"runbook_lib check {result.source}"})
    for dist in result.distributions:
        _suite(root, dist, stamp)
    _count(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(result: CheckResult, path: str | Path) -> Path:
    """Write the JUnit XML of ``result`` to ``path`` (its folder is created); returns the path."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(to_junit(result), encoding="utf-8")
    return file
