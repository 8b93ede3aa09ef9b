"""The queue and the case: what a moderator or lead works on shift.

The case page shows the reported message and its context (each verified by safety on arrival:
a report whose franking does not verify, or that the reporter's device did not receive, is
refused before any case exists), the reporter's note, the case as a timeline with a running
total chart, the actions in force, and the forms to escalate, act, refer, record an outcome
and close, and the case notes with a form to add one. The content and the notes are asked for
only by the assigned staff member or a lead, and safety records each such read
(`CaseContentRead`, `CaseNotesRead`), which audit witnesses.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hearth_proto.hearth.safety.v1 import safety_pb2 as pb

from .charts import Point, cumulative
from .config import CASE_WORKERS
from .desk import DeskSession
from .upstream import Refused, call
from .web import Console, posted, staff_session

SEVERITIES = ("immediate", "high", "medium", "low")
# Safety's report categories, as a case's opening report names them.
CATEGORIES = (
    "immediate_danger",
    "child_sexual_abuse",
    "grooming",
    "self_harm",
    "threat",
    "bullying",
    "hate",
    "sexual_content",
    "personal_info",
    "spam",
    "other",
)
ACTIONS = {
    "warn": "Warn the account",
    "restrict": "Restrict: no new conversations",
    "suspend": "Suspend: no sending",
    "block": "Block contact between two accounts",
    "remove": "Remove from the conversation",
}
# Who to call, with the numbers: the referral form and the case page both show them.
REFERRALS = {
    "police": ("Police", "999 if a child is in immediate danger; otherwise 101"),
    "ceop": ("CEOP (National Crime Agency)", "report online to CEOP's Safety Centre"),
    "childrens_services": (
        "Local authority children's services",
        "your local authority's children's services front door (MASH)",
    ),
    "nspcc_helpline": ("NSPCC helpline", "0808 800 5000"),
}
OUTCOMES = ("no_concern", "concern_addressed", "substantiated", "referred", "unfounded")
MAX_REASON = 2000
# The queue page asks safety for the first FETCHED open cases, filters them, and shows the
# first SHOWN: a moderator works from the top, and a page of thousands helps no one.
FETCHED, SHOWN = 500, 100
# What was reported is gone once the reporter's or subject's account is erased.
GONE = ("CONTENT_ERASED", "REPORT_NOT_FOUND")


def rid() -> str:
    return str(uuid.uuid4())


def case_id_of(request: Request) -> str:
    """The path's case id, refused here unless it is one (a UUID)."""
    given = str(request.path_params["case_id"])
    try:
        return str(uuid.UUID(given))
    except ValueError:
        raise Refused(400, "MALFORMED_CASE_ID", "That is not a case id.") from None


def when(stamp: Any) -> datetime:
    return datetime.fromtimestamp(stamp.seconds + stamp.nanos / 1e9, UTC)


@dataclass(frozen=True)
class QueueFilter:
    organisation: str
    assignee: str
    severity: str
    category: str = ""

    @classmethod
    def of(cls, request: Request, session: DeskSession) -> QueueFilter:
        assert session.staff is not None
        orgs = sorted(session.staff.organisations)
        organisation = request.query_params.get("organisation", "") or (orgs[0] if orgs else "")
        if organisation not in orgs:
            raise Refused(403, "NOT_IN_ORGANISATION", "You are not staff of that organisation.")
        assignee = request.query_params.get("assignee", "")
        severity = request.query_params.get("severity", "")
        if severity and severity not in SEVERITIES:
            raise Refused(400, "UNKNOWN_SEVERITY", "Choose a severity from the list.")
        category = request.query_params.get("category", "")
        if category and category not in CATEGORIES:
            raise Refused(400, "UNKNOWN_CATEGORY", "Choose a category from the list.")
        return cls(organisation, assignee[:64], severity, category)


