"""Staff passkeys over real gRPC and NATS: a software authenticator with real P-256 keys
enrols, adds and logs in; every hostile answer is refused with its status and reason, and
leaves identity's stream and buckets as they were."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.platform import Platform
from hearth_runtime.sessions import Session, SessionVerifier
from hearth_sdk.channel import bearer, connect
from hearth_sdk.identity import IdentityClient, PasskeyClient, PasskeySession
from tests.identity.support import Devices, invite, stored, topics_of
from tests.support.clock import Clock
from tests.support.passkeys import SoftAuthenticator
from tests.support.status import refusal

ORIGIN = "http://localhost:8470"  # identity's development origin (the console's port)
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
Unchanged = Callable[[], AbstractContextManager[None]]


def claims(platform: Platform, token: str) -> Session:
    """What the session token says, verified as every service verifies it."""
    return SessionVerifier({platform.signer.key_id: platform.signer.public_key}).verify(token)


@pytest.fixture
def passkeys(platform: Platform) -> PasskeyClient:
    return PasskeyClient(connect(platform.endpoint("identity")))


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


def enrol(
    platform: Platform,
    passkeys: PasskeyClient,
    authenticator: SoftAuthenticator,
    role: str = "moderator",
    name: str = "Sam Moderator",
) -> PasskeySession:
    ceremony = passkeys.begin_enrolment(invite(platform, role), name)
    return passkeys.complete_enrolment(
        ceremony.challenge_id, authenticator.create(ceremony.options_json)
    )


def login(
    passkeys: PasskeyClient, authenticator: SoftAuthenticator, account: str = ""
) -> PasskeySession:
    ceremony = passkeys.begin_login(account)
    return passkeys.complete_login(ceremony.challenge_id, authenticator.get(ceremony.options_json))


@pytest.fixture
def unchanged(platform: Platform) -> Unchanged:
    """`with unchanged():` around a refusal: identity's stream and buckets must not move."""

    @contextmanager
    def kept() -> Iterator[None]:
        before = stored(platform)
        yield
        assert stored(platform) == before

    return kept


def test_an_invited_moderator_enrols_with_a_passkey_and_signs_in_with_it(
    platform: Platform, passkeys: PasskeyClient, authenticator: SoftAuthenticator
) -> None:
    before = len(topics_of(platform))
    enrolled = enrol(platform, passkeys, authenticator)
    said = claims(platform, enrolled.session_token)
    assert said.account_id == enrolled.account_id
    assert said.roles == {"moderator"}
    identity = identity_pb2_grpc.IdentityServiceStub(connect(platform.endpoint("identity")))
    account = identity.GetAccount(
        identity_pb2.GetAccountRequest(), metadata=bearer(enrolled.session_token)
    )
    assert (account.role, account.devices, account.display_name) == (
        identity_pb2.ROLE_MODERATOR,
        1,
        "Sam Moderator",
    )
    recorded = topics_of(platform)[before:]
    assert {
        "hearth.identity.v1.StaffInvited",
        "hearth.identity.v1.AccountRegistered",
        "hearth.identity.v1.PasskeyAdded",
        "hearth.identity.v1.PasskeyRegistered",
        "hearth.identity.v1.InvitationAccepted",
        "hearth.identity.v1.PersonalDataRecorded",
    } == set(recorded)
    # Usernameless (a discoverable passkey), then by account: the counter advances each time.
    first = login(passkeys, authenticator)
    second = login(passkeys, authenticator, enrolled.account_id)
    assert first.account_id == second.account_id == enrolled.account_id
    assert first.device_id == second.device_id == enrolled.device_id
    assert claims(platform, second.session_token).roles == {"moderator"}
    assert topics_of(platform)[-2:] == ["hearth.identity.v1.PasskeySignCountUpdated"] * 2


def test_the_display_name_reaches_the_log_only_sealed(
    platform: Platform, passkeys: PasskeyClient, authenticator: SoftAuthenticator
) -> None:
    enrol(platform, passkeys, authenticator, name="Ruth Quillfeather")
    assert all(b"Quillfeather" not in data for _subject, data in stored(platform))


