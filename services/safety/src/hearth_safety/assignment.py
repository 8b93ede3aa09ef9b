"""Assignment that rotates moderators and avoids conflicts of interest.

The next case goes to the moderator on shift who was assigned one least recently (never
assigned counts as longest ago), then to whoever holds fewer open cases. Nobody is assigned a
case they are part of (its subject or a reporter), nor one about someone they have a working
relationship with (a practitioner who works with the young person, a guardian, a relative:
whatever the organisation records). Who was passed over, and why, is returned for the case
file. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from .domain import NoEligibleModerator


@dataclass(frozen=True)
class Candidate:
    account_id: str
    open_cases: int = 0
    last_assigned_at: datetime | None = None


@dataclass(frozen=True)
class Choice:
    account_id: str
    passed_over: Mapping[str, str]  # account -> why


def conflict(
    account_id: str, involved: Collection[str], works_with: Mapping[str, Collection[str]]
) -> str | None:
    """Why `account_id` may not work on a case involving `involved`, or None."""
    if account_id in involved:
        return "is part of the case"
    if set(works_with.get(account_id, ())) & set(involved):
        return "has a working relationship with someone in the case"
    return None


def choose_moderator(
    on_shift: Sequence[Candidate],
    involved: Collection[str],
    works_with: Mapping[str, Collection[str]],
) -> Choice:
    """The next moderator in the rotation with no conflict (`NoEligibleModerator` if none:
    the case then goes to the safeguarding lead)."""
    passed_over: dict[str, str] = {}
    eligible: list[Candidate] = []
    for candidate in on_shift:
        why = conflict(candidate.account_id, involved, works_with)
        if why is None:
            eligible.append(candidate)
        else:
            passed_over[candidate.account_id] = why
    if not eligible:
        raise NoEligibleModerator(
            "no moderator on shift can take this case without a conflict of interest"
        )
    chosen = min(
        eligible,
        key=lambda c: (
            c.last_assigned_at is not None,
            c.last_assigned_at or datetime.min,
            c.open_cases,
            c.account_id,
        ),
    )
    return Choice(chosen.account_id, passed_over)
