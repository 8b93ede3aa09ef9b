"""The staff and members of one organisation, with a safety stub, for the service tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from hearth_proto.hearth.safety.v1 import safety_pb2_grpc
from hearth_safety.application import Safety
from hearth_sdk.channel import bearer, connect
from hearth_sdk.errors import error_info
from tests.messaging.support import People
from tests.support.streams import read_stream

TEEN = ("young_person", "13_15")


class Team:
    """The accounts of one organisation and a safety stub for each."""

    def __init__(self, people: People, org: str) -> None:
        self.people = people
        self.org = org
        self.channel = connect(people.platform.endpoint("safety"))
        self.stub = safety_pb2_grpc.SafetyServiceStub(self.channel)
        self.child = people.account(*TEEN, orgs=(org,))
        self.adult = people.account("practitioner", "18_plus", orgs=(org,), vetted=True)
        self.moderator = people.account("moderator", "18_plus", orgs=(org,))
        self.other_moderator = people.account("moderator", "18_plus", orgs=(org,))
        self.lead = people.account("safeguarding_lead", "18_plus", orgs=(org,))
        self.admin = people.account("org_admin", "18_plus", orgs=(org,))
        people.settle()

    def token(self, account: str) -> str:
        role = {
            self.child: "young_person",
            self.adult: "practitioner",
            self.lead: "safeguarding_lead",
            self.admin: "org_admin",
        }.get(account, "moderator")
        band = "13_15" if account == self.child else "18_plus"
        return self.people.token(account, role, band, (self.org,))

    def call(self, account: str, method: str, request: object) -> Any:
        return getattr(self.stub, method)(request, metadata=bearer(self.token(account)))


def rid() -> str:
    return str(uuid.uuid4())


def refusal(call: Callable[[], object]) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    with pytest.raises(grpc.RpcError) as failure:
        call()
    info = error_info(failure.value)
    assert info is not None, failure.value
    return failure.value.code(), info.reason, dict(info.metadata)


def safety_app(people: People) -> Safety:
    app = people.platform.hosts["safety"].parts.applications[0]
    assert isinstance(app, Safety)
    return app


def safety_stream(people: People, environ: dict[str, str]) -> int:
    return len(read_stream(people.platform.nats_url, environ["HEARTH_SAFETY_STREAM"]))