def test_a_signed_in_staff_member_adds_a_passkey_and_logs_in_with_it(
    passkeys: PasskeyClient, authenticator: SoftAuthenticator, devices: Devices
) -> None:
    lead = devices.account("safeguarding_lead")
    ceremony = passkeys.begin_registration(lead.session())
    device_id = passkeys.complete_registration(
        lead.session(), ceremony.challenge_id, authenticator.create(ceremony.options_json)
    )
    assert lead.account().devices == 2
    session = login(passkeys, authenticator, lead.account_id)
    assert (session.account_id, session.device_id) == (lead.account_id, device_id)
    # The next registration excludes the passkey the account already holds.
    again = passkeys.begin_registration(lead.session())
    with pytest.raises(ValueError, match="excluded"):
        authenticator.create(again.options_json)


def test_an_authenticator_without_a_counter_logs_in_again_and_again(
    platform: Platform, passkeys: PasskeyClient
) -> None:
    synced = SoftAuthenticator(origin=ORIGIN, step=0)  # most synced passkeys keep no counter
    enrolled = enrol(platform, passkeys, synced)
    before = len(topics_of(platform))
    for _ in range(3):
        assert login(passkeys, synced).account_id == enrolled.account_id
    assert len(topics_of(platform)) == before  # nothing to record


def test_a_login_answered_on_another_origin_is_refused(
    platform: Platform,
    passkeys: PasskeyClient,
    authenticator: SoftAuthenticator,
    unchanged: Unchanged,
) -> None:
    enrol(platform, passkeys, authenticator)
    authenticator.origin = "https://hearth-console.example.net"  # a phishing relay
    with unchanged():
        code, reason, details = refusal(lambda: login(passkeys, authenticator))
    assert (code, reason) == (UNAUTHENTICATED, "PASSKEY_REFUSED")
    assert "origin" in details


def test_an_enrolment_answered_on_another_origin_is_refused(
    platform: Platform, passkeys: PasskeyClient, unchanged: Unchanged
) -> None:
    ceremony = passkeys.begin_enrolment(invite(platform, "moderator"))
    phished = SoftAuthenticator(origin="http://localhost:9999")
    answer = phished.create(ceremony.options_json)
    with unchanged():
        code, reason, details = refusal(
            lambda: passkeys.complete_enrolment(ceremony.challenge_id, answer)
        )
    assert (code, reason) == (INVALID, "ATTESTATION_REFUSED")
    assert "origin" in details


def test_a_login_for_another_rp_id_is_refused(
    platform: Platform,
    passkeys: PasskeyClient,
    authenticator: SoftAuthenticator,
    unchanged: Unchanged,
) -> None:
    enrol(platform, passkeys, authenticator)
    authenticator.rp_id = "evil.example"
    with unchanged():
        code, reason, details = refusal(lambda: login(passkeys, authenticator))
    assert (code, reason) == (UNAUTHENTICATED, "PASSKEY_REFUSED")
    assert "RP ID" in details


def test_an_enrolment_for_another_rp_id_is_refused(
    platform: Platform, passkeys: PasskeyClient, unchanged: Unchanged
) -> None:
    ceremony = passkeys.begin_enrolment(invite(platform, "moderator"))
    answer = SoftAuthenticator(origin=ORIGIN, rp_id="evil.example").create(ceremony.options_json)
    with unchanged():
        code, reason, details = refusal(
            lambda: passkeys.complete_enrolment(ceremony.challenge_id, answer)
        )
    assert (code, reason) == (INVALID, "ATTESTATION_REFUSED")
    assert "RP ID" in details


def test_a_replayed_login_is_refused(
    platform: Platform,
    passkeys: PasskeyClient,
    authenticator: SoftAuthenticator,
    unchanged: Unchanged,
) -> None:
    enrol(platform, passkeys, authenticator)
    ceremony = passkeys.begin_login()
    answer = authenticator.get(ceremony.options_json)
    passkeys.complete_login(ceremony.challenge_id, answer)
    # The same answer again, and a fresh answer to the same (spent) challenge.
    for again in (answer, authenticator.get(ceremony.options_json)):
        with unchanged():
            code, reason, details = refusal(
                lambda a=again: passkeys.complete_login(ceremony.challenge_id, a)  # type: ignore[misc]
            )
        assert (code, reason) == (UNAUTHENTICATED, "LOGIN_REFUSED")
        assert "already used" in details


