"""What every page shares: the security headers, the session cookie, CSRF on every post,
bounded form bodies, role gates, and rendering.

The Content-Security-Policy allows scripts and styles from the console's own origin only
(no inline script, no inline style, nothing from elsewhere), no framing, and forms that post
only back to the console. Every POST must carry the session's CSRF token (a form field or the
`X-CSRF-Token` header) and, when the browser sends one, an `Origin` equal to the console's:
anything else is refused with 403 before a handler runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hearth_proto.hearth.identity.v1.identity_pb2 import RenewSessionRequest
from hearth_runtime.sessions import SessionError

from .config import (
    CASE_WORKERS,
    SETTINGS_EDITORS,
    STAFF_ROLES,
    TRANSPARENCY_READERS,
    ConsoleSettings,
)
from .desk import COOKIE, Desk, DeskSession
from .upstream import Refused, Upstream, call

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes a form post's Origin "null"
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
}
NAVIGATION = (
    ("Queue", "/queue", CASE_WORKERS),
    ("Shift", "/shift", CASE_WORKERS),
    ("Organisation settings", "/settings", SETTINGS_EDITORS),
    ("Transparency", "/transparency", TRANSPARENCY_READERS),
)


@dataclass
class Console:
    """What the handlers share: settings, sessions, the services, the templates."""

    settings: ConsoleSettings
    desk: Desk
    upstream: Upstream
    verify_token: Callable[[str], Any]
    origin: str = ""
    templates: Environment | None = None

    def __post_init__(self) -> None:
        self.templates = Environment(
            loader=PackageLoader("hearth_console", "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, object],
        *,
        status: int = 200,
    ) -> HTMLResponse:
        assert self.templates is not None
        session: DeskSession | None = request.state.session
        staff = session.staff if session else None
        nav = [
            (label, href)
            for label, href, allowed in NAVIGATION
            if staff is not None and staff.roles & allowed
        ]
        page = self.templates.get_template(template).render(
            {
                "csrf": session.csrf if session else "",
                "staff": staff,
                "nav": nav,
                "path": request.url.path,
                "poll_seconds": self.settings.poll_seconds,
                **context,
            }
        )
        response = HTMLResponse(page, status_code=status)
        if session is not None:
            self.set_cookie(response, session)
        return response

    def refusal_page(self, request: Request, error: Refused) -> Response:
        return self.render(
            request,
            "refused.html",
            {"reason": error.reason, "message": error.message, "status": error.status},
            status=error.status,
        )

    def set_cookie(self, response: Response, session: DeskSession) -> None:
        response.set_cookie(
            COOKIE,
            session.sid,
            httponly=True,
            secure=True,
            samesite="strict",
            path="/",
            max_age=int(self.settings.idle_seconds),
        )


def signed_out(console: Console, request: Request, why: str) -> Response:
    """End the session (shift over, signed out) and say so; the cookie goes with it."""
    if request.state.session is not None:
        console.desk.end(request.state.session.sid)
    request.state.session = None
    response = console.render(request, "signed_out.html", {"why": why})
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


RENEW_BEFORE = 300  # seconds before the token expires: a shift outlasts identity's tokens


def renew_if_due(console: Console, session: DeskSession) -> None:
    """A fresh token from identity (RenewSession, with the current one) near expiry, so a
    session in use lasts the shift; the roles are checked again. A refusal ends the session
    (an erased or removed account)."""
    staff = session.staff
    if staff is None or staff.expires_at - console.desk.clock() > RENEW_BEFORE:
        return
    try:
        renewed = call(
            console.upstream.identity().RenewSession, RenewSessionRequest(), session.token
        )
        fresh = console.verify_token(renewed.session_token)
    except (Refused, SessionError):
        console.desk.end(session.sid)
        raise Refused(401, "SESSION_ENDED", "Your session has ended: sign in again.") from None
    if not fresh.roles.intersection(STAFF_ROLES):
        console.desk.end(session.sid)
        raise Refused(403, "NOT_STAFF", "The console is for safeguarding staff only.")
    session.token, session.staff = renewed.session_token, fresh


def session_of(console: Console, request: Request) -> DeskSession | None:
    return console.desk.find(request.cookies.get(COOKIE))


def staff_session(request: Request, allowed: Collection[str]) -> DeskSession:
    """The signed-in session, if its roles include one of `allowed`; otherwise refused."""
    session: DeskSession | None = request.state.session
    if session is None or session.staff is None:
        raise Refused(401, "NOT_SIGNED_IN", "Sign in to use the console.")
    if not session.staff.roles.intersection(allowed):
        raise Refused(403, "WRONG_ROLE", "Your role does not give you this page.")
    return session


async def form_of(request: Request, limit: int) -> dict[str, str]:
    """A url-encoded body of at most `limit` bytes, one value per field (the last wins)."""
    body = await bounded_body(request, limit)
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=64)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "MALFORMED_FORM", "The form could not be read.") from None
    return {name: values[-1] for name, values in fields.items()}


async def bounded_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refused(413, "FORM_TOO_LARGE", f"A form may carry at most {limit} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise Refused(413, "FORM_TOO_LARGE", f"A form may carry at most {limit} bytes.")
    return bytes(body)


class SecurityHeaders:
    """ASGI middleware: the security headers on every response, static files included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


Handler = Callable[[Request], Awaitable[Response]]


def guarded(console: Console, handler: Handler) -> Handler:
    """Find the session, check a post's Origin and CSRF token, turn refusals into pages, and
    add the security headers to whatever is answered."""

    async def serve(request: Request) -> Response:
        request.state.session = session_of(console, request)
        try:
            if request.state.session is not None:
                await run_in_threadpool(renew_if_due, console, request.state.session)
            if request.method == "POST":
                await check_post(console, request)
            response = await handler(request)
        except Refused as error:
            if error.status == 401 and request.state.session is not None:
                # The token expired or was revoked: this session is over.
                console.desk.end(request.state.session.sid)
                request.state.session = None
            if error.status == 401 and request.method == "GET":
                response = RedirectResponse("/signin", status_code=303)
            else:
                response = console.refusal_page(request, error)
        return response

    return serve


async def check_post(console: Console, request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is not None and origin != console.origin:
        raise Refused(403, "CROSS_ORIGIN", "This form was not sent from the console.")
    session: DeskSession | None = request.state.session
    offered = request.headers.get("x-csrf-token", "")
    if not offered and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        form = await form_of(request, console.settings.max_form_bytes)
        request.state.form = form
        offered = form.get("csrf", "")
    if session is None or not offered or not session.csrf_matches(offered):
        raise Refused(403, "CSRF_TOKEN_MISSING", "This form has expired: reload the page.")


async def posted(console: Console, request: Request) -> dict[str, str]:
    """The form `check_post` already read (or read it now)."""
    form: dict[str, str] | None = getattr(request.state, "form", None)
    if form is None:
        form = await form_of(request, console.settings.max_form_bytes)
    return form
