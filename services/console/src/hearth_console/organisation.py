"""The organisation's settings (for its admin, and its lead) and the transparency figures
(for the lead and auditors), with a CSV download of the same figures."""

from __future__ import annotations

import csv
import io
import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hearth_proto.hearth.audit.v1 import audit_pb2
from hearth_proto.hearth.safety.v1 import safety_pb2 as pb

from .casework import SEVERITIES, rid
from .charts import bars
from .config import SETTINGS_EDITORS, TRANSPARENCY_READERS
from .shifts import organisation_of
from .upstream import Refused, call
from .web import Console, posted, staff_session

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIODS = {"month": audit_pb2.PERIOD_MONTH, "day": audit_pb2.PERIOD_DAY}
BANDS = {"under_13": "Under 13", "13_15": "13 to 15", "16_17": "16 to 17"}
# Categories a guardian may hear of (never the words); self-harm and disclosures never notify.
NOTICE_CATEGORIES = ("grooming", "bullying", "threat", "hate", "sexual_content", "personal_info")
MAX_SIGNPOSTING = 2000
HOURS = re.compile(r"^$|^\d\d:\d\d-\d\d:\d\d(,\d\d:\d\d-\d\d:\d\d)*$")


async def settings_page(
    console: Console, request: Request, error: Refused | None = None
) -> Response:
    session = staff_session(request, SETTINGS_EDITORS)
    organisation = organisation_of(session)
    current = await run_in_threadpool(
        call,
        console.upstream.safety().GetOrganisationSettings,
        pb.GetOrganisationSettingsRequest(organisation_id=organisation),
        session.token,
    )
    return console.render(
        request,
        "settings.html",
        {
            "current": current,
            "bands": BANDS,
            "categories": NOTICE_CATEGORIES,
            "organisation": organisation,
            "days": DAYS,
            "severities": SEVERITIES,
            "is_admin": session.staff is not None and session.staff.has_role("org_admin"),
            "error": error,
            "done": request.query_params.get("done"),
        },
        status=error.status if error else 200,
    )


async def settings_command(console: Console, request: Request) -> Response:
    session = staff_session(request, SETTINGS_EDITORS)
    command = request.path_params["command"]
    form = await posted(console, request)
    safety = console.upstream.safety()
    organisation = organisation_of(session)
    try:
        if command == "hours":
            schedule = {day: form.get(f"hours_{day}", "").strip() for day in DAYS}
            if not all(HOURS.match(v) for v in schedule.values()):
                raise Refused(400, "INVALID_HOURS", "Write hours as 09:00-17:00 (commas between).")
            deadlines: dict[str, int] = {}
            for severity in SEVERITIES:
                given = form.get(f"deadline_{severity}", "").strip()
                if given:
                    if not given.isdigit() or not 0 < int(given) <= 60 * 24 * 30:
                        raise Refused(400, "INVALID_DEADLINE", "A deadline is whole minutes.")
                    deadlines[severity] = int(given)
            message: object = pb.UpdateOrganisationSettingsRequest(
                request_id=rid(),
                organisation_id=organisation,
                time_zone=form.get("time_zone", "").strip(),
                schedule={d: v for d, v in schedule.items() if v},
                deadline_minutes=deadlines,
            )
            method = safety.UpdateOrganisationSettings
        elif command == "notices":
            text = form.get("signposting_text", "").strip()
            if len(text) > MAX_SIGNPOSTING:
                raise Refused(400, "TEXT_TOO_LONG", f"At most {MAX_SIGNPOSTING} characters.")
            message = pb.UpdateOrganisationSettingsRequest(
                request_id=rid(),
                organisation_id=organisation,
                guardian_notice_policy=pb.GuardianNoticePolicy(
                    bands={band: form.get(f"band_{band}") == "on" for band in BANDS},
                    categories=[c for c in NOTICE_CATEGORIES if form.get(f"category_{c}") == "on"],
                ),
                signposting_text=text,
            )
            method = safety.UpdateOrganisationSettings
        elif command == "lead":
            message = pb.NameSafeguardingLeadRequest(
                request_id=rid(),
                organisation_id=organisation,
                lead_account_id=form.get("lead", "").strip(),
                cover_account_id=form.get("cover", "").strip(),
            )
            method = safety.NameSafeguardingLead
        else:
            raise Refused(404, "UNKNOWN_COMMAND", "There is no such form.")
        await run_in_threadpool(call, method, message, session.token)
    except Refused as refused:
        if refused.status == 401:
            raise
        return await settings_page(console, request, refused)
    return RedirectResponse(f"/settings?done={command}", status_code=303)


def figures(console: Console, token: str, period: str) -> audit_pb2.GetTransparencyFiguresResponse:
    if period not in PERIODS:
        raise Refused(400, "UNKNOWN_PERIOD", "Choose a period of a day or a month.")
    response: audit_pb2.GetTransparencyFiguresResponse = call(
        console.upstream.audit().GetTransparencyFigures,
        audit_pb2.GetTransparencyFiguresRequest(period=PERIODS[period]),
        token,
    )
    return response


async def transparency_page(console: Console, request: Request) -> Response:
    session = staff_session(request, TRANSPARENCY_READERS)
    period = request.query_params.get("period", "month")
    found = await run_in_threadpool(figures, console, session.token, period)
    safety_counts = [c for c in found.counts if c.stream == "safety"]
    reports = [(c.period, int(c.count)) for c in safety_counts if c.kind == "ReportReceived"]
    outcomes = [
        (f"{c.period} {c.kind}", int(c.count))
        for c in safety_counts
        if c.kind in ("CaseOutcomeRecorded", "CaseActionTaken", "CaseEscalated")
    ]
    return console.render(
        request,
        "transparency.html",
        {
            "period": period,
            "periods": list(PERIODS),
            "counts": list(found.counts),
            "durations": list(found.durations),
            "reports_chart": bars(reports, "Reports received per period"),
            "outcomes_chart": bars(outcomes, "Actions, escalations and outcomes per period"),
        },
    )


async def transparency_csv(console: Console, request: Request) -> Response:
    session = staff_session(request, TRANSPARENCY_READERS)
    period = request.query_params.get("period", "month")
    found = await run_in_threadpool(figures, console, session.token, period)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["period", "stream", "kind", "count", "median_ms", "p90_ms"])
    for c in found.counts:
        writer.writerow([c.period, c.stream, c.kind, c.count, "", ""])
    for d in found.durations:
        writer.writerow([d.period, d.stream, d.kind, d.count, d.median_ms, d.p90_ms])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="transparency-{period}.csv"'},
    )
