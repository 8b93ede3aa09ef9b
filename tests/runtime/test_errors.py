"""The error family, as a real gRPC server answers it and a client reads it; validators; retry."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import nats.errors
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from hearth_eventlog.link import JetStreamError
from hearth_runtime import fields
from hearth_runtime.application import WRITE_ATTEMPTS, retrying
from hearth_runtime.errors import (
    AlreadyDone,
    Conflict,
    Contended,
    ErrorInterceptor,
    Exhausted,
    HearthError,
    Invalid,
    NotAuthenticated,
    NotFound,
    Refused,
    Unavailable,
)
from hearth_runtime.serving import MethodAdapter
from hearth_sdk import errors as client
from hearth_sdk.errors import FieldViolation, error_info

SECRET = "the-secret-detail-0123456789"


class Raising(grpc.GenericRpcHandler):  # type: ignore[misc]
    """/t/Unary raises what the request names; /t/Stream yields once, then raises it."""

    def __init__(self, errors: dict[bytes, Callable[[grpc.ServicerContext], None]]) -> None:
        self.errors = errors

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        if details.method == "/t/Unary":

            def unary(request: bytes, context: grpc.ServicerContext) -> bytes:
                self.errors[request](context)
                return b"ok"

            return grpc.unary_unary_rpc_method_handler(unary)
        if details.method == "/t/Stream":

            def stream(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
                yield b"first"
                self.errors[request](context)

            return grpc.unary_stream_rpc_method_handler(stream)
        return None


def raiser(error: BaseException) -> Callable[[grpc.ServicerContext], None]:
    def run(context: grpc.ServicerContext) -> None:
        raise error

    return run


def aborting(context: grpc.ServicerContext) -> None:
    context.abort(grpc.StatusCode.OUT_OF_RANGE, "chosen by the handler")


CASES: dict[bytes, tuple[BaseException | None, grpc.StatusCode, str]] = {
    b"not-found": (NotFound("no such thing"), grpc.StatusCode.NOT_FOUND, "NOT_FOUND"),
    b"invalid": (
        Invalid.field("device_id", "must be a device id (a UUID)"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
    ),
    b"unauthenticated": (
        NotAuthenticated("who?", reason="LOGIN_REFUSED"),
        grpc.StatusCode.UNAUTHENTICATED,
        "LOGIN_REFUSED",
    ),
    b"refused": (Refused("not yours"), grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_DENIED"),
    b"conflict": (
        Conflict("not yet", reason="NOT_READY", metadata={"retry": "later"}),
        grpc.StatusCode.FAILED_PRECONDITION,
        "NOT_READY",
    ),
    b"done": (AlreadyDone("done before"), grpc.StatusCode.ALREADY_EXISTS, "ALREADY_EXISTS"),
    b"exhausted": (Exhausted("too much"), grpc.StatusCode.RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED"),
    b"contended": (Contended("busy"), grpc.StatusCode.ABORTED, "WRITE_CONFLICT"),
    b"unavailable": (Unavailable("gone"), grpc.StatusCode.UNAVAILABLE, "STORE_UNAVAILABLE"),
    b"operational": (
        OperationalError(f"NATS down {SECRET}"),
        grpc.StatusCode.UNAVAILABLE,
        "STORE_UNAVAILABLE",
    ),
    b"jetstream": (
        JetStreamError(f"no stream {SECRET}", 10059, 404),
        grpc.StatusCode.UNAVAILABLE,
        "STORE_UNAVAILABLE",
    ),
    b"bucket": (
        nats.errors.TimeoutError(),
        grpc.StatusCode.UNAVAILABLE,
        "STORE_UNAVAILABLE",
    ),
    b"integrity": (
        IntegrityError(f"concurrent append {SECRET}"),
        grpc.StatusCode.ABORTED,
        "WRITE_CONFLICT",
    ),
    b"surprise": (KeyError(SECRET), grpc.StatusCode.INTERNAL, "INTERNAL"),
    b"abort": (None, grpc.StatusCode.OUT_OF_RANGE, ""),
}


@pytest.fixture(scope="module")
def channel() -> Iterator[grpc.Channel]:
    """The interceptors as every service has them: errors outside the adapter that runs the
    synchronous handlers in a pool."""
    handlers: dict[bytes, Callable[[grpc.ServicerContext], None]] = {
        k: raiser(e) if e is not None else aborting for k, (e, _, _) in CASES.items()
    }
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    pool = ThreadPoolExecutor(4)

    async def build() -> tuple[grpc.aio.Server, int]:
        adapter = MethodAdapter(pool, lambda _: True, max_streams=10, max_open_streams=10)
        server = grpc.aio.server(
            handlers=[Raising(handlers)], interceptors=[ErrorInterceptor("test"), adapter]
        )
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    server, port = asyncio.run_coroutine_threadsafe(build(), loop).result(10)
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel
    asyncio.run_coroutine_threadsafe(server.stop(0), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    pool.shutdown()


def call_unary(channel: grpc.Channel, key: bytes) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        channel.unary_unary("/t/Unary")(key, timeout=10)
    error: grpc.RpcError = caught.value
    return error


@pytest.mark.parametrize("key", list(CASES))
def test_each_kind_answers_its_status_with_its_reason(channel: grpc.Channel, key: bytes) -> None:
    error, code, reason = CASES[key]
    answer = call_unary(channel, key)
    assert answer.code() == code
    assert SECRET not in str(answer.details())  # what is not ours to say is never said
    info = error_info(answer)
    if error is None:  # a status the handler chose itself passes through untouched
        assert info is None and answer.details() == "chosen by the handler"
        return
    assert info is not None
    assert (info.reason, info.domain) == (reason, "test.hearth")
    if isinstance(error, HearthError):
        assert answer.details() == error.message
        assert dict(info.metadata) == error.metadata


def test_invalid_input_names_its_fields_in_a_bad_request(channel: grpc.Channel) -> None:
    info = error_info(call_unary(channel, b"invalid"))
    assert info is not None
    assert info.violations == (FieldViolation("device_id", "must be a device id (a UUID)"),)


def test_a_streaming_handler_is_answered_the_same_after_what_it_sent(
    channel: grpc.Channel,
) -> None:
    for key in (b"not-found", b"operational", b"surprise"):
        _, code, reason = CASES[key]
        received: list[Any] = []
        with pytest.raises(grpc.RpcError) as caught:
            received.extend(channel.unary_stream("/t/Stream")(key, timeout=10))
        assert received == [b"first"]
        assert caught.value.code() == code
        info = error_info(caught.value)
        assert info is not None and info.reason == reason


def test_a_reason_is_none_for_a_status_without_details(channel: grpc.Channel) -> None:
    assert error_info(call_unary(channel, b"abort")) is None


# Validators.


def violation_of(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(Invalid) as caught:
        call()
    error = caught.value
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert len(error.violations) == 1
    v = error.violations[0]
    assert error.message == f"{v.field} {v.description}"
    return v.field, v.description


def test_request_ids_are_1_to_128_characters() -> None:
    assert fields.request_id("r" * 128) == "r" * 128
    assert violation_of(lambda: fields.request_id("")) == (
        "request_id",
        "must be 1..128 characters",
    )
    assert violation_of(lambda: fields.request_id("r" * 129))[0] == "request_id"


def test_a_uuid_is_named_by_its_kind_and_long_input_is_not_echoed() -> None:
    org = "6f0e3c52-58a4-4b43-8a8f-0b8f7ad5f4a1"
    assert str(fields.identifier(org, "organisation_id", "organisation")) == org
    field, description = violation_of(
        lambda: fields.identifier("x" * 500, "organisation_id", "organisation")
    )
    assert field == "organisation_id"
    assert description.startswith("must be an organisation id (a UUID)")
    assert "x" * 17 not in description  # a short prefix at most
    _, description = violation_of(lambda: fields.identifier("", "account_id", "account"))
    assert description == "must be an account id (a UUID)"


def test_text_bytes_enums_and_counts_are_bounded() -> None:
    assert fields.text("hi", "name", max_chars=2, required=True) == "hi"
    assert violation_of(lambda: fields.text("   ", "name", max_chars=5, required=True))[0] == "name"
    assert violation_of(lambda: fields.text("abc", "name", max_chars=2)) == (
        "name",
        "must be at most 2 characters",
    )
    assert fields.exact_bytes(b"k" * 32, "key", 32, "Ed25519 key") == b"k" * 32
    assert violation_of(lambda: fields.exact_bytes(b"k", "key", 32, "Ed25519 key")) == (
        "key",
        "must be a 32-byte Ed25519 key",
    )
    assert violation_of(lambda: fields.bounded_bytes(b"", "image", max_bytes=4, required=True))
    assert violation_of(lambda: fields.bounded_bytes(b"12345", "image", max_bytes=4))[0] == "image"
    assert fields.known(2, "band", {1, 2}, "an age band") == 2
    assert violation_of(lambda: fields.known(0, "band", {1, 2}, "an age band")) == (
        "band",
        "must be an age band",
    )
    assert violation_of(lambda: fields.positive(0, "version"))[0] == "version"
    pattern = re.compile(r"[a-z]+")
    assert violation_of(lambda: fields.matching("A", "purpose", pattern, "lower case"))[0]
    assert fields.bounded_int(2**63 - 1, "up_to_sequence", at_most=2**63 - 1) == 2**63 - 1
    assert violation_of(lambda: fields.bounded_int(2**64 - 1, "up_to_sequence", at_most=9)) == (
        "up_to_sequence",
        "must be 0..9",
    )
    assert fields.count([1, 2], "keys", at_most=2) == 2
    assert violation_of(lambda: fields.count([], "ciphertexts", at_least=1, at_most=2)) == (
        "ciphertexts",
        "must have 1..2 entries, not 0",
    )


# The write-conflict retry.


def test_a_write_conflict_is_retried_and_one_that_never_ends_answers_contended() -> None:
    failures = iter(range(3))

    def flaky() -> str:
        if next(failures, None) is not None:
            raise IntegrityError("another writer")
        return "saved"

    assert retrying(flaky) == "saved"

    tries: list[int] = []

    def hopeless() -> None:
        tries.append(1)
        raise IntegrityError("another writer")

    with pytest.raises(Contended) as caught:
        retrying(hopeless)
    assert len(tries) == WRITE_ATTEMPTS
    assert caught.value.code == grpc.StatusCode.ABORTED
    assert caught.value.reason == "WRITE_CONFLICT"


def test_the_client_retries_only_what_a_retry_may_cure(channel: grpc.Channel) -> None:
    cured = {b"unavailable", b"operational", b"jetstream", b"bucket", b"contended", b"integrity"}
    cured.add(b"conflict")  # NOT_READY: a fact not heard of yet
    for key in CASES:
        assert client.retryable(call_unary(channel, key)) == (key in cured), key
    calls: list[bytes] = []

    def answering(*keys: bytes) -> Callable[[], bytes]:
        def call() -> bytes:
            key = keys[min(len(calls), len(keys) - 1)]
            calls.append(key)
            result: bytes = channel.unary_unary("/t/Unary")(key, timeout=10)
            return result

        return call

    with pytest.raises(grpc.RpcError) as caught:
        client.retrying(answering(b"unavailable", b"unavailable", b"not-found"), delay=0.01)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND  # raised at once, not retried
    assert calls == [b"unavailable", b"unavailable", b"not-found"]
    calls.clear()
    with pytest.raises(grpc.RpcError) as caught:
        client.retrying(answering(b"contended"), attempts=3, delay=0.01)
    assert caught.value.code() == grpc.StatusCode.ABORTED and len(calls) == 3  # then gives up
