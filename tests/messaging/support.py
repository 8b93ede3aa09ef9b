"""Helpers for messaging tests: identity's published events, devices with session tokens."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from eventsourcing.persistence import StoredEvent
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from hearth_proto.hearth.age.v1 import types_pb2
from hearth_proto.hearth.identity.v1 import events_pb2 as ev
from hearth_runtime.application import HearthApplication
from hearth_runtime.platform import Platform
from hearth_sdk.channel import connect
from hearth_sdk.messaging import MessagingDevice
from tests.conftest import ROLES

BANDS = {
    "under_13": types_pb2.AGE_BAND_UNDER_13,
    "13_15": types_pb2.AGE_BAND_13_15,
    "16_17": types_pb2.AGE_BAND_16_17,
    "18_plus": types_pb2.AGE_BAND_18_PLUS,
}


def now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


class IdentityFeed(HearthApplication):
    """Appends identity's published events (its protos) to an identity stream, as identity
    would: the contact policy learns of accounts only through these."""

    name = "identity"

    def append(self, message: Message, originator: uuid.UUID | None = None) -> int:
        stored = StoredEvent(
            originator_id=originator or uuid.uuid4(),
            originator_version=1,
            topic=message.DESCRIPTOR.full_name,
            state=message.SerializeToString(),
        )
        ids = self.recorder.insert_events([stored])
        assert ids
        return max(ids)


class People:
    """Accounts as identity announces them, and the messaging follower caught up with them."""

    def __init__(self, platform: Platform, environ: Mapping[str, str]) -> None:
        self.platform = platform
        self.feed = IdentityFeed(env={**environ, "NATS_URL": platform.nats_url})
        self.channel = connect(platform.endpoint("messaging"))
        self.last = 0

    def _append(self, message: Message, originator: uuid.UUID | None = None) -> None:
        self.last = self.feed.append(message, originator)

    def settle(self) -> None:
        """Wait until messaging's follower has taken in everything appended so far."""
        follower = self.platform.hosts["messaging"].parts.followers[0]
        follower.wait_until(self.last, timeout=20)

    def account(
        self,
        role: str,
        band: str = "",
        orgs: tuple[str, ...] = (),
        vetted: bool = False,
        house_rules: int = 1,
    ) -> str:
        """A registered account; it has accepted `house_rules` (0: not accepted)."""
        account = uuid.uuid4()
        self._append(
            ev.AccountRegistered(timestamp=now(), role=ROLES[role]),
            account,
        )
        if house_rules:
            self.accept_house_rules(str(account), house_rules)
        if band:
            self._append(
                ev.AccountAgeBandSet(timestamp=now(), account_id=str(account), band=BANDS[band])
            )
        for org in orgs:
            self._append(
                ev.OrganisationMemberAdded(
                    timestamp=now(), organisation_id=org, account_id=str(account)
                )
            )
            if vetted:
                self._append(
                    ev.PractitionerVetted(
                        timestamp=now(), organisation_id=org, account_id=str(account)
                    )
                )
        return str(account)

    def accept_house_rules(self, account: str, version: int = 1) -> None:
        self._append(ev.HouseRulesAccepted(timestamp=now(), account_id=account, version=version))

    def guardian_of(self, guardian: str, child: str, consent: bool = True) -> None:
        self._append(
            ev.GuardianLinked(
                timestamp=now(),
                guardian_account_id=guardian,
                child_account_id=child,
                confirmed_by="both_parties",
            )
        )
        self._append(
            ev.GuardianConsentRecorded(
                timestamp=now(),
                guardian_account_id=guardian,
                child_account_id=child,
                granted=consent,
            )
        )

    def approve(self, guardian: str, child: str, contact: str) -> None:
        self._append(
            ev.ContactApproved(
                timestamp=now(),
                guardian_account_id=guardian,
                child_account_id=child,
                contact_account_id=contact,
            )
        )

    def token(self, account: str, role: str, band: str = "", orgs: tuple[str, ...] = ()) -> str:
        return self.platform.signer.issue(account, {role}, age_band=band, organisations=set(orgs))

    def device(
        self,
        account: str,
        role: str,
        band: str = "",
        orgs: tuple[str, ...] = (),
        prekeys: int = 10,
        **kwargs: object,
    ) -> MessagingDevice:
        device = MessagingDevice(
            self.channel,
            self.token(account, role, band, orgs),
            account,
            address=self.platform.endpoint("messaging"),
            **kwargs,  # type: ignore[arg-type]
        )
        device.publish(prekeys)
        return device

    def close(self) -> None:
        self.channel.close()
        self.feed.close()
