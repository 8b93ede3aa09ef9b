"""Passkeys (WebAuthn credentials) as devices of staff accounts, verified with `webauthn`.

Pure domain and verification: no I/O. A `Passkey` is its own aggregate, its id derived from
the credential id, so one credential serves one account and a login finds its passkey from
the assertion alone; its signature counter advances there, not on the account. The
`RelyingParty` is the configured RP id and origins: it writes the options a browser passes to
`navigator.credentials` and checks what comes back (origin, RP id, challenge, user
verification required, signature), in the WebAuthn JSON encoding both ways.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from eventsourcing.domain import Aggregate, event
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from hearth_eventlog.published import aggregate_name, published
from hearth_eventlog.settings import ConfigError
from hearth_proto.hearth.identity.v1 import events_pb2
from hearth_runtime.errors import AlreadyDone, Invalid, NotAuthenticated, Refused

from .domain import REQUEST_NAMESPACE

# What a hostile credential can make the parser raise besides the library's own errors.
MALFORMED = (
    WebAuthnException,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    RecursionError,  # JSON nested deeper than the parser goes
)


class NotStaff(Refused):
    """Only staff roles hold passkeys: the console is for staff."""

    reason = "NOT_STAFF"


class ChallengeRefused(Invalid):
    """A registration's challenge is unknown, expired, used, or another account's."""

    reason = "CHALLENGE_REFUSED"


class AttestationRefused(Invalid):
    """The created credential does not verify (origin, RP id, challenge, user verification)."""

    reason = "ATTESTATION_REFUSED"


class PasskeyRegistered(AlreadyDone):
    reason = "PASSKEY_REGISTERED"


class AssertionRefused(NotAuthenticated):
    """The login's assertion does not verify (origin, RP id, challenge, user verification,
    signature)."""

    reason = "PASSKEY_REFUSED"


class ClonedAuthenticator(NotAuthenticated):
    """The signature counter did not advance: two authenticators hold one credential."""

    reason = "PASSKEY_CLONED"


@aggregate_name("identity.Passkey")
class Passkey(Aggregate):
    """One WebAuthn credential of one account: its public key and signature counter."""

    @staticmethod
    def create_id(credential_id: bytes) -> uuid.UUID:
        return device_id_for(credential_id)

    @published(events_pb2.PasskeyRegistered)
    class Registered(Aggregate.Created):
        account_id: str
        credential_id: bytes
        credential_public_key: bytes
        sign_count: int
        rp_id: str
        aaguid: bytes
        multi_device: bool

    @event(Registered)
    def __init__(
        self,
        account_id: str,
        credential_id: bytes,
        credential_public_key: bytes,
        sign_count: int,
        rp_id: str,
        aaguid: bytes,
        multi_device: bool,
    ) -> None:
        self.account_id = account_id
        self.credential_id = credential_id
        self.credential_public_key = credential_public_key
        self.sign_count = sign_count
        self.rp_id = rp_id

    def count_signature(self, sign_count: int) -> None:
        """Record the counter of a verified assertion, refusing one that did not advance.

        A counter of 0 both times is an authenticator that keeps none (most synced passkeys);
        otherwise it must grow, or a copy of the credential is in use (WebAuthn §7.2 step 21).
        """
        if (sign_count or self.sign_count) and sign_count <= self.sign_count:
            raise ClonedAuthenticator(
                f"the passkey's signature counter went from {self.sign_count} to {sign_count}: "
                "a cloned authenticator"
            )
        if sign_count:
            self.trigger_event(self.SignCountUpdated, sign_count=sign_count)

    @published(events_pb2.PasskeySignCountUpdated)
    class SignCountUpdated(Aggregate.Event):
        sign_count: int

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Passkey)
            aggregate.sign_count = self.sign_count


def device_id_for(credential_id: bytes) -> uuid.UUID:
    return uuid.uuid5(REQUEST_NAMESPACE, f"passkey:{credential_id.hex()}")


@dataclass(frozen=True)
class NewCredential:
    """A created credential that verified: what `Passkey` records."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: bytes
    multi_device: bool

    def passkey(self, account_id: str, rp_id: str) -> Passkey:
        return Passkey(
            account_id=account_id,
            credential_id=self.credential_id,
            credential_public_key=self.public_key,
            sign_count=self.sign_count,
            rp_id=rp_id,
            aaguid=self.aaguid,
            multi_device=self.multi_device,
        )


