"""Recorded practitioner conversations end to end on real identity, messaging and audit services
over a real nats-server: the keeper requirement, both people told, the keeper keeping each
message sealed with its digest in the log, subject access, case reads, a disclosure approved
by the lead and the data protection officer as an evidence package `hearth-audit verify`
checks (and fails when tampered), and retention destroying the records as an event."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest

from hearth_audit.cli import main as hearth_audit
from hearth_crypto.case_record import RecordKeyDestroyed
from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_proto.hearth.messaging.v1 import messaging_pb2 as pb
from hearth_runtime.admin import operator_metadata
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_sdk.channel import connect
from hearth_sdk.errors import error_info
from hearth_sdk.identity import IdentityClient
from hearth_sdk.keeper import RecordKeeper, RecordsRequest
from hearth_sdk.messaging import MessagingDevice
from tests.conftest import stream_environ, unique_name
from tests.support.streams import read_stream

APPS = ("identity", "age", "messaging", "audit")
SECRET = b"I told my teacher about the bruises"


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    prefix = unique_name("rec")
    environ = {
        **stream_environ(prefix, *APPS),
        "HEARTH_MESSAGING_MAILBOX_STREAM": f"{prefix}_MAILBOX".upper(),
        "HEARTH_MESSAGING_MAILBOX_SUBJECT_PREFIX": f"{prefix}.mailbox",
        "HEARTH_AUDIT_FOLLOW": "identity,messaging",
        "HEARTH_AUDIT_CHECKPOINT_INTERVAL": "0.2",
        "HEARTH_LOG_LEVEL": "ERROR",
    }
    platform = Platform(
        tmp_path_factory.mktemp("records"),
        services=["identity", "messaging", "audit"],
        environ=environ,
        nats_url=nats_server.url,
    ).start()
    yield platform
    platform.stop()


def refused(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    info = error_info(caught.value)
    return caught.value.code(), info.reason if info else ""


@dataclass
class Organisation:
    """An organisation with a keeper, a practitioner, a young person, a lead and a DPO."""

    platform: Platform
    directory: Path
    organisation_id: str
    people: dict[str, IdentityClient]
    keeper: RecordKeeper

    def device(self, name: str) -> MessagingDevice:
        client = self.people[name]
        device = MessagingDevice(
            connect(self.platform.endpoint("messaging")),
            client.login(),
            client.account_id,
            address=self.platform.endpoint("messaging"),
        )
        device.publish(5)
        return device

    def audit(self, name: str) -> tuple[audit_pb2_grpc.AuditServiceStub, tuple[tuple[str, str]]]:
        stub = audit_pb2_grpc.AuditServiceStub(connect(self.platform.endpoint("audit")))
        return stub, (("authorization", f"Bearer {self.people[name].login()}"),)

    def settle(self) -> None:
        """Wait until messaging has taken in identity's events, and audit messaging's."""
        for upstream, follower, index in (
            ("identity", "messaging", 0),
            ("messaging", "audit", 1),
        ):
            recorder = self.platform.hosts[upstream].parts.applications[0].recorder
            last = recorder.max_notification_id() or 0
            if last:
                self.platform.hosts[follower].parts.followers[index].wait_until(last, timeout=20)


def organisation(platform: Platform, directory: Path, *, with_keeper: bool = True) -> Organisation:
    channel = connect(platform.endpoint("identity"))
    stub = identity_pb2_grpc.IdentityServiceStub(channel)
    operator = operator_metadata(platform.signer)

    def invite(by: tuple[tuple[str, str]], role: identity_pb2.Role.ValueType, org: str = "") -> str:
        request = identity_pb2.InviteStaffRequest(
            organisation_id=org, role=role, organisation_name="" if org else "Riverside Youth"
        )
        return str(stub.InviteStaff(request, metadata=by).invitation_code)

    def person(
        name: str, role: identity_pb2.Role.ValueType, invitation: str = ""
    ) -> IdentityClient:
        client = IdentityClient(channel, directory / f"{name}.json")
        client.register(role, display_name=name, invitation_code=invitation)
        client.login()
        if role != identity_pb2.ROLE_RECORD_KEEPER:
            rules = stub.GetHouseRules(
                identity_pb2.GetHouseRulesRequest(), metadata=client.metadata()
            )
            stub.AcceptHouseRules(
                identity_pb2.AcceptHouseRulesRequest(version=rules.version),
                metadata=client.metadata(),
            )
        return client

    admin = person(
        "admin", identity_pb2.ROLE_ORG_ADMIN, invite(operator, identity_pb2.ROLE_ORG_ADMIN)
    )
    org = admin.account().organisations[0]
    people = {"admin": admin}
    for name, role in (
        ("worker", identity_pb2.ROLE_PRACTITIONER),
        ("other_worker", identity_pb2.ROLE_PRACTITIONER),
        ("lead", identity_pb2.ROLE_SAFEGUARDING_LEAD),
        ("dpo", identity_pb2.ROLE_DATA_PROTECTION_OFFICER),
        ("lead2", identity_pb2.ROLE_SAFEGUARDING_LEAD),
    ):
        people[name] = person(name, role, invite(admin.metadata(), role, org))
    if with_keeper:
        role = identity_pb2.ROLE_RECORD_KEEPER
        people["keeper"] = person("keeper", role, invite(admin.metadata(), role, org))
    people["young"] = person("young", identity_pb2.ROLE_YOUNG_PERSON)
    people["young2"] = person("young2", identity_pb2.ROLE_YOUNG_PERSON)
    for name in ("worker", "other_worker"):
        stub.VetPractitioner(
            identity_pb2.VetPractitionerRequest(
                organisation_id=org, account_id=people[name].account_id
            ),
            metadata=admin.metadata(),
        )
    for name in ("young", "young2"):
        stub.AddOrganisationMember(
            identity_pb2.AddOrganisationMemberRequest(
                organisation_id=org, account_id=people[name].account_id
            ),
            metadata=admin.metadata(),
        )
    keeper_client = people.get("keeper")
    keeper = RecordKeeper(
        connect(platform.endpoint("messaging")),
        keeper_client.session if keeper_client else "",
        keeper_client.account_id if keeper_client else "",
        org,
        audit_channel=connect(platform.endpoint("audit")),
        state_dir=directory / "keeper",
        address=platform.endpoint("messaging"),
    )
    result = Organisation(platform, directory, org, people, keeper)
    result.settle()
    return result


@dataclass
class Story:
    org: Organisation
    conversation: pb.Conversation
    worker: MessagingDevice
    young: MessagingDevice
    kept: list[str]
    before: dict[str, list[tuple[int, str, bytes]]]


def raw(platform: Platform) -> dict[str, list[tuple[int, str, bytes]]]:
    streams = [
        platform.environ[f"HEARTH_{app.upper()}_STREAM"]
        for app in ("identity", "messaging", "audit")
    ]
    stream = platform.environ["HEARTH_MESSAGING_STREAM"]
    streams += [f"KV_{stream}_RECORDS", platform.environ["HEARTH_MESSAGING_MAILBOX_STREAM"]]
    streams += [f"KV_{platform.environ['HEARTH_IDENTITY_STREAM']}_SUBJECT_KEYS"]
    return {
        s: [(m.sequence, m.subject, m.data) for m in read_stream(platform.nats_url, s)]
        for s in streams
    }


@pytest.fixture(scope="module")
def story(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Story:
    org = organisation(platform, tmp_path_factory.mktemp("org"))
    keeper_id = org.people["keeper"].account_id
    young_id = org.people["young"].account_id
    # Before the keeper published its device: refusals first, and they record nothing.
    worker, young, young2 = org.device("worker"), org.device("young"), org.device("young2")
    org.keeper.publish()
    org.settle()
    before = raw(platform)
    code, reason = refused(lambda: worker.start_conversation([young_id]))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "RECORD_KEEPER_REQUIRED")
    # A keeper in a conversation its organisation does not record (no practitioner) is refused.
    code, reason = refused(
        lambda: young2.start_conversation([young_id, keeper_id], pb.CONVERSATION_KIND_GROUP)
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "RECORD_KEEPER_NOT_RECORDING")
    after = raw(platform)
    audit = platform.environ["HEARTH_AUDIT_STREAM"]  # signs checkpoints on its own clock
    assert {k: v for k, v in after.items() if k != audit} == {
        k: v for k, v in before.items() if k != audit
    }, "a refusal recorded something"

    conversation = worker.start_conversation([young_id, keeper_id])
    # The relay refuses a message that leaves the keeper's device out.
    devices = [
        d
        for d in worker.recipient_devices(conversation.conversation_id)
        if d != org.keeper.device.device_id
    ]
    code, reason = refused(
        lambda: worker.send(conversation.conversation_id, b"hi", devices=devices)
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "RECORD_KEEPER_REQUIRED")

    worker.send(conversation.conversation_id, b"Hello, it's Sam from Riverside. How are you?")
    young.receive(1)
    young.send(conversation.conversation_id, SECRET)
    worker.receive(1)
    kept = org.keeper.keep_new(2, timeout=10)
    org.settle()
    return Story(org, conversation, worker, young, kept, before)


def test_both_people_are_told_before_the_first_message_who_can_read_the_record(
    story: Story,
) -> None:
    for device in (story.worker, story.young):
        seen = device.stub.GetConversation(
            pb.GetConversationRequest(conversation_id=story.conversation.conversation_id),
            metadata=device.metadata,
        ).conversation
        assert seen.recording.keeper_account_id == story.org.people["keeper"].account_id
        assert seen.recording.organisation_id == story.org.organisation_id
        assert "recorded" in seen.recording.notice
        assert any("subject access" in r for r in seen.recording.readers)
        assert any("data protection officer" in r for r in seen.recording.readers)
    # Already on the answer that created it, before anything was sent.
    assert story.conversation.recording.keeper_account_id


def test_the_keeper_keeps_each_message_and_the_log_holds_only_digests_and_ciphertext(
    story: Story, platform: Platform
) -> None:
    assert len(story.kept) == 2
    records = story.org.keeper.read_records(story.org.people["young"].account_id)
    assert [r.body for r in records][1] == SECRET
    keys = json.loads((story.org.directory / "keeper" / "record-keys.json").read_text())["keys"]
    everything = b"".join(data for messages in raw(platform).values() for _, _, data in messages)
    assert SECRET not in everything
    assert b"bruises" not in everything
    for key in keys.values():
        assert key.encode() not in everything
        assert __import__("base64").b64decode(key) not in everything
    digests = [r.digest() for r in records]
    messaging = raw(platform)[platform.environ["HEARTH_MESSAGING_STREAM"]]
    assert all(any(d in data for _, _, data in messaging) for d in digests)


def test_subject_access_and_a_practitioners_own_case_are_answered_end_to_end_and_recorded(
    story: Story, platform: Platform
) -> None:
    org = story.org
    young_id = org.people["young"].account_id
    channel = connect(platform.endpoint("messaging"))

    def ask(name: str) -> RecordsRequest:
        request = RecordsRequest(channel, org.people[name].login())
        request.ask(org.organisation_id, young_id)
        return request

    mine, case = ask("young"), ask("worker")
    assert (mine.purpose, case.purpose) == ("subject_access", "case")
    assert mine.due_at is not None and 29 <= (mine.due_at - datetime.now(UTC)).days <= 30
    assert mine.answer() is None  # not answered yet
    # Another practitioner of the organisation was in no conversation with this young person;
    # another young person cannot ask for this one's records.
    for name in ("other_worker", "young2"):
        code, reason = refused(lambda name=name: ask(name))  # type: ignore[misc]
        assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_CASE")
    assert sorted(org.keeper.answer_requests()) == sorted(
        [mine.access_request_id, case.access_request_id]
    )
    records = mine.answer()
    assert records is not None and [r.body for r in records][1] == SECRET
    assert case.answer() == records  # the worker was in the one conversation
    # Nobody else fetches an answer.
    stranger = RecordsRequest(channel, org.people["young2"].login())
    stranger.organisation_id, stranger.access_request_id = (
        org.organisation_id,
        mine.access_request_id,
    )
    assert refused(stranger.answer)[0] == grpc.StatusCode.PERMISSION_DENIED
    stream = platform.environ["HEARTH_MESSAGING_STREAM"]
    reads = [d for _, _, d in read_stream_data(platform, stream) if b"CaseRecordsRead" in d]
    assert len(reads) >= 2  # the subject access and the worker's case read
    everything = b"".join(d for messages in raw(platform).values() for _, _, d in messages)
    assert SECRET not in everything


def read_stream_data(platform: Platform, stream: str) -> list[tuple[int, str, bytes]]:
    return [(m.sequence, m.subject, m.data) for m in read_stream(platform.nats_url, stream)]


def test_disclosure_needs_both_roles_by_different_accounts_and_the_package_verifies(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org, keeper = story.org, story.org.keeper
    young_id = org.people["young"].account_id
    disclosure = keeper.request_disclosure(
        young_id,
        recipient="HM Senior Coroner",
        legal_basis="Coroners and Justice Act 2009, Sch. 5",
        reason="inquest",
    )
    assert 29 <= (disclosure.due_at - datetime.now(UTC)).days <= 30

    def package() -> dict[str, Any]:
        return keeper.disclosure_package(disclosure, young_id, recipient="HM Senior Coroner")

    # No approval: nothing (audit refuses the bundle, the keeper decrypts nothing).
    assert refused(package)[0] == grpc.StatusCode.FAILED_PRECONDITION
    lead, lead_md = org.audit("lead")
    request = audit_pb2.ApproveDisclosureRequest(
        request_id="a1", disclosure_id=disclosure.disclosure_id
    )
    approved = lead.ApproveDisclosure(request, metadata=lead_md)
    assert not approved.approved and 29 <= approved.days_left <= 30
    # The same account again, or a second lead: still one role.
    lead.ApproveDisclosure(request, metadata=lead_md)
    lead2, lead2_md = org.audit("lead2")
    assert refused(lambda: lead2.ApproveDisclosure(request, metadata=lead2_md))[0] == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert refused(package)[0] == grpc.StatusCode.FAILED_PRECONDITION
    dpo, dpo_md = org.audit("dpo")
    assert dpo.ApproveDisclosure(request, metadata=dpo_md).approved

    document = package()
    assert len(document["records"]) == 2
    path = tmp_path / "package.json"
    path.write_text(json.dumps(document))
    assert hearth_audit(["verify", str(path)]) == 0
    assert "none added, altered or left out" in capsys.readouterr().out

    def fails(change: Callable[[dict[str, Any]], None], check: str) -> None:
        tampered = copy.deepcopy(document)
        change(tampered)
        path.write_text(json.dumps(tampered))
        assert hearth_audit(["verify", str(path), "--json"]) == 1
        assert json.loads(capsys.readouterr().out)["failed"] == check

    def alter(d: dict[str, Any]) -> None:
        d["records"][1]["body"] = __import__("base64").b64encode(b"nothing happened").decode()

    def remove(d: dict[str, Any]) -> None:
        d["records"].pop(1)

    def add(d: dict[str, Any]) -> None:
        extra = dict(d["records"][0])
        extra["message_id"] = "00000000-0000-4000-8000-000000000000"
        d["records"].append(extra)

    fails(alter, "altered")
    fails(remove, "left out")
    fails(add, "added")

    # Outside its scope: a package limited to the second message leaves the first out, and
    # putting it back in is an addition the verifier refuses.
    second = document["records"][1]["relayed_at_ms"]
    narrow = keeper.disclosure_package(disclosure, young_id, from_ms=second)
    assert [r["relayed_at_ms"] for r in narrow["records"]] == [second]
    path.write_text(json.dumps(narrow))
    assert hearth_audit(["verify", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["records_out_of_scope"] == 1
    narrow["records"].insert(0, document["records"][0])
    path.write_text(json.dumps(narrow))
    assert hearth_audit(["verify", str(path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["failed"] == "added"
    # A keeper cannot ask audit for anything but a record book (here, an account's trail).
    code = refused(
        lambda: keeper.audit.RequestDisclosure(
            audit_pb2.RequestDisclosureRequest(
                request_id="not-a-book", pseudonym=young_id, reason="curiosity"
            ),
            metadata=keeper.metadata,
        )
    )[0]
    assert code == grpc.StatusCode.PERMISSION_DENIED


def test_retention_destroys_the_records_as_an_event_and_they_are_unreadable(
    story: Story, platform: Platform
) -> None:
    keeper = story.org.keeper
    young_id = story.org.people["young"].account_id
    keeper.note_birth_date(young_id, date(2011, 5, 1))
    assert keeper.apply_retention(datetime(2030, 1, 1, tzinfo=UTC)) == []
    assert keeper.apply_retention(datetime(2036, 6, 1, tzinfo=UTC)) == [young_id]
    with pytest.raises(RecordKeyDestroyed):
        keeper.read_records(young_id)
    stream = platform.environ["HEARTH_MESSAGING_STREAM"]
    assert any(b"CaseRecordsDestroyed" in d for _, _, d in read_stream_data(platform, stream))
    bucket = f"KV_{stream}_RECORDS"
    time.sleep(0.2)
    live = [m for m in read_stream(platform.nats_url, bucket) if m.data]
    assert live == [], "sealed copies survive destruction"
