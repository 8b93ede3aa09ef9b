"""Only an account that accepted the house rules in force may start a conversation or send.

Messaging learns acceptance from identity's HouseRulesAccepted; the version in force is
messaging's setting, else identity's.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from hearth_messaging.service import house_rules_version
from hearth_runtime.config import ConfigError
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_sdk.errors import error_info
from tests.conftest import unique_name
from tests.messaging.conftest import messaging_environ
from tests.messaging.support import People
from tests.support.polling import wait_for

TEEN = ("young_person", "13_15")


def refusal(call: object) -> grpc.RpcError:
    assert callable(call)
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error: grpc.RpcError = caught.value
    return error


def test_without_accepting_an_account_cannot_start_a_conversation(people: People) -> None:
    newcomer = people.account(*TEEN, house_rules=0)
    other = people.account(*TEEN)
    people.settle()
    device = people.device(newcomer, *TEEN)

    error = refusal(lambda: device.start_conversation([other]))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(error)
    assert info is not None
    assert (info.reason, info.domain) == ("HOUSE_RULES_NOT_ACCEPTED", "messaging.hearth")
    assert "accept the house rules in force (version 1)" in str(error.details())
    assert "you have not accepted them" in str(error.details())

    people.accept_house_rules(newcomer)
    people.settle()
    assert device.start_conversation([other]).conversation_id


def test_a_member_who_has_not_accepted_cannot_send_until_they_do(people: People) -> None:
    host = people.account(*TEEN)
    guest = people.account(*TEEN, house_rules=0)
    people.settle()
    alice = people.device(host, *TEEN)
    bob = people.device(guest, *TEEN)
    conversation = alice.start_conversation([guest]).conversation_id  # contact is allowed

    error = refusal(lambda: bob.send(conversation, b"hi"))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "house rules" in str(error.details())

    people.accept_house_rules(guest)
    people.settle()
    bob.send(conversation, b"hi, rules accepted")
    assert [m.body for m in alice.receive(1)] == [b"hi, rules accepted"]
    alice.send(conversation, b"welcome")
    assert [m.body for m in bob.receive(1)] == [b"welcome"]
    for device in (alice, bob):
        device.disconnect()


def test_the_version_in_force_is_messagings_setting_else_identitys() -> None:
    assert house_rules_version({}) == 1
    assert house_rules_version({"HEARTH_HOUSE_RULES_VERSION": "3"}) == 3
    assert house_rules_version({"HEARTH_IDENTITY_HOUSE_RULES_VERSION": "2"}) == 2
    both = {"HEARTH_IDENTITY_HOUSE_RULES_VERSION": "2", "HEARTH_MESSAGING_HOUSE_RULES_VERSION": "4"}
    assert house_rules_version(both) == 4
    with pytest.raises(ConfigError):
        house_rules_version({"HEARTH_MESSAGING_HOUSE_RULES_VERSION": "0"})


@pytest.fixture(scope="module")
def version_two(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[People]:
    environ = {
        **messaging_environ(unique_name("hr")),
        "HEARTH_MESSAGING_HOUSE_RULES_VERSION": "2",
    }
    platform = Platform(
        tmp_path_factory.mktemp("house-rules"),
        services=["messaging"],
        environ=environ,
        nats_url=nats_server.url,
    ).start()
    people = People(platform, environ)
    yield people
    people.close()
    platform.stop()


def test_an_acceptance_of_older_rules_does_not_count(version_two: People) -> None:
    people = version_two
    old = people.account(*TEEN, house_rules=1)
    other = people.account(*TEEN, house_rules=2)
    people.settle()
    device = people.device(old, *TEEN)
    error = refusal(lambda: device.start_conversation([other]))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "(version 2)" in str(error.details())
    assert "you accepted version 1" in str(error.details())
    people.accept_house_rules(old, 2)
    people.settle()
    wait_for(lambda: bool(device.start_conversation([other]).conversation_id))