def _parsed(text: str, parse: Any) -> Any:
    """A credential from its JSON, or INVALID_ARGUMENT naming credential_json."""
    try:
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("not an object")
        return parse(document)
    except MALFORMED:
        raise Invalid.field("credential_json", "is not a WebAuthn credential (JSON)") from None


def registration_credential(text: str) -> RegistrationCredential:
    credential: RegistrationCredential = _parsed(text, parse_registration_credential_json)
    return credential


def authentication_credential(text: str) -> AuthenticationCredential:
    credential: AuthenticationCredential = _parsed(text, parse_authentication_credential_json)
    return credential


@dataclass(frozen=True)
class RelyingParty:
    """The configured RP id and the origins its ceremonies may happen on."""

    rp_id: str
    origins: tuple[str, ...]
    name: str = "Hearth"
    timeout_ms: int = 60_000

    def __post_init__(self) -> None:
        if not self.rp_id or "/" in self.rp_id or ":" in self.rp_id:
            raise ConfigError(f"WebAuthn RP id {self.rp_id!r} is not a domain (e.g. localhost)")
        if not self.origins:
            raise ConfigError("no WebAuthn origin is configured")
        for origin in self.origins:
            parts = urlsplit(origin)
            host = parts.hostname or ""
            if (
                parts.scheme not in ("https", "http")
                or parts.path
                or (host != self.rp_id and not host.endswith("." + self.rp_id))
            ):
                raise ConfigError(
                    f"WebAuthn origin {origin!r} is not scheme://host[:port] on RP id {self.rp_id}"
                )

    def creation_options(
        self,
        challenge: bytes,
        user_id: bytes,
        user_name: str,
        exclude: list[bytes],
    ) -> str:
        """PublicKeyCredentialCreationOptionsJSON: user verification required; a discoverable
        credential preferred (so the console can sign in without asking who)."""
        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=self.name,
            user_id=user_id,
            user_name=user_name,
            challenge=challenge,
            timeout=self.timeout_ms,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=c) for c in exclude],
        )
        return str(options_to_json(options))

    def verify_creation(
        self, credential: RegistrationCredential, challenge: bytes
    ) -> NewCredential:
        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=list(self.origins),
                require_user_verification=True,
            )
            # A key the login could not use later is refused now.
            decoded_public_key_to_cryptography(
                decode_credential_public_key(verified.credential_public_key)
            )
            aaguid = uuid.UUID(verified.aaguid).bytes
        except MALFORMED as e:
            raise AttestationRefused(f"the new passkey does not verify: {str(e)[:160]}") from None
        return NewCredential(
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            aaguid=aaguid,
            multi_device=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        )

    def request_options(self, challenge: bytes, allow: list[bytes]) -> str:
        """PublicKeyCredentialRequestOptionsJSON: user verification required; `allow` empty
        lets any discoverable passkey of this RP answer."""
        options = generate_authentication_options(
            rp_id=self.rp_id,
            challenge=challenge,
            timeout=self.timeout_ms,
            allow_credentials=[PublicKeyCredentialDescriptor(id=c) for c in allow],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return str(options_to_json(options))

    def verify_assertion(
        self, credential: AuthenticationCredential, challenge: bytes, passkey: Passkey
    ) -> int:
        """The assertion's signature counter, once everything but the counter checks (the
        counter is `Passkey.count_signature`'s, against the recorded one)."""
        if passkey.rp_id != self.rp_id:
            raise AssertionRefused(f"the passkey is for RP id {passkey.rp_id}, not {self.rp_id}")
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=list(self.origins),
                credential_public_key=passkey.credential_public_key,
                # The counter is checked against the aggregate's, after the signature.
                credential_current_sign_count=0,
                require_user_verification=True,
            )
        except MALFORMED as e:
            raise AssertionRefused(
                f"the passkey's assertion does not verify: {str(e)[:160]}"
            ) from None
        return int(verified.new_sign_count)


# What `hearth up` and the tests use unless configured: the console on its development port.
DEVELOPMENT_RP = RelyingParty("localhost", ("http://localhost:8470",))