def queue_rows(
    console: Console, session: DeskSession, chosen: QueueFilter
) -> list[dict[str, object]]:
    response = call(
        console.upstream.safety().ListQueue,
        pb.ListQueueRequest(organisation_id=chosen.organisation, limit=FETCHED),
        session.token,
    )
    assert session.staff is not None
    me = session.staff.account_id
    rows = []
    for case in response.cases:
        if chosen.severity and case.severity != chosen.severity:
            continue
        if chosen.category and case.category != chosen.category:
            continue
        if chosen.assignee == "me" and case.assigned_to != me:
            continue
        if chosen.assignee == "unassigned" and case.assigned_to:
            continue
        rows.append(
            {
                "case_id": case.case_id,
                "severity": case.severity,
                "category": case.category,
                "deadline": when(case.deadline),
                "overdue": case.overdue,
                "assigned_to": case.assigned_to,
                "mine": case.assigned_to == me,
                "escalated_to": case.escalated_to,
                "reports": case.reports,
            }
        )
    return rows


async def queue_page(console: Console, request: Request) -> Response:
    session = staff_session(request, CASE_WORKERS)
    chosen = QueueFilter.of(request, session)
    matching = await run_in_threadpool(queue_rows, console, session, chosen)
    rows = matching[:SHOWN]
    assert session.staff is not None
    template = "queue_rows.html" if request.url.path.endswith("/rows") else "queue.html"
    return console.render(
        request,
        template,
        {
            "rows": rows,
            "matching": len(matching),
            "chosen": chosen,
            "organisations": sorted(session.staff.organisations),
            "severities": SEVERITIES,
            "categories": CATEGORIES,
            "now": datetime.now(UTC),
        },
    )


def case_view(console: Console, session: DeskSession, case_id: str) -> dict[str, object]:
    assert session.staff is not None
    safety = console.upstream.safety()
    case = call(safety.GetCase, pb.GetCaseRequest(case_id=case_id), session.token)
    me, lead = session.staff.account_id, session.staff.has_role("safeguarding_lead")
    reports: list[dict[str, object]] = []
    # Only the assigned staff member and the lead see what was reported; each read is
    # recorded by safety before it answers.
    may_read = case.assigned_to == me or lead
    if may_read:
        for report_id in case.report_ids:
            try:
                content = call(
                    safety.ReadReportedContent,
                    pb.ReadReportedContentRequest(
                        request_id=rid(), case_id=case_id, report_id=report_id
                    ),
                    session.token,
                )
            except Refused as refused:
                if refused.reason not in GONE:
                    raise
                reports.append({"report_id": report_id, "note": "", "messages": [], "gone": True})
                continue
            messages = [
                {
                    "message_id": m.message_id,
                    "sender": m.sender_account_id,
                    "at": datetime.fromtimestamp(m.sent_at_ms / 1000, UTC),
                    "body": m.body.decode("utf-8", "replace"),
                    "reported": i == len(content.messages) - 1,
                }
                for i, m in enumerate(content.messages)
            ]
            reports.append({"report_id": report_id, "note": content.note, "messages": messages})
    notes = []
    if may_read:
        read = call(
            safety.ReadCaseNotes,
            pb.ReadCaseNotesRequest(request_id=rid(), case_id=case_id),
            session.token,
        )
        notes = [{"by": n.by, "at": when(n.at), "text": n.text} for n in read.notes]
    timeline = case_timeline(case, reports)
    return {
        "case": case,
        "deadline": when(case.deadline),
        "reports": reports,
        "may_read": may_read,
        "notes": notes,
        # A note's form carries its request id: submitting it twice adds the note once.
        "note_request_id": rid(),
        "timeline": timeline,
        "chart": cumulative(
            [Point(e["at"], i + 1, e["what"]) for i, e in enumerate(timeline)],
            "Events on this case over time (running total)",
        ),
        "actions": [
            {
                "action_id": a.action_id,
                "kind": a.kind,
                "referral": a.referral,
                "accounts": list(a.accounts),
                "by": a.by,
                "at": when(a.at),
                "reason": a.reason,
                "lifted": a.lifted,
            }
            for a in case.actions
        ],
        "action_kinds": ACTIONS,
        "referrals": REFERRALS,
        "outcomes": OUTCOMES,
        "is_lead": lead,
    }


def case_timeline(case: Any, reports: list[dict[str, object]]) -> list[dict[str, Any]]:
    """The case's events in time order: each reported message, each action."""
    events: list[dict[str, Any]] = []
    for report in reports:
        messages = report["messages"]
        assert isinstance(messages, list)
        for m in messages:
            if m["reported"]:
                events.append({"at": m["at"], "what": "Message reported", "by": m["sender"]})
    for a in case.actions:
        label = f"Action: {a.kind}" + (f" ({a.referral})" if a.referral else "")
        events.append({"at": when(a.at), "what": label + (" — lifted" if a.lifted else "")})
    return sorted(events, key=lambda e: e["at"])