def test_a_replayed_registration_is_refused(
    passkeys: PasskeyClient,
    authenticator: SoftAuthenticator,
    devices: Devices,
    unchanged: Unchanged,
) -> None:
    lead = devices.account("safeguarding_lead")
    ceremony = passkeys.begin_registration(lead.session())
    answer = authenticator.create(ceremony.options_json)
    passkeys.complete_registration(lead.session(), ceremony.challenge_id, answer)
    another = SoftAuthenticator(origin=ORIGIN).create(ceremony.options_json)
    with unchanged():
        code, reason, details = refusal(
            lambda: passkeys.complete_registration(lead.session(), ceremony.challenge_id, another)
        )
        assert (code, reason) == (INVALID, "CHALLENGE_REFUSED")
        assert "already used" in details
        code, reason, _ = refusal(
            lambda: passkeys.complete_registration(lead.session(), ceremony.challenge_id, answer)
        )
        assert (code, reason) == (grpc.StatusCode.ALREADY_EXISTS, "PASSKEY_REGISTERED")


def test_a_replayed_enrolment_is_refused(
    platform: Platform,
    passkeys: PasskeyClient,
    authenticator: SoftAuthenticator,
    unchanged: Unchanged,
) -> None:
    ceremony = passkeys.begin_enrolment(invite(platform, "auditor"))
    passkeys.complete_enrolment(ceremony.challenge_id, authenticator.create(ceremony.options_json))
    another = SoftAuthenticator(origin=ORIGIN).create(ceremony.options_json)
    with unchanged():
        code, reason, _ = refusal(
            lambda: passkeys.complete_enrolment(ceremony.challenge_id, another)
        )
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INVITATION_USED")


def test_an_expired_login_challenge_is_refused(
    platform: Platform,
    passkeys: PasskeyClient,
    authenticator: SoftAuthenticator,
    clock: Clock,
    unchanged: Unchanged,
) -> None:
    enrol(platform, passkeys, authenticator)
    ceremony = passkeys.begin_login()
    clock.advance(61)
    answer = authenticator.get(ceremony.options_json)
    with unchanged():
        code, reason, details = refusal(
            lambda: passkeys.complete_login(ceremony.challenge_id, answer)
        )
    assert (code, reason) == (UNAUTHENTICATED, "LOGIN_REFUSED")
    assert "expired" in details


def test_an_expired_enrolment_challenge_is_refused(
    platform: Platform,
    passkeys: PasskeyClient,
    authenticator: SoftAuthenticator,
    clock: Clock,
    unchanged: Unchanged,
) -> None:
    ceremony = passkeys.begin_enrolment(invite(platform, "moderator"))
    clock.advance(61)
    answer = authenticator.create(ceremony.options_json)
    with unchanged():
        code, reason, details = refusal(
            lambda: passkeys.complete_enrolment(ceremony.challenge_id, answer)
        )
    assert (code, reason) == (INVALID, "CHALLENGE_REFUSED")
    assert "expired" in details


def test_a_forged_signature_is_refused_and_the_genuine_passkey_still_works(
    platform: Platform,
    passkeys: PasskeyClient,
    authenticator: SoftAuthenticator,
    unchanged: Unchanged,
) -> None:
    enrolled = enrol(platform, passkeys, authenticator)
    forger = authenticator.clone()
    forger.forge_with = ec.generate_private_key(ec.SECP256R1())
    forger.step = 1000  # a forger claims a high counter: it must not be recorded
    with unchanged():
        code, reason, details = refusal(lambda: login(passkeys, forger))
    assert (code, reason) == (UNAUTHENTICATED, "PASSKEY_REFUSED")
    assert "signature" in details
    # The real one's counter (1) is still ahead of the recorded one (0).
    assert login(passkeys, authenticator).account_id == enrolled.account_id


def test_a_cloned_authenticator_is_refused(
    platform: Platform,
    passkeys: PasskeyClient,
    authenticator: SoftAuthenticator,
    unchanged: Unchanged,
) -> None:
    enrol(platform, passkeys, authenticator)
    copy = authenticator.clone()  # counter at 0, like the original
    login(passkeys, authenticator)
    login(passkeys, authenticator)  # the original is at 2
    with unchanged():
        code, reason, details = refusal(lambda: login(passkeys, copy))  # the copy says 1
    assert (code, reason) == (UNAUTHENTICATED, "PASSKEY_CLONED")
    assert "from 2 to 1" in details


