"""Who may call what: each RPC declares its access, enforced in one interceptor.

A method with no declared access is refused (fail closed); health and reflection are open.
Refusals are the runtime's errors (reasons SESSION_MISSING, SESSION_INVALID, ROLE_REQUIRED,
NO_ACCESS_RULE), answered by the `ErrorInterceptor` that runs outside this one.
The verified `Session` is available to the servicer through `current_session()`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from .errors import NotAuthenticated, Refused, rewrapped
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


class AccessInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Authenticates the bearer session token and checks the method's declared roles."""

    def __init__(self, verifier: SessionVerifier, rules: Mapping[str, Access]) -> None:
        self.verifier = verifier
        self.rules = dict(rules)

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        rule = self.rules.get(method)
        if rule is not None and rule.public:
            return handler
        metadata = dict(handler_call_details.invocation_metadata or ())

        def admit(context: grpc.ServicerContext) -> Session:
            if rule is None:
                raise Refused(f"no access rule is declared for {method}", reason="NO_ACCESS_RULE")
            authorization = str(metadata.get("authorization", ""))
            if not authorization.startswith("Bearer "):
                raise NotAuthenticated("missing bearer session token", reason="SESSION_MISSING")
            try:
                session = self.verifier.verify(authorization.removeprefix("Bearer ").strip())
            except SessionError as e:
                raise NotAuthenticated(str(e), reason="SESSION_INVALID") from None
            if not rule.allows(session):
                allowed = ", ".join(sorted(rule.roles or ()))
                raise Refused(
                    f"{method.rsplit('/', 1)[-1]} is for {allowed}; "
                    f"this session has {', '.join(sorted(session.roles)) or 'no role'}",
                    reason="ROLE_REQUIRED",
                )
            return session

        return _guarded(handler, admit)


def _guarded(
    handler: grpc.RpcMethodHandler, admit: Callable[[grpc.ServicerContext], Session]
) -> grpc.RpcMethodHandler:
    def unary(behaviour: Callable[[Any, grpc.ServicerContext], Any]) -> Any:
        def run(request: Any, context: grpc.ServicerContext) -> Any:
            token = _session.set(admit(context))
            try:
                return behaviour(request, context)
            finally:
                _session.reset(token)

        return run

    def streaming(behaviour: Callable[[Any, grpc.ServicerContext], Iterator[Any]]) -> Any:
        def run(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            session = admit(context)
            token = _session.set(session)
            try:
                yield from behaviour(request, context)
            finally:
                _session.reset(token)

        return run

    return rewrapped(handler, unary, streaming)
