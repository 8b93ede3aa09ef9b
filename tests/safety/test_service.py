"""The safety service over real NATS and gRPC, beside real messaging: a report verified
against the relay keys from messaging's stream, a case, assignment, escalation, a suspension
that messaging enforces, and each bad input refused with its reason and nothing recorded."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

import grpc
import pytest

from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_proto.hearth.safety.v1 import safety_pb2 as pb
from hearth_proto.hearth.safety.v1 import safety_pb2_grpc
from hearth_runtime.errors import Conflict
from hearth_runtime.sessions import Session
from hearth_safety.application import Safety
from hearth_safety.domain import Category
from hearth_safety.facts import KnownDevice
from hearth_sdk.channel import bearer, connect
from hearth_sdk.errors import error_info
from hearth_sdk.messaging import MessagingDevice
from hearth_sdk.safety_report import ReportEvidence, gather_report, report_request, send_report
from tests.messaging.support import People
from tests.safety.conftest import PLATFORM_ORG
from tests.safety.team import TEEN, Team, refusal, rid, safety_app, safety_stream
from tests.support.polling import wait_for

ORG = "org-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def team(people: People) -> Team:
    return Team(people, ORG)


@pytest.fixture(scope="module")
def talk(people: People, team: Team) -> tuple[MessagingDevice, MessagingDevice, ReportEvidence]:
    """The adult messages the child; the child gathers a grooming report of the last one."""
    adult = people.device(team.adult, "practitioner", "18_plus", (ORG,))
    child = people.device(team.child, *TEEN, (ORG,))
    conversation = adult.start_conversation([team.child]).conversation_id
    for i in range(6):
        adult.send(conversation, f"message {i}: you can tell me anything".encode())
    received = child.receive(6)
    app = safety_app(people)
    wait_for(lambda: app._get(KnownDevice, KnownDevice.create_id(child.device_id)) is not None)
    evidence = gather_report(team.child, received[-1].message_id, received, category="grooming")
    return adult, child, evidence


def test_a_report_verifies_opens_a_case_assigned_and_escalated_and_a_suspension_stops_sending(
    people: People, team: Team, talk: tuple[MessagingDevice, MessagingDevice, ReportEvidence]
) -> None:
    adult, _, evidence = talk
    team.call(
        team.admin,
        "NameSafeguardingLead",
        pb.NameSafeguardingLeadRequest(
            request_id=rid(), organisation_id=ORG, lead_account_id=team.lead
        ),
    )
    shift = team.call(
        team.moderator, "StartShift", pb.StartShiftRequest(request_id=rid(), organisation_id=ORG)
    )
    channel = connect(people.platform.endpoint("safety"))
    filed = send_report(channel, team.token(team.child), evidence, note="he keeps asking")
    assert filed.severity == "high"  # grooming, an adult and a child
    assert "999" in filed.who_will_see_it and "secret" in filed.who_will_see_it
    again = send_report(channel, team.token(team.child), evidence)
    assert (again.report_id, again.case_id) == (filed.report_id, filed.case_id)  # idempotent

    case = team.call(team.moderator, "GetCase", pb.GetCaseRequest(case_id=filed.case_id))
    assert case.assigned_to == team.moderator  # the rotation: the one moderator on shift
    assert case.subject_account_id == team.adult
    queue = team.call(team.lead, "ListQueue", pb.ListQueueRequest(organisation_id=ORG))
    assert filed.case_id in [c.case_id for c in queue.cases]
    queued = next(c for c in queue.cases if c.case_id == filed.case_id)
    assert queued.category == "grooming"  # the opening report's

    content = team.call(
        team.moderator,
        "ReadReportedContent",
        pb.ReadReportedContentRequest(
            request_id=rid(), case_id=filed.case_id, report_id=filed.report_id
        ),
    )
    assert len(content.messages) == 6 and content.note == "he keeps asking"
    assert content.messages[-1].body == b"message 5: you can tell me anything"
    code, reason, _ = refusal(
        lambda: team.call(
            team.other_moderator,
            "ReadReportedContent",
            pb.ReadReportedContentRequest(
                request_id=rid(), case_id=filed.case_id, report_id=filed.report_id
            ),
        )
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_ASSIGNED")

    code, reason, _ = refusal(
        lambda: team.call(
            team.moderator,
            "TakeAction",
            pb.TakeActionRequest(
                request_id=rid(),
                case_id=filed.case_id,
                kind="suspend",
                account_ids=[team.adult],
                reason="grooming",
            ),
        )
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NEEDS_SAFEGUARDING_LEAD")
    escalated = team.call(
        team.moderator,
        "EscalateCase",
        pb.EscalateCaseRequest(request_id=rid(), case_id=filed.case_id, reason="adult grooming"),
    )
    assert (escalated.escalated_to, escalated.as_role) == (team.lead, "lead")

    suspension = team.call(
        team.lead,
        "TakeAction",
        pb.TakeActionRequest(
            request_id=rid(),
            case_id=filed.case_id,
            kind="suspend",
            account_ids=[team.adult],
            reason="grooming a child, escalated by the moderator",
        ),
    )
    team.call(
        team.lead,
        "TakeAction",
        pb.TakeActionRequest(
            request_id=rid(),
            case_id=filed.case_id,
            kind="refer",
            account_ids=[team.adult],
            referral="police",
            reason="grooming",
        ),
    )
    conversation = evidence.conversation_id

    def refused_as_suspended() -> bool:
        try:
            adult.send(conversation, b"are you there?")
        except grpc.RpcError as e:
            info = error_info(e)
            return e.code() == grpc.StatusCode.PERMISSION_DENIED and bool(
                info and info.reason == "ACCOUNT_SUSPENDED"
            )
        return False

    wait_for(refused_as_suspended, timeout=20)
    restrictions = team.call(
        team.lead, "GetAccountRestrictions", pb.GetAccountRestrictionsRequest(account_id=team.adult)
    )
    assert [a.kind for a in restrictions.actions] == ["suspend"]

    team.call(
        team.lead,
        "LiftAction",
        pb.LiftActionRequest(
            request_id=rid(),
            case_id=filed.case_id,
            action_id=suspension.action_id,
            reason="police have the case; account kept for evidence",
        ),
    )

    def sends_again() -> bool:
        try:
            adult.send(conversation, b"lifted")
        except grpc.RpcError:
            return False
        return True

    wait_for(sends_again, timeout=20)

    # Audit followed safety: the regulator's figures count the report by category, the
    # referral, and time to first action.
    audit = audit_pb2_grpc.AuditServiceStub(connect(people.platform.endpoint("audit")))
    auditor = people.token(str(uuid.uuid4()), "auditor")

    def figures() -> audit_pb2.GetTransparencyFiguresResponse:
        answer: audit_pb2.GetTransparencyFiguresResponse = audit.GetTransparencyFigures(
            audit_pb2.GetTransparencyFiguresRequest(), metadata=bearer(auditor)
        )
        return answer

    def counted() -> bool:
        kinds = {c.kind for c in figures().counts}
        return "hearth.safety.v1.CaseActionLifted" in kinds

    wait_for(counted, timeout=20)
    answer = figures()
    counts = {c.kind: c.count for c in answer.counts if c.stream == "safety"}
    assert counts["hearth.safety.v1.ReportReceived/category=grooming"] == 1
    assert counts["hearth.safety.v1.CaseActionTaken/referral=police"] == 1
    assert counts["hearth.safety.v1.CaseActionTaken/action=suspend"] == 1
    (first_action,) = [d for d in answer.durations if d.stream == "safety"]
    assert first_action.kind == "hearth.safety.v1.CaseActionTaken" and first_action.count == 1
    assert 0 < first_action.median_ms == first_action.p90_ms < 120_000

    team.call(
        team.moderator,
        "EndShift",
        pb.EndShiftRequest(
            request_id=rid(), shift_id=shift.shift_id, pattern="cumulative", risks="grooming"
        ),
    )


def test_a_concern_held_on_shift_must_be_reported_before_the_shift_ends(
    team: Team, talk: tuple[MessagingDevice, MessagingDevice, ReportEvidence]
) -> None:
    concern = team.call(
        team.child,
        "RaiseConcern",
        pb.RaiseConcernRequest(request_id=rid(), note="I'm worried about my friend"),
    )
    assert "safeguarding lead" in concern.who_will_see_it
    shift = team.call(
        team.other_moderator,
        "StartShift",
        pb.StartShiftRequest(request_id=rid(), organisation_id=ORG),
    )
    team.call(
        team.lead,
        "AssignCase",
        pb.AssignCaseRequest(
            request_id=rid(), case_id=concern.case_id, moderator_account_id=team.other_moderator
        ),
    )
    held = team.call(
        team.other_moderator,
        "RecordShiftConcern",
        pb.RecordShiftConcernRequest(
            request_id=rid(), shift_id=shift.shift_id, case_id=concern.case_id
        ),
    )
    end = pb.EndShiftRequest(
        request_id=rid(), shift_id=shift.shift_id, pattern="isolated", risks="worried friend"
    )
    code, reason, _ = refusal(lambda: team.call(team.other_moderator, "EndShift", end))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "UNREPORTED_CONCERN")
    told = team.call(
        team.other_moderator,
        "ReportConcernToLead",
        pb.ReportConcernToLeadRequest(
            request_id=rid(), shift_id=shift.shift_id, concern_id=held.concern_id
        ),
    )
    assert told.reported_to == team.lead
    team.call(team.other_moderator, "EndShift", end)


def test_outside_moderation_hours_the_app_is_told_to_call_childline(team: Team) -> None:
    closed_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][
        (datetime.now(UTC) + timedelta(days=3)).weekday()
    ]

    def hours(periods: str) -> object:
        return team.call(
            team.admin,
            "UpdateOrganisationSettings",
            pb.UpdateOrganisationSettingsRequest(
                request_id=rid(),
                organisation_id=ORG,
                time_zone="UTC",
                schedule={closed_day: periods},
            ),
        )

    # An hour a week cannot meet a 72-hour deadline within half a year.
    code, reason, _ = refusal(lambda: hours("09:00-10:00"))
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SETTINGS")
    hours("08:00-20:00")
    status = team.call(team.child, "GetSupportStatus", pb.GetSupportStatusRequest())
    assert not status.open_now
    assert "0800 1111" in status.message and "999" in status.message
    assert {s.phone for s in status.signposts} == {"0800 1111", "999"}


def test_bad_reports_are_refused_naming_the_check_and_record_nothing(
    people: People,
    team: Team,
    environ: dict[str, str],
    talk: tuple[MessagingDevice, MessagingDevice, ReportEvidence],
) -> None:
    _, _, evidence = talk
    before = safety_stream(people, environ)

    def report(e: ReportEvidence, account: str = team.child) -> object:
        return team.call(account, "ReportMessage", report_request(e))

    altered = replace(evidence, reported=replace(evidence.reported, body=b"something else"))
    code, reason, meta = refusal(lambda: report(altered))
    assert (code, reason, meta["check"]) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "REPORT_NOT_VERIFIED",
        "commitment",
    )
    forged = replace(evidence, reported=replace(evidence.reported, franking_stamp=bytes(64)))
    code, reason, meta = refusal(lambda: report(forged))
    assert (code, meta["check"]) == (grpc.StatusCode.INVALID_ARGUMENT, "signature")
    foreign = replace(
        evidence,
        context=(
            *evidence.context[:-1],
            replace(evidence.context[-1], conversation_id=str(uuid.uuid4())),
        ),
    )
    code, reason, meta = refusal(lambda: report(foreign))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and meta["message"] == str(
        len(evidence.context) - 1
    )
    # Someone who never received it cannot report it.
    code, reason, meta = refusal(lambda: report(evidence, team.other_moderator))
    assert (code, reason, meta["check"]) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "REPORT_NOT_RECEIVED",
        "recipient",
    )
    too_much = replace(evidence, context=evidence.context * 5)
    code, reason, _ = refusal(lambda: report(too_much))
    assert (code, reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "CONTEXT_TOO_LARGE")
    code, reason, meta = refusal(
        lambda: team.call(team.child, "ReportMessage", pb.ReportMessageRequest(request_id=rid()))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, reason, _ = refusal(
        lambda: team.call(
            team.lead,
            "TakeAction",
            pb.TakeActionRequest(
                request_id=rid(),
                case_id=str(uuid.uuid4()),
                kind="warn",
                account_ids=[team.adult],
                reason="x",
            ),
        )
    )
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "CASE_NOT_FOUND")
    assert safety_stream(people, environ) == before  # nothing refused was recorded


def test_a_restriction_and_a_block_take_effect_in_messaging_and_lifting_restores(
    people: People, team: Team
) -> None:
    teen = people.account(*TEEN, orgs=(ORG,))
    friend = people.account(*TEEN, orgs=(ORG,))
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

    def act(kind: str, accounts: list[str]) -> str:
        taken = team.call(
            team.moderator,
            "TakeAction",
            pb.TakeActionRequest(
                request_id=rid(),
                case_id=concern.case_id,
                kind=kind,
                account_ids=accounts,
                reason="pushing younger children",
            ),
        )
        return str(taken.action_id)

    device = people.device(teen, *TEEN, (ORG,))
    people.device(friend, *TEEN, (ORG,))
    restriction = act("restrict", [teen])

    def refused_with(reason: str) -> Callable[[], bool]:
        def check() -> bool:
            try:
                device.start_conversation([friend])
            except grpc.RpcError as e:
                info = error_info(e)
                return e.code() == grpc.StatusCode.PERMISSION_DENIED and bool(
                    info and info.reason == reason
                )
            return False

        return check

    wait_for(refused_with("ACCOUNT_RESTRICTED"), timeout=20)
    act("block", [teen, friend])
    team.call(
        team.moderator,
        "LiftAction",
        pb.LiftActionRequest(
            request_id=rid(), case_id=concern.case_id, action_id=restriction, reason="talked"
        ),
    )
    # The restriction is lifted, but the block still keeps the two apart.
    wait_for(refused_with("SAFETY_BLOCK"), timeout=20)
    code, reason, _ = refusal(
        lambda: team.call(
            team.moderator,
            "TakeAction",
            pb.TakeActionRequest(
                request_id=rid(),
                case_id=concern.case_id,
                kind="warn",
                account_ids=[str(uuid.uuid4())],
                reason="nobody",
            ),
        )
    )
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "UNKNOWN_ACCOUNT")
    device.disconnect()


def test_a_case_past_its_deadline_with_no_action_escalates_to_the_lead_on_its_own(
    people: People, environ: dict[str, str]
) -> None:
    now = [datetime.now(UTC).timestamp()]
    app = Safety(
        {**environ, "NATS_URL": people.platform.nats_url},
        clock=lambda: now[0],
    )
    try:
        org = "org-" + uuid.uuid4().hex[:8]
        child, lead = str(uuid.uuid4()), str(uuid.uuid4())
        expires = int(now[0]) + 3600
        admin = Session(
            str(uuid.uuid4()), frozenset({"org_admin"}), expires, organisations=frozenset({org})
        )
        app.name_lead(admin, org, lead, "")
        session = Session(child, frozenset({"child"}), expires, "under_13", frozenset({org}))
        filed = app.raise_concern(
            session, rid(), "someone says they will hurt me", Category.IMMEDIATE_DANGER, ""
        )
        assert filed.case.severity.value == "immediate"
        assert app.escalate_overdue() == []  # not yet due
        now[0] += 16 * 60  # immediate: 15 minutes of real time
        assert app.escalate_overdue() == [str(filed.case.id)]
        case = app._case_by_id(str(filed.case.id))
        assert case.escalated_to == lead and case.escalations[-1]["by"] == "deadline"
        assert app.escalate_overdue() == []  # once
    finally:
        app.close()


def test_the_next_moderator_reads_the_last_shifts_handovers_most_recent_first(
    people: People, team: Team
) -> None:
    def shift_with_handover(moderator: str, risks: str, keywords: list[str]) -> str:
        shift = team.call(
            moderator, "StartShift", pb.StartShiftRequest(request_id=rid(), organisation_id=ORG)
        )
        team.call(
            moderator,
            "EndShift",
            pb.EndShiftRequest(
                request_id=rid(),
                shift_id=shift.shift_id,
                message_times=["21:40", "21:52"],
                keywords=keywords,
                risks=risks,
                pattern="cumulative",
            ),
        )
        return str(shift.shift_id)

    first = shift_with_handover(team.moderator, "asked to move apps", ["snapchat"])
    second = shift_with_handover(team.other_moderator, "asked for photos", ["pics", "secret"])
    read = team.call(
        team.moderator, "GetHandover", pb.GetHandoverRequest(organisation_id=ORG, limit=2)
    )
    assert [h.shift_id for h in read.handovers] == [second, first]
    latest = read.handovers[0]
    assert latest.moderator_account_id == team.other_moderator
    assert (latest.risks, list(latest.keywords), latest.pattern) == (
        "asked for photos",
        ["pics", "secret"],
        "cumulative",
    )
    assert list(latest.message_times) == ["21:40", "21:52"]
    assert latest.ended_at.ToDatetime() >= latest.started_at.ToDatetime()
    one = team.call(team.lead, "GetHandover", pb.GetHandoverRequest(organisation_id=ORG, limit=1))
    assert [h.shift_id for h in one.handovers] == [second]

    # Staff of another organisation read none of it; a participant cannot call it at all.
    outsider = people.token(team.moderator, "moderator", "18_plus", ("org-elsewhere",))
    code, reason, _ = refusal(
        lambda: team.stub.GetHandover(
            pb.GetHandoverRequest(organisation_id=ORG), metadata=bearer(outsider)
        )
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_IN_ORGANISATION")
    code, _, _ = refusal(
        lambda: team.call(team.child, "GetHandover", pb.GetHandoverRequest(organisation_id=ORG))
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    code, _, _ = refusal(
        lambda: team.call(
            team.lead, "GetHandover", pb.GetHandoverRequest(organisation_id=ORG, limit=500)
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT


def test_organisation_settings_read_back_with_the_guardian_policy_and_signposting(
    people: People, team: Team
) -> None:
    def settings(account: str = team.moderator) -> pb.GetOrganisationSettingsResponse:
        answer: pb.GetOrganisationSettingsResponse = team.call(
            account,
            "GetOrganisationSettings",
            pb.GetOrganisationSettingsRequest(organisation_id=ORG),
        )
        return answer

    before = settings()
    assert before.deadline_minutes == {"immediate": 15, "high": 60, "medium": 1440, "low": 4320}
    assert dict(before.guardian_notice_policy.bands) == {
        "under_13": True,
        "13_15": False,
        "16_17": False,
    }
    assert list(before.guardian_notice_policy.categories) == ["grooming", "bullying"]
    assert before.signposting_text == ""

    text = "Our youth workers read reports 08:00-20:00. The Mix: 0808 808 4994."
    team.call(
        team.admin,
        "UpdateOrganisationSettings",
        pb.UpdateOrganisationSettingsRequest(
            request_id=rid(),
            organisation_id=ORG,
            deadline_minutes={"high": 45},
            guardian_notice_policy=pb.GuardianNoticePolicy(
                bands={"under_13": True, "13_15": True}, categories=["grooming"]
            ),
            signposting_text=text,
        ),
    )
    after = settings(team.admin)
    assert after.deadline_minutes["high"] == 45 and after.deadline_minutes["low"] == 4320
    assert dict(after.guardian_notice_policy.bands) == {
        "under_13": True,
        "13_15": True,
        "16_17": False,
    }
    assert list(after.guardian_notice_policy.categories) == ["grooming"]
    assert after.signposting_text == text
    assert after.lead_account_id == team.lead  # named by the first test of this module
    assert after.time_zone and after.schedule  # the hours as they stand
    status = team.call(team.child, "GetSupportStatus", pb.GetSupportStatusRequest())
    assert status.organisation_signposting == text
    assert {s.phone for s in status.signposts} >= {"0800 1111", "999"}  # always, besides

    # Self-harm never notifies a guardian; the refusal names why and nothing changes.
    code, reason, _ = refusal(
        lambda: team.call(
            team.admin,
            "UpdateOrganisationSettings",
            pb.UpdateOrganisationSettingsRequest(
                request_id=rid(),
                organisation_id=ORG,
                guardian_notice_policy=pb.GuardianNoticePolicy(categories=["self_harm"]),
            ),
        )
    )
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SETTINGS")
    assert list(settings().guardian_notice_policy.categories) == ["grooming"]

    outsider = people.token(team.admin, "org_admin", "18_plus", ("org-elsewhere",))
    code, reason, _ = refusal(
        lambda: team.stub.GetOrganisationSettings(
            pb.GetOrganisationSettingsRequest(organisation_id=ORG), metadata=bearer(outsider)
        )
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_IN_ORGANISATION")
    code, _, _ = refusal(
        lambda: team.call(
            team.child,
            "GetOrganisationSettings",
            pb.GetOrganisationSettingsRequest(organisation_id=ORG),
        )
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED


def test_a_moderator_who_works_with_the_subject_is_never_assigned_their_case(
    people: People, team: Team
) -> None:
    """Working relationships from the log: a guardian link (identity) and a conversation
    (messaging). The rotation passes over the moderator concerned; the lead cannot assign them."""
    org = "org-" + uuid.uuid4().hex[:8]
    crew = Team(people, org)
    son = people.account(*TEEN, orgs=(org,))  # the first moderator's own child
    colleague = people.account("practitioner", "18_plus", orgs=(org,), vetted=True)
    people.guardian_of(crew.moderator, son)
    people.settle()
    with_colleague = people.device(crew.other_moderator, "moderator", "18_plus", (org,))
    people.device(colleague, "practitioner", "18_plus", (org,))
    with_colleague.start_conversation([colleague])
    app = safety_app(people)

    def known_works_with(moderator: str, other: str) -> bool:
        return other in app.works_with([moderator])[moderator]

    wait_for(lambda: known_works_with(crew.moderator, son), timeout=20)
    wait_for(lambda: known_works_with(crew.other_moderator, colleague), timeout=20)
    crew.call(
        crew.admin,
        "NameSafeguardingLead",
        pb.NameSafeguardingLeadRequest(
            request_id=rid(), organisation_id=org, lead_account_id=crew.lead
        ),
    )
    for moderator in (crew.moderator, crew.other_moderator):
        crew.call(
            moderator, "StartShift", pb.StartShiftRequest(request_id=rid(), organisation_id=org)
        )

    def concern_about(subject: str) -> str:
        raised = crew.call(
            crew.child,
            "RaiseConcern",
            pb.RaiseConcernRequest(
                request_id=rid(), note="worried", category="bullying", subject_account_id=subject
            ),
        )
        return str(raised.case_id)

    about_son, about_colleague = concern_about(son), concern_about(colleague)
    assert crew.call(crew.lead, "GetCase", pb.GetCaseRequest(case_id=about_son)).assigned_to == (
        crew.other_moderator
    )
    assert (
        crew.call(crew.lead, "GetCase", pb.GetCaseRequest(case_id=about_colleague)).assigned_to
        == crew.moderator
    )
    for case_id, moderator in (
        (about_son, crew.moderator),
        (about_colleague, crew.other_moderator),
    ):
        assign = pb.AssignCaseRequest(
            request_id=rid(), case_id=case_id, moderator_account_id=moderator
        )
        code, reason, _ = refusal(partial(crew.call, crew.lead, "AssignCase", assign))
        assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "CONFLICT_OF_INTEREST")

    # Restrictions are for staff of the account's organisation: ORG's lead sees none of org's.
    code, reason, _ = refusal(
        lambda: team.call(
            team.lead, "GetAccountRestrictions", pb.GetAccountRestrictionsRequest(account_id=son)
        )
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_IN_ORGANISATION")


def test_escalation_goes_to_the_named_cover_while_the_lead_is_off_shift(people: People) -> None:
    org = "org-" + uuid.uuid4().hex[:8]
    crew = Team(people, org)
    cover = people.account("safeguarding_lead", "18_plus", orgs=(org,))
    second_subject = people.account("practitioner", "18_plus", orgs=(org,), vetted=True)
    people.settle()
    cover_token = people.token(cover, "safeguarding_lead", "18_plus", (org,))
    crew.call(
        crew.admin,
        "NameSafeguardingLead",
        pb.NameSafeguardingLeadRequest(
            request_id=rid(), organisation_id=org, lead_account_id=crew.lead, cover_account_id=cover
        ),
    )
    crew.call(
        crew.moderator, "StartShift", pb.StartShiftRequest(request_id=rid(), organisation_id=org)
    )

    def escalated_case(subject: str) -> tuple[str, pb.EscalateCaseResponse]:
        raised = crew.call(
            crew.child,
            "RaiseConcern",
            pb.RaiseConcernRequest(
                request_id=rid(),
                note="asks for photos",
                category="grooming",
                subject_account_id=subject,
            ),
        )
        answer: pb.EscalateCaseResponse = crew.call(
            crew.moderator,
            "EscalateCase",
            pb.EscalateCaseRequest(request_id=rid(), case_id=raised.case_id, reason="an adult"),
        )
        return str(raised.case_id), answer

    case_id, escalated = escalated_case(crew.adult)  # the lead has no shift on
    assert (escalated.escalated_to, escalated.as_role) == (cover, "cover")
    # The cover acts as the lead on the case: a suspension needs the lead.
    crew.stub.TakeAction(
        pb.TakeActionRequest(
            request_id=rid(), case_id=case_id, kind="suspend", account_ids=[crew.adult], reason="x"
        ),
        metadata=bearer(cover_token),
    )
    crew.call(crew.lead, "StartShift", pb.StartShiftRequest(request_id=rid(), organisation_id=org))
    _, escalated = escalated_case(second_subject)
    assert (escalated.escalated_to, escalated.as_role) == (crew.lead, "lead")


def test_a_reporter_of_no_organisation_reaches_the_platforms_own_moderators(
    people: People, environ: dict[str, str]
) -> None:
    """Configured (HEARTH_SAFETY_PLATFORM_ORGANISATION), the platform's moderation team reads
    reports of people of no organisation; without it, the refusal says where to get help."""
    loner = people.account(*TEEN)
    moderator = people.account("moderator", "18_plus", orgs=(PLATFORM_ORG,))
    people.settle()
    channel = connect(people.platform.endpoint("safety"))
    stub = safety_pb2_grpc.SafetyServiceStub(channel)
    as_loner = bearer(people.token(loner, *TEEN))
    raised = stub.RaiseConcern(
        pb.RaiseConcernRequest(request_id=rid(), note="someone is scaring me"), metadata=as_loner
    )
    queue = stub.ListQueue(
        pb.ListQueueRequest(organisation_id=PLATFORM_ORG),
        metadata=bearer(people.token(moderator, "moderator", "18_plus", (PLATFORM_ORG,))),
    )
    assert raised.case_id in [c.case_id for c in queue.cases]
    status = stub.GetSupportStatus(pb.GetSupportStatusRequest(), metadata=as_loner)
    assert {s.phone for s in status.signposts} == {"0800 1111", "999"}

    unrouted = Safety({**environ, "NATS_URL": people.platform.nats_url})
    try:
        session = Session(
            loner, frozenset({"young_person"}), int(datetime.now(UTC).timestamp()) + 60
        )
        with pytest.raises(Conflict) as refused:
            unrouted.raise_concern(session, rid(), "someone is scaring me", Category.OTHER, "")
        assert refused.value.reason == "NO_ORGANISATION" and "0800 1111" in str(refused.value)
    finally:
        unrouted.close()
