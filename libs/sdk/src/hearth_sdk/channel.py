"""gRPC channels to Hearth services, traced, with the caller's session token attached."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from opentelemetry.instrumentation.grpc import client_interceptor
from opentelemetry.instrumentation.grpc.grpcext import intercept_channel


def connect(address: str) -> grpc.Channel:
    """A channel whose calls start or continue the caller's trace."""
    channel: grpc.Channel = intercept_channel(  # type: ignore[no-untyped-call]
        grpc.insecure_channel(address),
        client_interceptor(),  # type: ignore[no-untyped-call]
    )
    return channel


# A session token, or what gives a current one (e.g. `IdentityClient.session`, which renews
# the token near its expiry): clients that live longer than a session take the latter.
SessionToken = str | Callable[[], str]


def bearer(token: SessionToken) -> tuple[tuple[str, str]]:
    """Call metadata carrying a session token (asked for afresh when `token` is callable)."""
    value = token() if callable(token) else token
    return (("authorization", f"Bearer {value}"),)
