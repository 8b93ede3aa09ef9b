"""Two replicas of every stateless service on one JetStream, one client alternating between
them: what one replica records, the other honours at once (its caches are kept by the log),
and a message sent through either reaches a device connected to the other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_proto.hearth.messaging.v1 import messaging_pb2 as pb
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_runtime.revocation import RECHECK
from hearth_sdk.channel import connect
from hearth_sdk.errors import error_info
from hearth_sdk.identity import IdentityClient
from hearth_sdk.messaging import GROUP, MessagingDevice
from tests.conftest import unique_name
from tests.messaging.conftest import messaging_environ
from tests.support.polling import wait_for

SERVICES = ["identity", "age", "messaging", "safety"]


@pytest.fixture(scope="module")
def replicas(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Platform, Platform]]:
    prefix = unique_name("rep")
    environ = {
        **messaging_environ(prefix),
        "HEARTH_AGE_STREAM": f"{prefix}_AGE".upper(),
        "HEARTH_AGE_SUBJECT_PREFIX": f"{prefix}.age",
        "HEARTH_SAFETY_STREAM": f"{prefix}_SAFETY".upper(),
        "HEARTH_SAFETY_SUBJECT_PREFIX": f"{prefix}.safety",
    }
    keys = tmp_path_factory.mktemp("replicas")  # one data dir: the replicas share their keys
    started: list[Platform] = []
    try:
        for _ in range(2):
            platform = Platform(keys, services=SERVICES, environ=environ, nats_url=nats_server.url)
            started.append(platform.start())
        yield started[0], started[1]
    finally:
        for platform in started:
            platform.stop()


def settle(*platforms: Platform) -> None:
    """Every replica's messaging has taken in identity's events so far."""
    recorder = platforms[0].hosts["identity"].parts.applications[0].recorder
    last = recorder.max_notification_id() or 0
    for platform in platforms:
        platform.hosts["messaging"].parts.followers[0].wait_until(last, timeout=30)


def person(platform: Platform, directory: Path, name: str) -> IdentityClient:
    client = IdentityClient(connect(platform.endpoint("identity")), directory / f"{name}.json")
    client.register(identity_pb2.ROLE_YOUNG_PERSON, display_name=name)
    client.login()
    return client


def device(client: IdentityClient, sends_to: Platform, receives_from: Platform) -> MessagingDevice:
    phone = MessagingDevice(
        connect(sends_to.endpoint("messaging")),
        client.login(),
        client.account_id,
        address=receives_from.endpoint("messaging"),
    )
    phone.publish(5)
    return phone


def refused(call: object) -> tuple[grpc.StatusCode, str]:
    assert callable(call)
    with pytest.raises(grpc.RpcError) as caught:
        call()
    info = error_info(caught.value)
    return caught.value.code(), info.reason if info else ""


def test_what_one_replica_records_the_other_honours(
    replicas: tuple[Platform, Platform], tmp_path: Path
) -> None:
    a, b = replicas
    # Registered on A, then on B; house rules accepted through the other replica.
    jo, kim, lee = person(a, tmp_path, "jo"), person(b, tmp_path, "kim"), person(a, tmp_path, "lee")
    for client, other in ((jo, b), (kim, a), (lee, b)):
        stub = identity_pb2_grpc.IdentityServiceStub(connect(other.endpoint("identity")))
        version = stub.GetHouseRules(
            identity_pb2.GetHouseRulesRequest(), metadata=client.metadata()
        ).version
        stub.AcceptHouseRules(
            identity_pb2.AcceptHouseRulesRequest(version=version), metadata=client.metadata()
        )
    settle(a, b)

    # Jo sends through A and through B; Kim's phone is connected to A only.
    jo_on_a, jo_on_b = device(jo, a, a), device(jo, b, b)
    kim_phone = device(kim, b, a)
    talk = jo_on_a.start_conversation([kim.account_id]).conversation_id
    jo_on_b.send(talk, b"sent through B", devices=[kim_phone.device_id])
    jo_on_a.send(talk, b"sent through A", devices=[kim_phone.device_id])
    assert sorted(m.body for m in kim_phone.receive(2)) == [b"sent through A", b"sent through B"]

    # Kim blocks Jo through B: A, which has served this conversation, refuses Jo at once.
    kim_phone.block(jo.account_id)
    status, _ = refused(lambda: jo_on_a.send(talk, b"blocked?", devices=[kim_phone.device_id]))
    assert status == grpc.StatusCode.PERMISSION_DENIED
    kim_phone.unblock(jo.account_id)  # through B again; A lets Jo through at once
    jo_on_a.send(talk, b"unblocked", devices=[kim_phone.device_id])
    assert [m.body for m in kim_phone.receive(1)] == [b"unblocked"]

    # A group made on A, that Lee leaves through B: A no longer counts Lee a member.
    lee_on_a, lee_on_b = device(lee, a, a), device(lee, b, b)
    group = jo_on_a.start_conversation([kim.account_id, lee.account_id], kind=GROUP).conversation_id
    lee_on_a.send(group, b"hello all", devices=[kim_phone.device_id])
    assert [m.body for m in kim_phone.receive(1)] == [b"hello all"]
    lee_on_b.stub.LeaveConversation(
        pb.LeaveConversationRequest(conversation_id=group), metadata=lee_on_b.metadata
    )
    status, _ = refused(lambda: lee_on_a.send(group, b"still here?", devices=[kim_phone.device_id]))
    assert status == grpc.StatusCode.PERMISSION_DENIED

    # Lee's account erased through identity on B: A's messaging refuses Lee's session.
    identity_b = identity_pb2_grpc.IdentityServiceStub(connect(b.endpoint("identity")))
    token = lee.login()
    identity_b.EraseAccount(identity_pb2.EraseAccountRequest(), metadata=lee.metadata())
    settle(a, b)
    lee_on_a.token = token
    # A replica believes an account unrevoked for up to `revocation.RECHECK` after it last
    # asked (Lee sent through A moments ago), and its contact facts may learn of the erasure
    # first (PERMISSION_DENIED ACCOUNT_ERASED): the revocation wins once that has passed.
    answers: list[tuple[grpc.StatusCode, str]] = []

    def revoked() -> bool:
        answers.append(refused(lambda: lee_on_a.start_conversation([kim.account_id])))
        return answers[-1] == (grpc.StatusCode.UNAUTHENTICATED, "SESSION_REVOKED")

    wait_for(revoked, timeout=10 * RECHECK, what="A never answered SESSION_REVOKED")
    assert set(answers) <= {
        (grpc.StatusCode.UNAUTHENTICATED, "SESSION_REVOKED"),
        (grpc.StatusCode.PERMISSION_DENIED, "ACCOUNT_ERASED"),
    }
