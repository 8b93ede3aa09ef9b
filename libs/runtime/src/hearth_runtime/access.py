"""Who may call what: each RPC declares its access, enforced in one interceptor.

A method with no declared access is refused (fail closed); health and reflection are open.
A duplicated `authorization` header is refused (which one counts would be a guess).
A verified token of an account whose sessions are revoked (erased: see `revocation`) is
refused too. Refusals are the runtime's errors (reasons SESSION_MISSING, SESSION_AMBIGUOUS,
SESSION_INVALID, SESSION_REVOKED, ROLE_REQUIRED, NO_ACCESS_RULE), answered by the
`ErrorInterceptor` that runs outside this one. The verified `Session` is available to the
servicer through `current_session()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio

from .errors import NotAuthenticated, Refused, rewrapped
from .revocation import Revocations
from .sessions import Session, SessionError, SessionVerifier

OPEN_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")
_session: contextvars.ContextVar[Session | None] = contextvars.ContextVar("session", default=None)


@dataclass(frozen=True)
class Access:
    """An RPC's rule: open to all, or to a session holding one of `roles` (None: any role)."""

    public: bool = False
    roles: frozenset[str] | None = None

    def allows(self, session: Session) -> bool:
        return self.roles is None or session.has_role(*self.roles)


PUBLIC = Access(public=True)
ANY_SESSION = Access()


def roles(*names: str) -> Access:
    return Access(roles=frozenset(names))


def current_session() -> Session:
    """The caller's verified session, inside a servicer method that requires one."""
    session = _session.get()
    if session is None:
        raise RuntimeError("no session: the method was declared public")
    return session


class AccessInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Authenticates the bearer session token and checks the method's declared roles."""

    def __init__(
        self,
        verifier: SessionVerifier,
        rules: Mapping[str, Access],
        revocations: Revocations | None = None,
    ) -> None:
        self.verifier = verifier
        self.rules = dict(rules)
        self.revocations = revocations

    async def revoked(self, session: Session) -> str | None:
        """Why the session's account is no longer honoured, if it is not (the store is asked
        off the event loop, and only now and then per account)."""
        if self.revocations is None:
            return None
        known, reason = self.revocations.cached(session.account_id)
        if known:
            return reason
        return await asyncio.to_thread(self.revocations.reason, session.account_id)

    def is_open(self, method: str) -> bool:
        """Whether a method is served without a session (health, reflection, public RPCs)."""
        rule = self.rules.get(method)
        return method.startswith(OPEN_PREFIXES) or (rule is not None and rule.public)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or self.is_open(method):
            return handler
        rule = self.rules.get(method)
        headers = [
            str(value)
            for key, value in handler_call_details.invocation_metadata or ()
            if key == "authorization"
        ]

        async def admit(context: grpc.aio.ServicerContext) -> Session:
            if rule is None:
                raise Refused(f"no access rule is declared for {method}", reason="NO_ACCESS_RULE")
            if len(headers) > 1:  # which one counts would be a guess: refuse the ambiguity
                raise NotAuthenticated(
                    "more than one authorization header", reason="SESSION_AMBIGUOUS"
                )
            authorization = headers[0] if headers else ""
            if not authorization.startswith("Bearer "):
                raise NotAuthenticated("missing bearer session token", reason="SESSION_MISSING")
            try:
                session = self.verifier.verify(authorization.removeprefix("Bearer ").strip())
            except SessionError as e:
                raise NotAuthenticated(str(e), reason="SESSION_INVALID") from None
            if (why := await self.revoked(session)) is not None:
                raise NotAuthenticated(
                    f"this account's sessions are no longer honoured ({why})",
                    reason="SESSION_REVOKED",
                )
            if not rule.allows(session):
                allowed = ", ".join(sorted(rule.roles or ()))
                raise Refused(
                    f"{method.rsplit('/', 1)[-1]} is for {allowed}; "
                    f"this session has {', '.join(sorted(session.roles)) or 'no role'}",
                    reason="ROLE_REQUIRED",
                )
            return session

        def unary(behaviour: Callable[..., Awaitable[Any]]) -> Any:
            async def run(request: Any, context: grpc.aio.ServicerContext) -> Any:
                token = _session.set(await admit(context))
                try:
                    return await behaviour(request, context)
                finally:
                    _session.reset(token)

            return run

        def streaming(behaviour: Callable[..., AsyncIterator[Any]]) -> Any:
            async def run(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                token = _session.set(await admit(context))
                try:
                    async for response in behaviour(request, context):
                        yield response
                finally:
                    # A cancelled stream may be closed from another context; the call's own
                    # task, whose context this is, ends with it anyway.
                    with contextlib.suppress(ValueError):
                        _session.reset(token)

            return run

        return rewrapped(handler, unary, streaming)
