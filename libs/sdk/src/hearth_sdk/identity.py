"""The client side of identity: a device key, registration, login and session renewal; and
staff passkeys (WebAuthn), relayed between identity and a browser.

Client state (the device's Ed25519 seed, the account id, the current session token) is kept in
a local JSON file, written atomically and readable by its owner only, so an app that restarts
logs in again with the same device. A passkey lives in the staff member's authenticator, not
here: `PasskeyClient` is what a web backend (the console) uses to pass identity's options to
the browser and the browser's answer back, and it keeps nothing.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import grpc
from nacl.signing import SigningKey

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc

from .channel import bearer
from .local_state import write_private_json

RENEW_MARGIN = 60  # seconds before expiry at which a session is renewed rather than used


def login_text(challenge_id: str, challenge: bytes, account_id: str) -> bytes:
    """What a device signs to log in (the service checks exactly this)."""
    return f"hearth-login-v1:{account_id}:{challenge_id}:".encode() + challenge


def add_device_text(account_id: str) -> bytes:
    """What a new device signs to prove it holds its key."""
    return f"hearth-add-device-v1:{account_id}".encode()


@dataclass
class ClientState:
    """What the device remembers between runs."""

    device_seed: str
    account_id: str = ""
    request_id: str = ""
    session_token: str = ""
    session_expires_at: int = 0

    @property
    def device_key(self) -> SigningKey:
        return SigningKey(base64.b64decode(self.device_seed))


class IdentityClient:
    """One device's account on one platform, with its state in `state_path`."""

    def __init__(self, channel: grpc.Channel, state_path: Path) -> None:
        self.stub = identity_pb2_grpc.IdentityServiceStub(channel)
        self.state_path = Path(state_path)
        self.state = self._load()

    def _load(self) -> ClientState:
        if self.state_path.exists():
            return ClientState(**json.loads(self.state_path.read_text()))
        seed = base64.b64encode(bytes(SigningKey.generate())).decode()
        state = ClientState(device_seed=seed)
        self._save(state)
        return state

    def _save(self, state: ClientState | None = None) -> None:
        write_private_json(self.state_path, asdict(state or self.state), indent=2)

    @property
    def account_id(self) -> str:
        return self.state.account_id

    @property
    def device_public_key(self) -> bytes:
        return bytes(self.state.device_key.verify_key)

    def register(
        self,
        role: identity_pb2.Role.ValueType,
        *,
        display_name: str = "",
        contact_detail: str = "",
        invitation_code: str = "",
    ) -> str:
        """Register this device's account; a retry after a lost answer finds the same one.
        Staff roles need an `invitation_code` from an org admin (InviteStaff)."""
        if not self.state.request_id:
            self.state.request_id = f"register-{uuid.uuid4()}"
            self._save()
        response = self.stub.RegisterAccount(
            identity_pb2.RegisterAccountRequest(
                request_id=self.state.request_id,
                role=role,
                device_public_key=self.device_public_key,
                display_name=display_name,
                contact_detail=contact_detail,
                invitation_code=invitation_code,
            )
        )
        self.state.account_id = response.account_id
        self._save()
        return str(response.account_id)

    def login(self) -> str:
        """Sign the server's challenge with the device key; keep the session token."""
        challenge = self.stub.BeginLogin(
            identity_pb2.BeginLoginRequest(
                account_id=self.state.account_id, device_public_key=self.device_public_key
            )
        )
        text = login_text(challenge.challenge_id, challenge.challenge, self.state.account_id)
        response = self.stub.CompleteLogin(
            identity_pb2.CompleteLoginRequest(
                challenge_id=challenge.challenge_id,
                signature=self.state.device_key.sign(text).signature,
            )
        )
        return self._keep(response.session_token, response.expires_at.seconds)

    def renew(self) -> str:
        response = self.stub.RenewSession(
            identity_pb2.RenewSessionRequest(), metadata=bearer(self.state.session_token)
        )
        return self._keep(response.session_token, response.expires_at.seconds)

    def _keep(self, token: str, expires_at: int) -> str:
        self.state.session_token = token
        self.state.session_expires_at = expires_at
        self._save()
        return token

    def session(self) -> str:
        """A usable session token: the kept one, renewed near its expiry, or a fresh login."""
        remaining = self.state.session_expires_at - time.time()
        if not self.state.session_token or remaining <= 0:
            return self.login()
        if remaining < RENEW_MARGIN:
            return self.renew()
        return self.state.session_token

    def metadata(self) -> tuple[tuple[str, str]]:
        return bearer(self.session())

    def house_rules(self) -> identity_pb2.GetHouseRulesResponse:
        """The house rules in force: their version and text, to show before accepting."""
        response: identity_pb2.GetHouseRulesResponse = self.stub.GetHouseRules(
            identity_pb2.GetHouseRulesRequest(), metadata=self.metadata()
        )
        return response

    def accept_house_rules(self, version: int | None = None) -> int:
        """Accept the house rules (the version shown, or the one in force); messaging lets an
        account talk only once it has heard of the acceptance. Returns the version."""
        version = self.house_rules().version if version is None else version
        self.stub.AcceptHouseRules(
            identity_pb2.AcceptHouseRulesRequest(version=version), metadata=self.metadata()
        )
        return version

    def prove_new_device(self, new_device: SigningKey) -> bytes:
        """The proof a new device gives that it holds its key (for `add_device`)."""
        return new_device.sign(add_device_text(self.state.account_id)).signature

    def add_device(self, new_device: SigningKey) -> int:
        response = self.stub.AddDevice(
            identity_pb2.AddDeviceRequest(
                request_id=f"device-{bytes(new_device.verify_key).hex()[:32]}",
                device_public_key=bytes(new_device.verify_key),
                proof=self.prove_new_device(new_device),
            ),
            metadata=self.metadata(),
        )
        return int(response.devices)

    def account(self) -> identity_pb2.GetAccountResponse:
        response: identity_pb2.GetAccountResponse = self.stub.GetAccount(
            identity_pb2.GetAccountRequest(), metadata=self.metadata()
        )
        return response

    def export(self) -> dict[str, object]:
        """Everything identity holds about this account (subject access)."""
        response = self.stub.ExportMyData(
            identity_pb2.ExportMyDataRequest(), metadata=self.metadata()
        )
        document: dict[str, object] = json.loads(response.document)
        return document


