"""Which flagged categories warrant a warning, before viewing and before sending.

The SDK words the warning for the child's age band and adds signposting; this decides only
whether there is one, so the evaluation counts exactly the warnings a child would see.
Sending is never blocked: a warning before sending is a pause and a pointer to help.
"""

from __future__ import annotations

from dataclasses import dataclass

from .scanner import MessageScan
from .taxonomy import Participant

ALL = frozenset({"grooming", "self_harm", "bullying", "personal_info"})


@dataclass(frozen=True, slots=True)
class WarningPolicy:
    """Per organisation and band: which categories warn the reader, and the sender."""

    on_viewing: frozenset[str] = frozenset({"grooming", "self_harm", "bullying"})
    before_sending: frozenset[str] = frozenset({"self_harm", "bullying", "personal_info"})

    def on_view(self, scan: MessageScan, viewer: Participant) -> list[str]:
        """Categories to warn a viewer about (adults see no child-facing warnings)."""
        if not viewer.is_minor:
            return []
        return [c for c in scan.categories if c in self.on_viewing]

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
