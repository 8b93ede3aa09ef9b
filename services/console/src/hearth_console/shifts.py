"""The shift: start it, hold and report concerns found on it, end it with the handover.

Safety refuses to end a shift while a concern found on it is unreported
(`UNREPORTED_CONCERN`); the page shows that refusal and the concern to report. Ending the
shift also ends the console session: the next person on shift signs in as themselves.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hearth_proto.hearth.safety.v1 import safety_pb2 as pb

from .casework import rid, when
from .config import CASE_WORKERS
from .desk import DeskSession
from .upstream import Refused, call
from .web import Console, posted, signed_out, staff_session

PATTERNS = ("isolated", "cumulative")


def lines(text: str, limit: int = 64) -> list[str]:
    """Handover lists typed one per line (or comma-separated), empty ones dropped."""
    items = [i.strip() for i in text.replace(",", "\n").splitlines()]
    return [i for i in items if i][:limit]


def organisation_of(session: DeskSession) -> str:
    assert session.staff is not None
    orgs = sorted(session.staff.organisations)
    if not orgs:
        raise Refused(403, "NOT_IN_ORGANISATION", "Your account belongs to no organisation.")
    return orgs[0]


def handovers(console: Console, session: DeskSession) -> list[dict[str, object]]:
    """The latest shifts' handovers in the organisation, most recent first."""
    found = call(
        console.upstream.safety().GetHandover,
        pb.GetHandoverRequest(organisation_id=organisation_of(session), limit=3),
        session.token,
    )
    return [
        {
            "by": h.moderator_account_id,
            "ended_at": when(h.ended_at),
            "message_times": list(h.message_times),
            "keywords": list(h.keywords),
            "risks": h.risks,
            "pattern": h.pattern,
            "open_case_ids": list(h.open_case_ids),
        }
        for h in found.handovers
    ]


async def shift_page(console: Console, request: Request, error: Refused | None = None) -> Response:
    session = staff_session(request, CASE_WORKERS)
    previous = await run_in_threadpool(handovers, console, session)
    return console.render(
        request,
        "shift.html",
        {
            "shift_id": session.shift_id,
            "concerns": session.concerns,
            "patterns": PATTERNS,
            "error": error,
            "handovers": previous,
        },
        status=error.status if error else 200,
    )


async def shift_command(console: Console, request: Request) -> Response:
    session = staff_session(request, CASE_WORKERS)
    command = request.path_params["command"]
    form = await posted(console, request)
    safety = console.upstream.safety()
    token = session.token
    try:
        if command == "start":
            started = await run_in_threadpool(
                call,
                safety.StartShift,
                pb.StartShiftRequest(request_id=rid(), organisation_id=organisation_of(session)),
                token,
            )
            session.shift_id, session.concerns = started.shift_id, []
        elif command == "concern":
            held = await run_in_threadpool(
                call,
                safety.RecordShiftConcern,
                pb.RecordShiftConcernRequest(
                    request_id=rid(), shift_id=session.shift_id, case_id=form.get("case_id", "")
                ),
                token,
            )
            session.concerns.append((held.concern_id, form.get("case_id", "")))
        elif command == "report":
            concern = form.get("concern_id", "")
            await run_in_threadpool(
                call,
                safety.ReportConcernToLead,
                pb.ReportConcernToLeadRequest(
                    request_id=rid(), shift_id=session.shift_id, concern_id=concern
                ),
                token,
            )
            session.concerns = [c for c in session.concerns if c[0] != concern]
        elif command == "end":
            if form.get("pattern", "") not in PATTERNS:
                raise Refused(
                    400, "UNKNOWN_PATTERN", "Say whether the risk is isolated or cumulative."
                )
            await run_in_threadpool(
                call,
                safety.EndShift,
                pb.EndShiftRequest(
                    request_id=rid(),
                    shift_id=session.shift_id,
                    message_times=lines(form.get("message_times", "")),
                    keywords=lines(form.get("keywords", "")),
                    risks=form.get("risks", "").strip(),
                    pattern=form["pattern"],
                ),
                token,
            )
            return signed_out(console, request, "Your shift has ended; the handover is recorded.")
        else:
            raise Refused(404, "UNKNOWN_COMMAND", "There is no such form.")
    except Refused as refused:
        if refused.status == 401:
            raise
        return await shift_page(console, request, refused)
    return RedirectResponse("/shift", status_code=303)
