"""Identity: device-key logins/s over gRPC, beside raw Ed25519 verification in the same rounds.

A login is two calls (BeginLogin, CompleteLogin): the account is read from the event log
twice, the device's signature is verified once and a session token is signed. The raw
verification of the same login text is the baseline a login cannot beat. The devices log in
from the bench's client processes (`clients.ClientPool`), each registered there first, so the
identity server in this process has its GIL to itself; `identity.cpu.ms_per_login` is this
process's CPU per login. A passkey login (BeginPasskeyLogin, CompletePasskeyLogin) answers a
software authenticator's P-256 assertion, signed in the client process: WebAuthn parsing and
ECDSA verification, the passkey and its account read, and its advanced signature counter
recorded (one event per login, as for a security key); it is measured against the device-key
login with the same clients.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from nacl.signing import SigningKey

from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_runtime import admin
from hearth_runtime.platform import Platform
from hearth_sdk.channel import connect
from hearth_sdk.identity import IdentityClient, PasskeyClient, login_text
from tests.bench.clients import Measurement, Operation
from tests.bench.report import Report, best_by
from tests.support.passkeys import SoftAuthenticator

# The development relying party identity uses when none is configured.
ORIGIN = "http://localhost:8470"

ROUNDS = 3
CLIENTS = 8
WARMUP = 0.5  # seconds of logins before the counted window
DURATION = 2.0  # seconds counted
VERIFICATIONS = 2_000
QUICK = {"ROUNDS": 1, "WARMUP": 0.1, "DURATION": 0.3, "VERIFICATIONS": 200, "CLIENTS": 2}


def run(report: Report) -> None:
    data_dir = report.workdir / "identity"
    environ = {"HEARTH_IDENTITY_FOLLOW_AGE": "false"}
    platform = Platform(
        data_dir, services=["identity"], environ=environ, nats_url=report.nats_url
    ).start()
    try:
        pool = report.clients
        address = platform.endpoint("identity")
        logins = Logins(address, str(data_dir / "devices"))
        channel = connect(address)

        def passkey_logins() -> Measurement:
            # Invitations are single-use: each round's clients enrol with fresh ones.
            codes = tuple(
                admin.invite(channel, platform.signer, identity_pb2.ROLE_MODERATOR).code
                for _ in range(CLIENTS)
            )
            workload = PasskeyLogins(address, codes)
            return pool.measure(workload, CLIENTS, warmup=WARMUP, duration=DURATION)

        verify_rate, measured, passkeys = best_by(
            ROUNDS,
            lambda m: m.rate,
            raw_verify,
            lambda: pool.measure(logins, CLIENTS, warmup=WARMUP, duration=DURATION),
            passkey_logins,
        )
        report.figure("ed25519.verify", verify_rate.rate, "verifications/s")
        report.figure("identity.login", measured.rate, "logins/s", baseline="ed25519.verify")
        report.figure("identity.cpu.ms_per_login", measured.cpu_per_operation() * 1000, "ms")
        report.figure(
            "identity.passkey.login", passkeys.rate, "logins/s", baseline="identity.login"
        )
        report.note(
            f"identity.login: {CLIENTS} devices in {pool.size} client processes, BeginLogin + "
            "CompleteLogin over gRPC, each answered with a signed session token; p99 "
            f"{measured.percentile(0.99) * 1000:.1f} ms"
        )
        report.note(
            f"identity.passkey.login: {CLIENTS} staff in the same client processes, "
            "BeginPasskeyLogin + CompletePasskeyLogin by discoverable passkey (P-256), "
            "counter recorded each time"
        )
    finally:
        platform.stop()


@dataclass(frozen=True)
class Logins:
    """Each client registers a device of its own (once per measurement), then logs in."""

    address: str
    devices: str

    def prepare(self, client: int) -> Operation:
        path = Path(self.devices) / f"bench-{client}-{uuid.uuid4().hex[:8]}.json"
        device = IdentityClient(connect(self.address), path)
        device.register(identity_pb2.ROLE_YOUNG_PERSON)
        return device.login


@dataclass(frozen=True)
class PasskeyLogins:
    """Each client enrols a moderator with a passkey from its invitation, then logs in by it."""

    address: str
    invitations: tuple[str, ...]

    def prepare(self, client: int) -> Operation:
        passkeys = PasskeyClient(connect(self.address))
        authenticator = SoftAuthenticator(origin=ORIGIN)
        ceremony = passkeys.begin_enrolment(self.invitations[client])
        passkeys.complete_enrolment(
            ceremony.challenge_id, authenticator.create(ceremony.options_json)
        )

        def login() -> None:
            ceremony = passkeys.begin_login()
            passkeys.complete_login(ceremony.challenge_id, authenticator.get(ceremony.options_json))

        return login


def raw_verify() -> Measurement:
    key = SigningKey.generate()
    text = login_text("challenge-id", b"c" * 32, "00000000-0000-4000-8000-000000000000")
    signed = key.sign(text)
    verify = key.verify_key.verify
    started = time.perf_counter()
    for _ in range(VERIFICATIONS):
        verify(signed)
    return Measurement(VERIFICATIONS, time.perf_counter() - started, [])
