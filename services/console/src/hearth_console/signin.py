"""Signing in with a passkey, and enrolling one with an invitation: WebAuthn ceremonies whose
options come from identity and whose answers go back to identity to verify.

The browser's script (static/signin.js) asks the console to begin, hands the options to
`navigator.credentials`, and posts the credential back; the console relays both to identity
with the challenge id it kept for this browser (never the browser's say-so). Identity checks
origin, RP id, challenge, user verification, signature and sign count, and answers a session
token; the console verifies that token itself and admits only staff roles. A young person's
(or any non-staff) token opens no session here, whatever identity answered.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hearth_proto.hearth.identity.v1 import identity_pb2 as ipb
from hearth_runtime.sessions import Session, SessionError

from .config import CASE_WORKERS, SETTINGS_EDITORS, STAFF_ROLES
from .desk import DeskSession
from .upstream import Refused, call
from .web import Console, bounded_body, signed_out

MAX_CREDENTIAL_BYTES = 16 * 1024


def admit(console: Console, token: str) -> Session:
    """The staff member a token names; refused unless it verifies and carries a staff role."""
    try:
        staff: Session = console.verify_token(token)
    except SessionError:
        raise Refused(401, "SESSION_REFUSED", "Identity's answer did not verify.") from None
    if not staff.roles.intersection(STAFF_ROLES):
        raise Refused(403, "NOT_STAFF", "The console is for safeguarding staff only.")
    return staff


def landing(staff: Session) -> str:
    if staff.roles & CASE_WORKERS:
        return "/queue"
    if staff.roles & SETTINGS_EDITORS:
        return "/settings"
    return "/transparency"


async def signin_page(console: Console, request: Request) -> Response:
    session: DeskSession | None = request.state.session
    if session is not None and session.staff is not None:
        return console.render(request, "signed_in.html", {"next": landing(session.staff)})
    if session is None:
        request.state.session = console.desk.open()
    template = "enrol.html" if request.url.path == "/enrol" else "signin.html"
    return console.render(request, template, {})


async def json_body(console: Console, request: Request) -> dict[str, object]:
    body = await bounded_body(request, MAX_CREDENTIAL_BYTES)
    try:
        found = json.loads(body or b"{}")
    except ValueError:
        raise Refused(400, "MALFORMED_JSON", "The browser's answer could not be read.") from None
    if not isinstance(found, dict):
        raise Refused(400, "MALFORMED_JSON", "The browser's answer could not be read.")
    return found


def anonymous(request: Request) -> DeskSession:
    session: DeskSession | None = request.state.session
    if session is None:  # check_post already refused a post without one
        raise Refused(403, "CSRF_TOKEN_MISSING", "Reload the sign-in page.")
    return session


async def ceremony(console: Console, request: Request) -> Response:
    """`/signin/begin|complete` and `/enrol/begin|complete`: JSON in, JSON out."""
    session = anonymous(request)
    flow, step = request.url.path.split("/")[1], request.path_params["step"]
    if step not in ("begin", "complete"):
        raise Refused(404, "UNKNOWN_STEP", "There is no such step.")
    body = await json_body(console, request)
    identity = console.upstream.identity()
    try:
        if step == "begin":
            if flow == "signin":
                begun = await run_in_threadpool(
                    call, identity.BeginPasskeyLogin, ipb.BeginPasskeyLoginRequest(), None
                )
            else:
                begun = await run_in_threadpool(
                    call,
                    identity.BeginPasskeyEnrolment,
                    ipb.BeginPasskeyEnrolmentRequest(
                        invitation_code=str(body.get("invitation_code", ""))[:256],
                        display_name=str(body.get("display_name", ""))[:256],
                    ),
                    None,
                )
            session.pending[flow] = begun.challenge_id
            return JSONResponse({"options": json.loads(begun.options_json)})
        challenge = session.pending.pop(flow, "")
        if not challenge:
            raise Refused(400, "NO_CEREMONY", "Start again: press the button once more.")
        credential = json.dumps(body.get("credential", {}))
        if flow == "signin":
            done = await run_in_threadpool(
                call,
                identity.CompletePasskeyLogin,
                ipb.CompletePasskeyLoginRequest(challenge_id=challenge, credential_json=credential),
                None,
            )
        else:
            done = await run_in_threadpool(
                call,
                identity.CompletePasskeyEnrolment,
                ipb.CompletePasskeyEnrolmentRequest(
                    challenge_id=challenge, credential_json=credential
                ),
                None,
            )
        staff = admit(console, done.session_token)
    except Refused as refused:
        return JSONResponse(
            {"reason": refused.reason, "message": refused.message}, status_code=refused.status
        )
    signed_in = console.desk.sign_in(session, done.session_token, staff)
    response = JSONResponse({"next": landing(staff)})
    console.set_cookie(response, signed_in)
    return response


async def signout(console: Console, request: Request) -> Response:
    return signed_out(console, request, "You have signed out.")