def test_an_authenticator_that_did_not_verify_the_user_is_refused(
    platform: Platform,
    passkeys: PasskeyClient,
    authenticator: SoftAuthenticator,
    unchanged: Unchanged,
) -> None:
    enrol(platform, passkeys, authenticator)
    ceremony = passkeys.begin_enrolment(invite(platform, "moderator"))
    authenticator.user_verified = False  # touched, but no PIN or biometric
    answer = authenticator.create(ceremony.options_json)
    with unchanged():
        code, reason, details = refusal(lambda: login(passkeys, authenticator))
        assert (code, reason) == (UNAUTHENTICATED, "PASSKEY_REFUSED")
        assert "verif" in details
        code, reason, _ = refusal(
            lambda: passkeys.complete_enrolment(ceremony.challenge_id, answer)
        )
        assert (code, reason) == (INVALID, "ATTESTATION_REFUSED")


@pytest.mark.parametrize("role", ["child", "young_person", "guardian"])
def test_non_staff_cannot_hold_or_use_a_passkey(
    passkeys: PasskeyClient, devices: Devices, role: str, unchanged: Unchanged
) -> None:
    member = devices.account(role)
    token = member.session()
    with unchanged():
        code, reason, details = refusal(lambda: passkeys.begin_registration(token))
        assert (code, reason) == (DENIED, "NOT_STAFF")
        assert role in details
        code, reason, _ = refusal(lambda: passkeys.begin_login(member.account_id))
        assert (code, reason) == (DENIED, "NOT_STAFF")


def test_a_record_keeper_a_client_not_a_person_holds_no_passkey(
    platform: Platform, passkeys: PasskeyClient, devices: Devices, unchanged: Unchanged
) -> None:
    keeper = devices.account("record_keeper")
    token, code_text = keeper.session(), invite(platform, "record_keeper")
    with unchanged():
        code, reason, _ = refusal(lambda: passkeys.begin_registration(token))
        assert (code, reason) == (DENIED, "NOT_STAFF")
        code, reason, details = refusal(lambda: passkeys.begin_enrolment(code_text))
        assert (code, reason) == (DENIED, "NOT_STAFF")
        assert "record_keeper" in details


def test_a_registration_challenge_is_its_own_accounts_and_its_own_kinds(
    passkeys: PasskeyClient, authenticator: SoftAuthenticator, devices: Devices
) -> None:
    first, second = devices.account("moderator"), devices.account("moderator")
    ceremony = passkeys.begin_registration(first.session())
    answer = authenticator.create(ceremony.options_json)
    code, reason, details = refusal(
        lambda: passkeys.complete_registration(second.session(), ceremony.challenge_id, answer)
    )
    assert (code, reason) == (INVALID, "CHALLENGE_REFUSED")
    assert "another account" in details
    # A registration's challenge does not complete an enrolment, nor a login's a registration.
    code, reason, _ = refusal(lambda: passkeys.complete_enrolment(ceremony.challenge_id, answer))
    assert (code, reason) == (INVALID, "CHALLENGE_REFUSED")
    login_ceremony = passkeys.begin_login()
    code, reason, _ = refusal(
        lambda: passkeys.complete_registration(first.session(), login_ceremony.challenge_id, answer)
    )
    assert (code, reason) == (INVALID, "CHALLENGE_REFUSED")


def test_a_passkey_serves_one_account(
    platform: Platform, passkeys: PasskeyClient, authenticator: SoftAuthenticator
) -> None:
    enrolled = enrol(platform, passkeys, authenticator)
    # The same authenticator answers a second enrolment with the credential it already holds.
    ceremony = passkeys.begin_enrolment(invite(platform, "moderator"))
    credential_id = next(iter(authenticator.credentials))
    answer = authenticator.create(ceremony.options_json, credential_id=credential_id)
    code, reason, _ = refusal(lambda: passkeys.complete_enrolment(ceremony.challenge_id, answer))
    assert (code, reason) == (grpc.StatusCode.ALREADY_EXISTS, "PASSKEY_REGISTERED")
    assert login(passkeys, authenticator).account_id == enrolled.account_id


def test_a_login_by_one_account_refuses_another_accounts_passkey(
    platform: Platform, passkeys: PasskeyClient
) -> None:
    mine, theirs = SoftAuthenticator(origin=ORIGIN), SoftAuthenticator(origin=ORIGIN)
    me = enrol(platform, passkeys, mine)
    enrol(platform, passkeys, theirs)
    ceremony = passkeys.begin_login(me.account_id)
    answer = theirs.get(ceremony.options_json, credential_id=next(iter(theirs.credentials)))
    code, reason, _ = refusal(lambda: passkeys.complete_login(ceremony.challenge_id, answer))
    assert (code, reason) == (UNAUTHENTICATED, "LOGIN_REFUSED")


