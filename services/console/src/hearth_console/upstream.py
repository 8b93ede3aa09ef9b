"""The services the console calls, each over gRPC with the signed-in staff member's own token.

The console holds no key or token of its own: every call carries the bearer token identity
issued to the person at the browser, so each service checks that person's roles exactly as it
would for any other client. A refusal comes back as :class:`Refused`, carrying the service's
stable reason for the page to show.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from hearth_proto.hearth.audit.v1 import audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import identity_pb2_grpc
from hearth_proto.hearth.safety.v1 import safety_pb2_grpc
from hearth_sdk.channel import bearer
from hearth_sdk.endpoints import Endpoints
from hearth_sdk.errors import error_info

CALL_TIMEOUT = 10.0  # seconds: a page that waits longer helps no one on shift
# gRPC status → the HTTP status the page is served with.
HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


class Refused(Exception):
    """Refused, by a service (or the console itself, or no service could be reached): the
    HTTP status to answer with and what to tell the person."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message

    @classmethod
    def of(cls, error: grpc.RpcError) -> Refused:
        info = error_info(error)
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        details = error.details() if hasattr(error, "details") else ""
        reason = info.reason if info else code.name
        return cls(HTTP_STATUS.get(code, 502), reason, str(details or reason))


class Upstream:
    """Stubs for identity, safety and audit; addresses from configuration or `endpoints.json`,
    looked up at the first call (under `hearth up` the console starts before the file is
    written)."""

    def __init__(self, addresses: dict[str, str], data_dir: Path) -> None:
        self._configured = {k: v for k, v in addresses.items() if v}
        self._data_dir = data_dir
        self._endpoints: Endpoints | None = None
        self._lock = threading.Lock()

    def _channels(self) -> Endpoints:
        with self._lock:
            if self._endpoints is None:
                addresses = dict(self._configured)
                if len(addresses) < 3:
                    found = Endpoints.load(self._data_dir / "endpoints.json").addresses
                    addresses = {**found, **addresses}
                self._endpoints = Endpoints(addresses, self._data_dir)
            return self._endpoints

    def identity(self) -> identity_pb2_grpc.IdentityServiceStub:
        return identity_pb2_grpc.IdentityServiceStub(self._channels().channel("identity"))

    def safety(self) -> safety_pb2_grpc.SafetyServiceStub:
        return safety_pb2_grpc.SafetyServiceStub(self._channels().channel("safety"))

    def audit(self) -> audit_pb2_grpc.AuditServiceStub:
        return audit_pb2_grpc.AuditServiceStub(self._channels().channel("audit"))

    def close(self) -> None:
        with self._lock:
            if self._endpoints is not None:
                self._endpoints.close()
                self._endpoints = None


def call(method: Callable[..., Any], request: object, token: str | None) -> Any:
    """One unary call with the staff member's token (None: a call that needs no session,
    such as signing in); a refusal or outage raises :class:`Refused`."""
    try:
        if token is None:
            return method(request, timeout=CALL_TIMEOUT)
        return method(request, metadata=bearer(token), timeout=CALL_TIMEOUT)
    except grpc.RpcError as error:
        raise Refused.of(error) from None
    except FileNotFoundError as error:  # no endpoints.json: the platform is not up
        raise Refused(503, "UNAVAILABLE", str(error)) from None