@dataclass(frozen=True)
class PasskeyCeremony:
    """A begun passkey ceremony: the options for the browser, and the id to complete it by."""

    challenge_id: str
    # PublicKeyCredentialCreationOptionsJSON or ...RequestOptionsJSON, for
    # PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON.
    options_json: str
    expires_at: int
    # An enrolment's new account (the passkey's user handle); empty otherwise.
    account_id: str = ""


@dataclass(frozen=True)
class PasskeySession:
    """A staff member signed in with a passkey: the usual session token."""

    account_id: str
    device_id: str
    session_token: str
    expires_at: int


class PasskeyClient:
    """Identity's passkey ceremonies, for a backend between identity and a browser.

    Each `begin_*` answers the options to hand to `navigator.credentials`; each `complete_*`
    takes the credential's `toJSON()` as the browser sent it. Identity checks origin, RP id,
    challenge (single use, short-lived), user verification, signature and counter; only
    staff roles hold passkeys."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.stub = identity_pb2_grpc.IdentityServiceStub(channel)

    def begin_enrolment(self, invitation_code: str, display_name: str = "") -> PasskeyCeremony:
        """An invited staff member's first device is a passkey (no device key needed)."""
        r = self.stub.BeginPasskeyEnrolment(
            identity_pb2.BeginPasskeyEnrolmentRequest(
                invitation_code=invitation_code, display_name=display_name
            )
        )
        return PasskeyCeremony(r.challenge_id, r.options_json, r.expires_at.seconds, r.account_id)

    def complete_enrolment(self, challenge_id: str, credential_json: str) -> PasskeySession:
        """The invitation used, the account registered and signed in."""
        r = self.stub.CompletePasskeyEnrolment(
            identity_pb2.CompletePasskeyEnrolmentRequest(
                challenge_id=challenge_id, credential_json=credential_json
            )
        )
        return PasskeySession(r.account_id, r.device_id, r.session_token, r.expires_at.seconds)

    def begin_registration(self, session_token: str) -> PasskeyCeremony:
        """A signed-in staff member adds a passkey to their account."""
        r = self.stub.BeginPasskeyRegistration(
            identity_pb2.BeginPasskeyRegistrationRequest(), metadata=bearer(session_token)
        )
        return PasskeyCeremony(r.challenge_id, r.options_json, r.expires_at.seconds)

    def complete_registration(
        self, session_token: str, challenge_id: str, credential_json: str
    ) -> str:
        """The new passkey's device id."""
        r = self.stub.CompletePasskeyRegistration(
            identity_pb2.CompletePasskeyRegistrationRequest(
                challenge_id=challenge_id, credential_json=credential_json
            ),
            metadata=bearer(session_token),
        )
        return str(r.device_id)

    def begin_login(self, account_id: str = "") -> PasskeyCeremony:
        """A login by one account's passkeys, or (no account) by any discoverable passkey."""
        r = self.stub.BeginPasskeyLogin(
            identity_pb2.BeginPasskeyLoginRequest(account_id=account_id)
        )
        return PasskeyCeremony(r.challenge_id, r.options_json, r.expires_at.seconds)

    def complete_login(self, challenge_id: str, credential_json: str) -> PasskeySession:
        r = self.stub.CompletePasskeyLogin(
            identity_pb2.CompletePasskeyLoginRequest(
                challenge_id=challenge_id, credential_json=credential_json
            )
        )
        return PasskeySession(r.account_id, r.device_id, r.session_token, r.expires_at.seconds)
