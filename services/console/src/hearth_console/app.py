"""The console's routes: every page and form, each behind `web.guarded`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import casework, organisation, shifts, signin
from .desk import DeskSession
from .web import Console, SecurityHeaders, guarded

Page = Callable[[Console, Request], Awaitable[Response]]


async def home(console: Console, request: Request) -> Response:
    session: DeskSession | None = request.state.session
    if session is None or session.staff is None:
        return RedirectResponse("/signin", status_code=303)
    return RedirectResponse(signin.landing(session.staff), status_code=303)


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("Not found", status_code=404)


def application(console: Console) -> Starlette:
    def page(handler: Page) -> Callable[[Request], Awaitable[Response]]:
        async def bound(request: Request) -> Response:
            return await handler(console, request)

        return guarded(console, bound)

    routes: list[BaseRoute] = [
        Route("/", page(home)),
        Route("/healthz", health),
        Route("/signin", page(signin.signin_page)),
        Route("/enrol", page(signin.signin_page)),
        Route("/signin/{step:str}", page(signin.ceremony), methods=["POST"]),
        Route("/enrol/{step:str}", page(signin.ceremony), methods=["POST"]),
        Route("/signout", page(signin.signout), methods=["POST"]),
        Route("/queue", page(casework.queue_page)),
        Route("/queue/rows", page(casework.queue_page)),
        Route("/case/{case_id:str}", page(casework.case_page)),
        Route("/case/{case_id:str}/{command:str}", page(casework.case_command), methods=["POST"]),
        Route("/shift", page(shifts.shift_page)),
        Route("/shift/{command:str}", page(shifts.shift_command), methods=["POST"]),
        Route("/settings", page(organisation.settings_page)),
        Route("/settings/{command:str}", page(organisation.settings_command), methods=["POST"]),
        Route("/transparency", page(organisation.transparency_page)),
        Route("/transparency.csv", page(organisation.transparency_csv)),
        Mount("/static", StaticFiles(directory=str(files("hearth_console") / "static"))),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={404: not_found},
    )
