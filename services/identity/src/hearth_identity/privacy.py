"""Reading an account and its personal data; house rules, consent, erasure, subject access.

`Privacy` is the layer of the `Identity` application that holds what the data subject may
ask for: their record opened with their subject key, every event that names them, erasure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from google.protobuf.json_format import MessageToDict

from hearth_eventlog import TracedNotification
from hearth_eventlog.published import decode_published
from hearth_proto.hearth.identity.v1 import events_pb2
from hearth_runtime.application import retrying
from hearth_runtime.errors import NotFound, Refused
from hearth_runtime.sessions import Session
from hearth_runtime.subject_keys import SubjectKeys

from .domain import Account
from .follow import AgeFollower

EXPORT_PAGE = 500
# Who reads another account of their organisation (its restrictions with it).
ACCOUNT_READERS = frozenset({"moderator", "safeguarding_lead", "org_admin"})


class AccountNotFound(NotFound):
    reason = "ACCOUNT_NOT_FOUND"


@dataclass(frozen=True)
class HouseRules:
    version: int
    text: str


class Privacy(AgeFollower):
    clock: Callable[[], float]
    house_rules: HouseRules
    subject_keys: SubjectKeys

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def get_account(self, account_id: UUID) -> Account:
        try:
            account: Account = self.repository.get(account_id)
        except AggregateNotFoundError:
            raise AccountNotFound(f"account {account_id} does not exist") from None
        return account

    def staff_view(self, session: Session, account_id: UUID) -> Account:
        """Another account as staff of one of its organisations see it; anyone else is
        refused, and an account outside the caller's organisations is not confirmed to exist."""
        if not ACCOUNT_READERS & session.roles:
            raise Refused(
                "only staff of an account's organisation read another account",
                reason="NOT_IN_ORGANISATION",
            )
        try:
            found: Account | None = self.repository.get(account_id)
        except AggregateNotFoundError:
            found = None
        if found is None or not set(found.organisations) & session.organisations:
            raise Refused(
                "that account is not of an organisation you are staff of",
                reason="NOT_IN_ORGANISATION",
            )
        return found

    def personal_data(self, account: Account) -> dict[str, str]:
        """The account's personal data, readable while its subject key exists."""
        opened = self.subject_keys.open(str(account.id), account.sealed_personal_data)
        if opened is None:
            return {}
        data: dict[str, str] = json.loads(opened)
        return data

    # House rules, consent, erasure and subject access.

    def accept_house_rules(self, account_id: UUID, version: int) -> None:
        def command() -> None:
            account = self.get_account(account_id)
            account.accept_house_rules(version, self.house_rules.version)
            self.save(account)

        retrying(command)

    def record_consent(self, account_id: UUID, purpose: str, granted: bool) -> None:
        def command() -> None:
            account = self.get_account(account_id)
            account.consent(purpose, granted)
            self.save(account)

        retrying(command)

    def erase(self, account_id: UUID, requested_by: UUID) -> None:
        """Record the erasure, then destroy the key; a retry destroys it again (idempotent)."""

        def command() -> None:
            account = self.get_account(account_id)
            account.erase(str(requested_by))
            # Identity stops honouring the account's sessions with the same save; the other
            # services do when their followers hear of the erasure.
            revocation = self.revocations.new(str(account_id), "erased")
            self.save(account, *([revocation] if revocation else []))
            if revocation:
                self.revocations.saved(revocation)

        retrying(command)
        self.subject_keys.destroy(str(account_id))

    def export(self, account_id: UUID) -> dict[str, Any]:
        """Everything identity holds about the account, readable: its state, its personal data
        (opened with its key while it exists) and every event that names it."""
        account = self.get_account(account_id)
        now = self.now()
        subject = str(account_id)
        events = []
        for notification in self._notifications():
            message = decode_published(notification.topic, notification.state)
            if message is None:
                continue
            mentioned = notification.originator_id == account_id or subject in str(message)
            if not mentioned:
                continue
            fields = MessageToDict(message, preserving_proto_field_name=True)
            if isinstance(message, events_pb2.PersonalDataRecorded):
                opened = self.subject_keys.open(subject, message.sealed)
                fields["opened"] = json.loads(opened) if opened else "(key destroyed)"
            events.append(
                {
                    "sequence": notification.id,
                    "aggregate": str(notification.originator_id),
                    "version": notification.originator_version,
                    "topic": notification.topic,
                    "fields": fields,
                }
            )
        return {
            "account": {
                "account_id": subject,
                "role": account.role.label,
                "devices": [key.hex() for key in account.device_keys],
                "passkeys": list(account.passkeys),
                "attested_band": account.attested_band(now).label,
                "effective_band": account.effective_band(now).label,
                "band_expires_at": (
                    account.band_expires_at.isoformat() if account.band_expires_at else None
                ),
                "organisations": list(account.organisations),
                "vetted": {
                    org: {"by": by, "at": at.isoformat()}
                    for org, (by, at) in account.vetted_by.items()
                },
                "house_rules_version": account.house_rules_version,
                "consents": dict(account.consents),
                "erased": account.erased,
                "personal_data": self.personal_data(account),
                "subject_key_held": self.subject_keys.holds(subject),
            },
            "events": events,
        }

    def _notifications(self) -> Iterator[TracedNotification]:
        start = 1
        while True:
            page = self.recorder.select_notifications(start, EXPORT_PAGE)
            for notification in page:
                assert isinstance(notification, TracedNotification)
                yield notification
            if len(page) < EXPORT_PAGE:
                return
            start = page[-1].id + 1
