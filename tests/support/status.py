"""The gRPC status a call answers with."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from hearth_sdk.errors import error_info


def code_of(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    """(status, details) of the call; OK if it succeeded."""
    try:
        call()
    except grpc.RpcError as e:
        return e.code(), e.details() or ""
    return grpc.StatusCode.OK, ""


def status_of(call: Callable[[], object]) -> grpc.StatusCode:
    """The status of a call that must fail."""
    code, _ = code_of(call)
    assert code != grpc.StatusCode.OK, "the call succeeded"
    return code


def refused(code: grpc.StatusCode, call: object, *args: object, **kwargs: object) -> str:
    """Call, expect a refusal with `code`, return its message."""
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    error = caught.value
    assert error.code() == code, f"{error.code()}: {error.details()}"
    return str(error.details())


def refusal(call: Callable[[], object]) -> tuple[grpc.StatusCode, str, str]:
    """(status, reason, message) of a call that must be refused with a Hearth reason."""
    with pytest.raises(grpc.RpcError) as caught:
        call()
    info = error_info(caught.value)
    assert info is not None, f"{caught.value.code()} without a reason: {caught.value.details()}"
    return caught.value.code(), info.reason, str(caught.value.details())
