"""What the scanner looks for, and who is talking to whom.

Categories and indicators are stable names: the corpus labels, the pack rules, the BENCH lines
and what the SDK shows all use them. A conversation's participants carry an identity role and
an age band, because the same words read differently from a stranger adult to a 12-year-old
than between two 15-year-olds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

GROOMING_INDICATORS = (
    "grooming.platform_move",
    "grooming.secrecy",
    "grooming.image_request",
    "grooming.meeting",
    "grooming.gifts",
    "grooming.personal_probe",
    "grooming.sexual",
    "grooming.flattery",
)
CATEGORIES = ("grooming", "self_harm", "bullying", "personal_info")
INDICATORS = (*GROOMING_INDICATORS, "self_harm", "bullying", "personal_info")
BANDS = ("under_13", "13_15", "16_17", "18_plus")
# Roles of adults whom the platform knows in a relationship with the child (checked by
# identity: a linked guardian, a vetted practitioner of the child's organisation, staff).
TRUSTED_ADULT_ROLES = frozenset(
    {"guardian", "practitioner", "moderator", "safeguarding_lead", "org_admin"}
)


def category_of(indicator: str) -> str:
    """`grooming.secrecy` -> `grooming`; a top-level indicator is its own category."""
    return indicator.split(".", 1)[0]


class Relation(Enum):
    """How a message's sender stands to the youngest reader: what direction means."""

    STRANGER_ADULT_TO_MINOR = "stranger_adult_to_minor"
    OLDER_MINOR_TO_CHILD = "older_minor_to_child"  # 16-17 writing to an under-13
    TRUSTED_ADULT_TO_MINOR = "trusted_adult_to_minor"
    # A sender whose minor band nobody attested (it may be an adult saying they are 15).
    UNVERIFIED_TO_MINOR = "unverified_to_minor"
    PEER = "peer"  # minors of near ages, or adults among themselves
    MINOR_TO_ADULT = "minor_to_adult"


@dataclass(frozen=True, slots=True)
class Participant:
    """One person in a conversation, as the device knows them: role, band, and whether the
    age service attested the band (an unattested account counts as the youngest it could
    be, so its band says only what it claims)."""

    role: str
    band: str
    attested: bool = True

    @property
    def is_minor(self) -> bool:
        return self.band != "18_plus"

    @property
    def is_trusted_adult(self) -> bool:
        return not self.is_minor and self.role in TRUSTED_ADULT_ROLES


UNKNOWN = Participant("adult", "18_plus")  # an unknown sender is read as a stranger adult


def relation(sender: Participant, readers: list[Participant]) -> Relation:
    """The sender's standing towards the youngest other participant."""
    if not readers:
        return Relation.PEER
    youngest = min(readers, key=lambda p: BANDS.index(p.band))
    if not youngest.is_minor:
        return Relation.MINOR_TO_ADULT if sender.is_minor else Relation.PEER
    if sender.is_minor and not sender.attested:
        return Relation.UNVERIFIED_TO_MINOR
    if sender.is_minor:
        gap = BANDS.index(sender.band) - BANDS.index(youngest.band)
        return Relation.OLDER_MINOR_TO_CHILD if gap >= 2 else Relation.PEER
    if sender.is_trusted_adult:
        return Relation.TRUSTED_ADULT_TO_MINOR
    return Relation.STRANGER_ADULT_TO_MINOR
