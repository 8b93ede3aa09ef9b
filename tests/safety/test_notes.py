"""Case notes over real NATS and gRPC: added by the moderator on the case and read back,
once per request; refused for anyone else with nothing recorded; sealed under the case key
in the stream; and each read of them recorded as an event."""

from __future__ import annotations

import uuid
from functools import partial

import grpc
import pytest

from hearth_proto.hearth.safety.v1 import safety_pb2 as pb
from tests.messaging.support import People
from tests.safety.team import TEEN, Team, refusal, rid, safety_app
from tests.support.streams import read_stream

ORG = "org-" + uuid.uuid4().hex[:8]
NOTE = "spoke to the school: the DSL knows; watch for a move to another app"


@pytest.fixture(scope="module")
def team(people: People) -> Team:
    return Team(people, ORG)


@pytest.fixture(scope="module")
def case_id(people: People, team: Team) -> str:
    """A concern about a teenager, assigned by the lead to the moderator."""
    teen = people.account(*TEEN, orgs=(ORG,))
    people.settle()
    concern = team.call(
        team.child,
        "RaiseConcern",
        pb.RaiseConcernRequest(request_id=rid(), note="he is pushy", subject_account_id=teen),
    )
    team.call(
        team.lead,
        "AssignCase",
        pb.AssignCaseRequest(
            request_id=rid(), case_id=concern.case_id, moderator_account_id=team.moderator
        ),
    )
    return str(concern.case_id)


def stream(people: People, environ: dict[str, str]) -> list[bytes]:
    return [m.data for m in read_stream(people.platform.nats_url, environ["HEARTH_SAFETY_STREAM"])]


def test_the_assigned_moderator_adds_a_note_once_per_request_and_reads_it_back_recorded(
    people: People, team: Team, case_id: str, environ: dict[str, str]
) -> None:
    request = pb.AddCaseNoteRequest(request_id=rid(), case_id=case_id, note=NOTE)
    assert team.call(team.moderator, "AddCaseNote", request).notes == 1
    assert team.call(team.moderator, "AddCaseNote", request).notes == 1  # the same request
    case = team.call(team.moderator, "GetCase", pb.GetCaseRequest(case_id=case_id))
    assert case.notes == 1

    raw = stream(people, environ)
    assert not any(NOTE.encode() in data for data in raw)  # sealed: ciphertext only
    assert not any(b"DSL knows" in data for data in raw)

    read = team.call(
        team.moderator, "ReadCaseNotes", pb.ReadCaseNotesRequest(request_id=rid(), case_id=case_id)
    )
    assert [(n.by, n.text) for n in read.notes] == [(team.moderator, NOTE)]
    after = read_stream(people.platform.nats_url, environ["HEARTH_SAFETY_STREAM"])
    assert len(after) == len(raw) + 1  # the read is an event
    assert b"NotesRead" in after[-1].data
    case = safety_app(people)._case_by_id(case_id)
    assert [(by, what) for by, what, _ in case.reads] == [(team.moderator, "notes")]

    lead_read = team.call(
        team.lead, "ReadCaseNotes", pb.ReadCaseNotesRequest(request_id=rid(), case_id=case_id)
    )
    assert [n.text for n in lead_read.notes] == [NOTE]  # the lead reads any case


def test_notes_are_refused_to_anyone_not_on_the_case_and_nothing_is_recorded(
    people: People, team: Team, case_id: str, environ: dict[str, str]
) -> None:
    before = stream(people, environ)
    for method, request in (
        ("AddCaseNote", pb.AddCaseNoteRequest(request_id=rid(), case_id=case_id, note="mine")),
        ("ReadCaseNotes", pb.ReadCaseNotesRequest(request_id=rid(), case_id=case_id)),
    ):
        call = partial(team.call, team.other_moderator, method, request)
        code, reason, _ = refusal(call)
        assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_ASSIGNED")
    code, reason, _ = refusal(
        lambda: team.call(
            team.moderator,
            "AddCaseNote",
            pb.AddCaseNoteRequest(request_id=rid(), case_id=str(uuid.uuid4()), note="x"),
        )
    )
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "CASE_NOT_FOUND")
    code, reason, _ = refusal(
        lambda: team.call(
            team.moderator,
            "AddCaseNote",
            pb.AddCaseNoteRequest(request_id=rid(), case_id=case_id, note="x" * 100_000),
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert stream(people, environ) == before  # the raw stream is unchanged
