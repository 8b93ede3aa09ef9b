"""Which flagged categories warrant a warning, before viewing and before sending.

The SDK words the warning for the child's age band and adds signposting; this decides only
whether there is one, so the evaluation counts exactly the warnings a child would see.
Sending is never blocked: a warning before sending is a pause and a pointer to help.

A compliment or a question about school alone is how many honest chats start; warning on it
teaches a child to ignore warnings. So the quieter grooming indicators warn only once the
conversation's risk is raised; secrecy, moving apps, pictures, meetings, gifts and sexual
talk warn at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from .conversation import RiskState
from .scanner import MessageScan
from .taxonomy import Participant, category_of

ALL = frozenset({"grooming", "self_harm", "bullying", "personal_info"})
QUIET = frozenset({"grooming.flattery", "grooming.personal_probe"})


@dataclass(frozen=True, slots=True)
class WarningPolicy:
    """Per organisation and band: which categories warn the reader, and the sender."""

    on_viewing: frozenset[str] = frozenset({"grooming", "self_harm", "bullying"})
    before_sending: frozenset[str] = frozenset({"self_harm", "bullying", "personal_info"})

    def on_view(
        self, scan: MessageScan, viewer: Participant, risk: RiskState | None = None
    ) -> list[str]:
        """Categories to warn a viewer about (adults see no child-facing warnings)."""
        if not viewer.is_minor:
            return []
        raised = risk is not None and risk.level in ("raised", "high")
        loud = [i for i in scan.flagged if i not in QUIET or raised]
        found = []
        for indicator in loud:
            category = category_of(indicator)
            if category in self.on_viewing and category not in found:
                found.append(category)
        return found

    def on_send(
        self, scan: MessageScan, sender: Participant, readers: list[Participant]
    ) -> list[str]:
        """Categories to pause a young sender on. Details given only to trusted adults
        (a guardian, the child's practitioner) need no pause."""
        if not sender.is_minor:
            return []
        found = [c for c in scan.categories if c in self.before_sending]
        if readers and all(r.is_trusted_adult for r in readers):
            found = [c for c in found if c != "personal_info"]
        return found
