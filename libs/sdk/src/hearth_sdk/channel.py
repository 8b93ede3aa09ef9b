"""gRPC channels to Hearth services, traced, with the caller's session token attached."""

from __future__ import annotations

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


def bearer(token: str) -> tuple[tuple[str, str]]:
    """Call metadata carrying a session token."""
    return (("authorization", f"Bearer {token}"),)