def test_an_erased_staff_account_cannot_log_in_with_its_passkey(
    platform: Platform, passkeys: PasskeyClient, authenticator: SoftAuthenticator
) -> None:
    enrolled = enrol(platform, passkeys, authenticator)
    identity = identity_pb2_grpc.IdentityServiceStub(connect(platform.endpoint("identity")))
    identity.EraseAccount(
        identity_pb2.EraseAccountRequest(), metadata=bearer(enrolled.session_token)
    )
    code, reason, _ = refusal(lambda: login(passkeys, authenticator))
    assert (code, reason) == (UNAUTHENTICATED, "LOGIN_REFUSED")
    code, reason, _ = refusal(lambda: passkeys.begin_login(enrolled.account_id))
    assert (code, reason) == (UNAUTHENTICATED, "LOGIN_REFUSED")


def test_an_invitation_enrols_once(
    platform: Platform, passkeys: PasskeyClient, authenticator: SoftAuthenticator
) -> None:
    code_text = invite(platform, "practitioner")
    ceremony = passkeys.begin_enrolment(code_text)
    passkeys.complete_enrolment(ceremony.challenge_id, authenticator.create(ceremony.options_json))
    code, reason, _ = refusal(lambda: passkeys.begin_enrolment(code_text))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INVITATION_USED")
    code, reason, _ = refusal(lambda: passkeys.begin_enrolment("not-a-code"))
    assert (code, reason) == (DENIED, "PERMISSION_DENIED")


@pytest.mark.parametrize(
    "credential_json",
    [
        "",
        "{",
        "[]",
        '{"id": 1}',
        '{"id": "x", "rawId": "y", "response": {}}',
        "\u0000" * 9,
        "[" * 30_000,  # deeper than the JSON parser goes
        '{"id": "AA", "rawId": "AA", "type": "public-key", "response": '
        '{"clientDataJSON": 5, "authenticatorData": "AA", "signature": "AA"}}',
    ],
)
def test_a_malformed_credential_is_invalid_and_spends_nothing(
    platform: Platform,
    passkeys: PasskeyClient,
    authenticator: SoftAuthenticator,
    credential_json: str,
) -> None:
    enrol(platform, passkeys, authenticator)
    ceremony = passkeys.begin_login()
    code, _reason, _ = refusal(
        lambda: passkeys.complete_login(ceremony.challenge_id, credential_json)
    )
    assert code == INVALID
    # The challenge was not spent by the bad answer: the genuine one still completes.
    good = passkeys.complete_login(ceremony.challenge_id, authenticator.get(ceremony.options_json))
    assert good.session_token


def test_a_passkey_is_a_device_in_the_subject_access_export(
    platform: Platform,
    passkeys: PasskeyClient,
    authenticator: SoftAuthenticator,
    tmp_path: Path,
) -> None:
    enrolled = enrol(platform, passkeys, authenticator)
    client = IdentityClient(connect(platform.endpoint("identity")), tmp_path / "state.json")
    client.state.session_token, client.state.session_expires_at = (
        enrolled.session_token,
        enrolled.expires_at,
    )
    exported = client.export()
    account = exported["account"]
    assert isinstance(account, dict)
    assert account["passkeys"] == [enrolled.device_id]


def test_a_well_formed_answer_by_an_unknown_passkey_is_refused(
    passkeys: PasskeyClient, unchanged: Unchanged
) -> None:
    stranger = SoftAuthenticator(origin=ORIGIN)
    never_registered = {
        "rp": {"id": "localhost", "name": "Hearth"},
        "user": {"id": "AAAA", "name": "nobody"},
        "challenge": "AAAA",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    }
    stranger.create(json.dumps(never_registered))
    ceremony = passkeys.begin_login()
    answer = stranger.get(ceremony.options_json)
    with unchanged():
        code, reason, details = refusal(
            lambda: passkeys.complete_login(ceremony.challenge_id, answer)
        )
    assert (code, reason) == (UNAUTHENTICATED, "LOGIN_REFUSED")
    assert "unknown passkey" in details
