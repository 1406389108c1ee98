"""The pitfalls lab's step API: one pitfall as the cells a learner runs one at a time.

:class:`Steps` is the frame (configure → symptom → why → fix → verify); each pitfall in
:mod:`runbook_lib.runbook.pitfalls` fills in its calls, and its one-call form (``PITFALLS[...]``, ``run``) is
:meth:`Steps.run`, the same code, so the two paths return the same :class:`~runbook_lib.runbook.pitfalls.Outcome`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from runbook_lib.runbook import reports

if TYPE_CHECKING:
    from runbook_lib.runbook.pitfalls import Lab, Outcome


def evidence_table(items: list[dict[str, Any]]) -> Any:
    """Probe evidence rows as a notebook table, leaving out the columns no row fills."""
    frame = pd.DataFrame(items).astype(object).fillna("")
    frame = frame.loc[:, [c for c in frame.columns if frame[c].astype(str).str.len().gt(0).any()]]
    return reports.table(frame)


class Markdown(str):
    """Text a notebook renders as Markdown (``_repr_markdown_``); still a plain ``str`` everywhere else."""

    def _repr_markdown_(self) -> str:
        return str(self)


class Steps:
    """One pitfall as the steps a learner runs cell by cell: :meth:`configure` → :meth:`symptom` →
    :meth:`why` → :meth:`fix` → :meth:`verify`. :meth:`run` chains them: the one-call path is this same code.
    A step asked for before the ones it needs runs those first, so no step's evidence is ever assumed."""

    _ORDER = ("configure", "symptom", "fix", "verify")

    def __init__(self, lab: Lab, outcome: Outcome) -> None:
        self.lab, self.outcome = lab, outcome
        #: The steps already run, so a step asked for early runs the ones it needs first.
        self.done: set[str] = set()

    def _after(self, step: str) -> None:
        for earlier in self._ORDER[:self._ORDER.index(step)]:
            if earlier not in self.done:
                getattr(self, earlier)()

    def configure(self) -> str:
        """Set the broken configuration on the target; returns what was configured."""
        self.done.add("configure")
        return self._configure()

    def symptom(self) -> Any:
        """Probe as a user would; returns the evidence table (also kept in ``outcome.before``)."""
        self._after("symptom")
        self._symptom()
        self.done.add("symptom")
        return evidence_table(self.outcome.before)

    def why(self) -> Markdown:
        """The cause and the AWS page that states it (no call to the target)."""
        o = self.outcome
        return Markdown(f"**Symptom**: {o.symptom}\n\n**Why**: {o.cause} ([AWS page]({o.doc_url}))\n\n"
                        f"**Fix**: {o.fix}")

    def fix(self) -> str:
        """Apply the fix on the target; returns what was configured."""
        self._after("fix")
        self.done.add("fix")
        return self._fix()

    def verify(self) -> Outcome:
        """Probe again; returns the pitfall's :class:`Outcome` (the one ``run`` and ``PITFALLS`` return)."""
        self._after("verify")
        self._verify()
        self.done.add("verify")
        return self.outcome

    def run(self) -> Outcome:
        return self.verify()

    def _configure(self) -> str:
        raise NotImplementedError

    def _symptom(self) -> None:
        raise NotImplementedError

    def _fix(self) -> str:
        raise NotImplementedError

    def _verify(self) -> None:
        raise NotImplementedError


__all__ = ["Markdown", "Steps", "evidence_table"]
