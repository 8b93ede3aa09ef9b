"""A youth club on a real platform: its admin, a vetted practitioner and a young person set up
through identity's RPCs (device keys, as apps do), invitations for the staff who enrol their
passkeys in the console, and a report of the practitioner's franked messages."""

from __future__ import annotations

import uuid
from pathlib import Path

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_proto.hearth.safety.v1 import safety_pb2 as pb
from hearth_proto.hearth.safety.v1 import safety_pb2_grpc
from hearth_runtime.admin import invite_org_admin
from hearth_runtime.platform import Platform
from hearth_sdk.channel import connect
from hearth_sdk.identity import IdentityClient
from hearth_sdk.messaging import MessagingDevice
from hearth_sdk.safety_report import gather_report, send_report

GROOMING = [
    "you're so mature for your age, not like the others at club",
    "this is just between us ok? don't tell the other leaders",
    "delete these messages after you read them",
]


class Club:
    def __init__(self, platform: Platform, devices: Path) -> None:
        self.platform = platform
        self.devices = devices
        self.identity_channel = connect(platform.endpoint("identity"))
        self.identity = identity_pb2_grpc.IdentityServiceStub(self.identity_channel)
        self.safety = safety_pb2_grpc.SafetyServiceStub(connect(platform.endpoint("safety")))
        self.admin = self.person(
            "admin",
            identity_pb2.ROLE_ORG_ADMIN,
            invite_org_admin(self.identity_channel, platform.signer, "Northfield Youth Club").code,
        )
        (self.organisation,) = self.admin.account().organisations
        self.rob = self.person(
            "rob", identity_pb2.ROLE_PRACTITIONER, self.invitation(identity_pb2.ROLE_PRACTITIONER)
        )
        self.identity.VetPractitioner(
            identity_pb2.VetPractitionerRequest(
                organisation_id=self.organisation, account_id=self.rob.account_id
            ),
            metadata=self.admin.metadata(),
        )
        self.ava = self.person("ava", identity_pb2.ROLE_YOUNG_PERSON)
        self.identity.AddOrganisationMember(
            identity_pb2.AddOrganisationMemberRequest(
                organisation_id=self.organisation, account_id=self.ava.account_id
            ),
            metadata=self.admin.metadata(),
        )

    def person(
        self, name: str, role: identity_pb2.Role.ValueType, code: str = ""
    ) -> IdentityClient:
        client = IdentityClient(self.identity_channel, self.devices / f"{name}.json")
        client.register(role, display_name=name, invitation_code=code)
        client.login()
        client.accept_house_rules()
        return client

    def invitation(self, role: identity_pb2.Role.ValueType) -> str:
        request = identity_pb2.InviteStaffRequest(organisation_id=self.organisation, role=role)
        code = self.identity.InviteStaff(request, metadata=self.admin.metadata()).invitation_code
        return str(code)

    def name_lead(self, lead: str) -> None:
        self.safety.NameSafeguardingLead(
            pb.NameSafeguardingLeadRequest(
                request_id=str(uuid.uuid4()),
                organisation_id=self.organisation,
                lead_account_id=lead,
            ),
            metadata=self.admin.metadata(),
        )

    def settle(self) -> None:
        """Safety learns accounts and devices only from the streams: wait until it caught up."""
        hosts = self.platform.hosts
        for upstream, follower, i in (("identity", "safety", 0), ("messaging", "safety", 1)):
            last = hosts[upstream].parts.applications[0].recorder.max_notification_id()
            if last:
                hosts[follower].parts.followers[i].wait_until(last, timeout=20)

    def report_grooming(self) -> pb.ReportMessageResponse:
        """Rob messages Ava; her device reports the last message with the others as context."""
        messaging = self.platform.endpoint("messaging")
        rob = MessagingDevice(connect(messaging), self.rob.login(), self.rob.account_id)
        rob.publish(5)
        ava = MessagingDevice(connect(messaging), self.ava.login(), self.ava.account_id)
        ava.publish(5)
        talk = rob.start_conversation([self.ava.account_id]).conversation_id
        for text in GROOMING:
            rob.send(talk, text.encode())
        received = ava.receive(len(GROOMING))
        self.settle()
        evidence = gather_report(
            self.ava.account_id, received[-1].message_id, received, category="grooming"
        )
        filed: pb.ReportMessageResponse = send_report(
            connect(self.platform.endpoint("safety")),
            self.ava.login(),
            evidence,
            note="he wants me to keep secrets",
        )
        return filed