async def case_page(console: Console, request: Request) -> Response:
    session = staff_session(request, CASE_WORKERS)
    case_id = case_id_of(request)
    view = await run_in_threadpool(case_view, console, session, case_id)
    return console.render(request, "case.html", {**view, "done": request.query_params.get("done")})


def reason_of(form: dict[str, str]) -> str:
    reason = form.get("reason", "").strip()
    if not reason:
        raise Refused(400, "REASON_REQUIRED", "Give a reason: it is kept with the case.")
    if len(reason) > MAX_REASON:
        raise Refused(400, "REASON_TOO_LONG", f"A reason has at most {MAX_REASON} characters.")
    return reason


def note_of(form: dict[str, str]) -> tuple[str, str]:
    """The note and the request id its form carried (a fresh one if garbled)."""
    note = form.get("note", "").strip()
    if not note:
        raise Refused(400, "NOTE_REQUIRED", "Write the note before adding it.")
    if len(note) > MAX_REASON:
        raise Refused(400, "NOTE_TOO_LONG", f"A note has at most {MAX_REASON} characters.")
    try:
        request_id = str(uuid.UUID(form.get("request_id", "")))
    except ValueError:
        request_id = rid()
    return note, request_id


def confirmed(form: dict[str, str]) -> None:
    if form.get("confirm") != "yes":
        raise Refused(400, "NOT_CONFIRMED", "Tick the box to confirm this action.")


async def case_command(console: Console, request: Request) -> Response:
    """Note, escalate, act, refer, record an outcome or close: one form each."""
    session = staff_session(request, CASE_WORKERS)
    case_id, command = case_id_of(request), request.path_params["command"]
    form = await posted(console, request)
    safety = console.upstream.safety()
    method: Callable[..., Any]
    message: Message
    if command == "note":
        note, request_id = note_of(form)
        method, message = (
            safety.AddCaseNote,
            pb.AddCaseNoteRequest(request_id=request_id, case_id=case_id, note=note),
        )
    elif command == "escalate":
        method, message = (
            safety.EscalateCase,
            pb.EscalateCaseRequest(request_id=rid(), case_id=case_id, reason=reason_of(form)),
        )
    elif command == "action":
        confirmed(form)
        kind = form.get("kind", "")
        if kind not in ACTIONS:
            raise Refused(400, "UNKNOWN_ACTION", "Choose an action from the list.")
        accounts = [a for a in (form.get("account", ""), form.get("other_account", "")) if a]
        method, message = (
            safety.TakeAction,
            pb.TakeActionRequest(
                request_id=rid(),
                case_id=case_id,
                kind=kind,
                account_ids=accounts,
                conversation_id=form.get("conversation", ""),
                reason=reason_of(form),
            ),
        )
    elif command == "refer":
        confirmed(form)
        referral = form.get("referral", "")
        if referral not in REFERRALS:
            raise Refused(400, "UNKNOWN_REFERRAL", "Choose who the case is referred to.")
        method, message = (
            safety.TakeAction,
            pb.TakeActionRequest(
                request_id=rid(),
                case_id=case_id,
                kind="refer",
                referral=referral,
                account_ids=[form.get("account", "")],
                reason=reason_of(form),
            ),
        )
    elif command == "outcome":
        if form.get("outcome") not in OUTCOMES:
            raise Refused(400, "UNKNOWN_OUTCOME", "Choose an outcome from the list.")
        method, message = (
            safety.RecordOutcome,
            pb.RecordOutcomeRequest(
                request_id=rid(), case_id=case_id, outcome=form["outcome"], reason=reason_of(form)
            ),
        )
    elif command == "close":
        confirmed(form)
        method, message = (
            safety.CloseCase,
            pb.CloseCaseRequest(request_id=rid(), case_id=case_id, reason=reason_of(form)),
        )
    else:
        raise Refused(404, "UNKNOWN_COMMAND", "There is no such form.")
    await run_in_threadpool(call, method, message, session.token)
    return RedirectResponse(f"/case/{case_id}?done={command}#done", status_code=303)
