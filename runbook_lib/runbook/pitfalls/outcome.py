"""What one pitfall proved (:class:`Outcome`), the probes the pitfalls send, and the evidence rows they show."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from runbook_lib.runbook import redact
from runbook_lib.runbook.pitfall_steps import evidence_table
from runbook_lib.runbook.probes import ABSENT, Observation, Probe

__all__ = ["AUTH", "AUTH_PROBE", "QUERY", "QUERY_PROBE", "Outcome", "evidence", "validate_request"]

AUTH = "Bearer lab-token-7f3a9c"  # a made-up credential, still masked in every output
QUERY = "since=2020-01-01"

QUERY_PROBE = Probe("query", "GET with a query string", "GET", "/api/data", QUERY,
                    checks=("status", "served_by", "api.query"))
AUTH_PROBE = Probe("authorization", "GET with Authorization", "GET", "/api/data", QUERY,
                   headers=(("Authorization", AUTH),), checks=("status", "served_by", "api.header.authorization"))


@dataclass
class Outcome:
    id: str
    symptom: str
    cause: str
    doc_url: str
    fix: str
    symptom_seen: bool = False
    fix_verified: bool = False
    note: str = ""
    #: Probe evidence before and after the fix, one row per probe, credentials masked.
    before: list[dict[str, Any]] = field(default_factory=list)
    after: list[dict[str, Any]] = field(default_factory=list)

    def _repr_html_(self) -> str:
        """Symptom, cause (with the AWS page), fix, and the probes before and after, for notebooks."""
        def rows(items: list[dict[str, Any]]) -> str:
            return str(evidence_table(items).to_html()) if items else "<p><em>no probe</em></p>"

        seen = "yes" if self.symptom_seen else "not on this target"
        return (
            f"<h3>{html.escape(self.id)}</h3>"
            f"<p><b>Symptom</b> ({seen}): {html.escape(self.symptom)}</p>"
            f"<p><b>Cause</b>: {html.escape(self.cause)} "
            f'(<a href="{html.escape(self.doc_url)}">AWS doc</a>)</p>'
            + (f"<p><b>Note</b>: {html.escape(self.note)}</p>" if self.note else "")
            + f"<p><b>Before the fix</b></p>{rows(self.before)}"
            f"<p><b>Fix</b>: {html.escape(self.fix)} (verified: {'yes' if self.fix_verified else 'NO'})</p>"
            f"{rows(self.after)}"
        )

    def summary(self) -> dict[str, Any]:
        """The entry of ``summary.json``'s ``pitfalls`` list."""
        return {"id": self.id, "kind": "pitfall", "symptom_seen": self.symptom_seen,
                "fix_verified": self.fix_verified, "note": self.note}


def evidence(label: str, obs: Observation) -> dict[str, Any]:
    """What a person sees: status, who answered and how to tell, what the API received."""
    auth = obs.get("api.header.authorization")
    return {
        "configuration": label,
        "request": f"{obs.probe.method} {obs.probe.path}" + (f"?{obs.probe.query}" if obs.probe.query else ""),
        "status": obs.status,
        "answered by": obs.served_by,
        "X-Cache": obs.get("response.x-cache"),
        "Via": obs.get("response.via"),
        "API received query": obs.get("api.query") if obs.served_by == "api" else "",
        "API received Authorization": (redact.mask(auth) if auth != ABSENT else ABSENT)
        if obs.served_by == "api" else "",
        "body (not from the echo)": obs.get("response.body") if obs.served_by != "api" else "",
    }


def validate_request(service: str, operation: str, params: dict[str, Any]) -> str:
    """Check a request against AWS's service model (what botocore's Stubber does); '' when valid."""
    model = botocore.session.get_session().get_service_model(service)
    report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
    return report.generate_report() if report.has_errors() else ""
