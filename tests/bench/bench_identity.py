"""Identity: device-key and passkey logins/s over gRPC, beside raw Ed25519 verification.

A login is two calls (BeginLogin, CompleteLogin): the account is read from the event log
twice, the device's signature is verified once and a session token is signed. The raw
verification of the same login text is the baseline a login cannot beat. A passkey login
(BeginPasskeyLogin, CompletePasskeyLogin) answers a software authenticator's P-256 assertion
(signed client-side, in the same threads): WebAuthn parsing and ECDSA verification, the
passkey and its account read, and its advanced signature counter recorded (one event per
login, as for a security key); it is measured against the device-key login.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from nacl.signing import SigningKey

from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_runtime import admin
from hearth_runtime.platform import Platform
from hearth_sdk.channel import connect
from hearth_sdk.identity import IdentityClient, PasskeyClient, login_text
from tests.bench.report import Report, best_of
from tests.support.passkeys import SoftAuthenticator

# The development relying party identity uses when none is configured.
ORIGIN = "http://localhost:8470"

ROUNDS = 3
CLIENTS = 8
PER_CLIENT = 40  # logins per client per round
VERIFICATIONS = 2_000
QUICK = {"ROUNDS": 1, "PER_CLIENT": 5, "VERIFICATIONS": 200}  # `--quick`: every figure once


def run(report: Report) -> None:
    data_dir = report.workdir / "identity"
    environ = {"HEARTH_IDENTITY_FOLLOW_AGE": "false"}
    platform = Platform(
        data_dir, services=["identity"], environ=environ, nats_url=report.nats_url
    ).start()
    try:
        channel = connect(platform.endpoint("identity"))
        clients = [
            IdentityClient(channel, data_dir / "devices" / f"bench-{i}.json")
            for i in range(CLIENTS)
        ]
        for client in clients:
            client.register(identity_pb2.ROLE_YOUNG_PERSON)
        passkeys = PasskeyClient(channel)
        staff = [enrolled(platform, passkeys) for _ in range(CLIENTS)]
        verify_rate, login_rate, passkey_rate = best_of(
            ROUNDS, raw_verify, lambda: logins(clients), lambda: passkey_logins(passkeys, staff)
        )
        report.figure("ed25519.verify", verify_rate, "verifications/s")
        report.figure("identity.login", login_rate, "logins/s", baseline="ed25519.verify")
        report.figure("identity.passkey.login", passkey_rate, "logins/s", baseline="identity.login")
        report.note(
            f"identity.login: {CLIENTS} concurrent devices, BeginLogin + CompleteLogin over "
            "gRPC to an in-process server, each answered with a signed session token"
        )
        report.note(
            f"identity.passkey.login: {CLIENTS} concurrent staff, BeginPasskeyLogin + "
            "CompletePasskeyLogin by discoverable passkey (P-256), counter recorded each time"
        )
    finally:
        platform.stop()


def raw_verify() -> float:
    key = SigningKey.generate()
    text = login_text("challenge-id", b"c" * 32, "00000000-0000-4000-8000-000000000000")
    signed = key.sign(text)
    verify = key.verify_key.verify
    started = time.perf_counter()
    for _ in range(VERIFICATIONS):
        verify(signed)
    return VERIFICATIONS / (time.perf_counter() - started)


def logins(clients: list[IdentityClient]) -> float:
    def run_client(client: IdentityClient) -> None:
        for _ in range(PER_CLIENT):
            client.login()

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(run_client, clients))
    return CLIENTS * PER_CLIENT / (time.perf_counter() - started)


def enrolled(platform: Platform, passkeys: PasskeyClient) -> SoftAuthenticator:
    """A moderator enrolled with a passkey from an operator's invitation."""
    channel = connect(platform.endpoint("identity"))
    code = admin.invite(channel, platform.signer, identity_pb2.ROLE_MODERATOR).code
    authenticator = SoftAuthenticator(origin=ORIGIN)
    ceremony = passkeys.begin_enrolment(code)
    passkeys.complete_enrolment(ceremony.challenge_id, authenticator.create(ceremony.options_json))
    return authenticator


def passkey_logins(passkeys: PasskeyClient, staff: list[SoftAuthenticator]) -> float:
    def run_member(authenticator: SoftAuthenticator) -> None:
        for _ in range(PER_CLIENT):
            ceremony = passkeys.begin_login()
            passkeys.complete_login(ceremony.challenge_id, authenticator.get(ceremony.options_json))

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(run_member, staff))
    return CLIENTS * PER_CLIENT / (time.perf_counter() - started)
