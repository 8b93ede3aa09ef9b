"""Hostile inputs for every RPC of every service, built from the protos' descriptors.

Nothing here names an RPC: the RPCs are those each running service registers (its own
services, health and reflection), found in the descriptor pool, so a new RPC is covered the
day it is served. Each `Case` is one call as a hostile client would make it: garbage bytes,
a request with one field set to a garbage value, or a well-formed request under a missing,
malformed, expired, forged or odd session, or under each role. Cases are drawn with a fixed
seed, so a run is repeatable; `per_rpc` bounds how many each RPC gets.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health
from grpc_reflection.v1alpha import reflection

import hearth_proto
from hearth_runtime.platform import Platform
from hearth_runtime.sessions import SessionSigner
from hearth_sdk.errors import error_info
from tests.hostile.tokens import Metadata, bearer, roles_sessions, sessions

# What a hostile call may be answered with. Never INTERNAL or UNKNOWN; never UNAVAILABLE,
# since NATS is up throughout (a store error is a bug in validation); DEADLINE_EXCEEDED only
# for a stream the server keeps open (the call's own deadline ends it).
ALLOWED = frozenset(
    {
        grpc.StatusCode.OK,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.ABORTED,
    }
)
STREAM_ALLOWED = ALLOWED | {grpc.StatusCode.DEADLINE_EXCEEDED}
OPEN_SERVICES = (health.SERVICE_NAME, reflection.SERVICE_NAME)
UNARY_DEADLINE = 10.0  # generous: a 2-core CI machine shared with the platform under test
STREAM_DEADLINE = 1.0  # how long a stream that stays open is watched
MARGIN = 2.0  # seconds past its deadline a call may take to come back
HUGE_TEXT = 100_000  # characters
HUGE_BYTES = 200_000
HUGE_COUNT = 10_000  # elements of a repeated field
OVERSIZED = 2 * 1024 * 1024  # past the server's 1 MiB message limit

Field = Any  # a field descriptor (upb's or the pure-Python one; their stubs disagree)


@dataclass(frozen=True)
class Rpc:
    """One method one running service serves."""

    service: str  # the platform's name for the host: identity, age, ...
    method: MethodDescriptor

    @property
    def path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def streaming(self) -> bool:
        return bool(self.method.client_streaming or self.method.server_streaming)


@dataclass(frozen=True)
class Case:
    """One hostile call: raw request bytes under some metadata."""

    rpc: Rpc
    kind: str  # garbage-bytes, garbage-field, session, role
    label: str
    request: bytes
    metadata: Metadata


@dataclass
class Answer:
    case: Case
    code: grpc.StatusCode
    details: str
    seconds: float
    reason: str = ""  # the ErrorInfo reason, when the server gave one

    @property
    def allowed(self) -> bool:
        codes = STREAM_ALLOWED if self.case.rpc.streaming else ALLOWED
        deadline = STREAM_DEADLINE if self.case.rpc.streaming else UNARY_DEADLINE
        return self.code in codes and self.seconds <= deadline + MARGIN

    def __str__(self) -> str:
        return (
            f"{self.case.rpc.path} [{self.case.kind}: {self.case.label}] -> "
            f"{self.code.name} in {self.seconds:.2f}s: {self.details[:200]!r}"
        )


@dataclass
class Run:
    """The answers of a hostile run, and its status histogram."""

    answers: list[Answer] = field(default_factory=list)

    @property
    def histogram(self) -> Counter[str]:
        return Counter(a.code.name for a in self.answers)

    @property
    def refused(self) -> list[Answer]:
        return [a for a in self.answers if not a.allowed]

    def summary(self) -> str:
        rpcs = len({a.case.rpc for a in self.answers})
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.histogram.items()))
        return f"{len(self.answers)} hostile calls over {rpcs} RPCs: {counts}"


def load_protos() -> descriptor_pool.DescriptorPool:
    """The default descriptor pool with every Hearth proto module imported into it."""
    for info in pkgutil.walk_packages(hearth_proto.__path__, f"{hearth_proto.__name__}."):
        if info.name.endswith("_pb2"):
            importlib.import_module(info.name)
    return descriptor_pool.Default()


def rpcs(platform: Platform) -> list[Rpc]:
    """Every method of every service each host serves, health and reflection included."""
    pool = load_protos()
    found = []
    for name, host in platform.hosts.items():
        for service in [*host.parts.service_names, *OPEN_SERVICES]:
            for method in pool.FindServiceByName(service).methods:
                found.append(Rpc(name, method))
    return found


# --- garbage bytes ------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def garbage_bytes(rpc: Rpc, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    yield "random bytes", rng.randbytes(rng.randint(1, 300))
    yield "random bytes (long)", rng.randbytes(4000)
    yield "truncated length", _tag(1, 2) + _varint(16) + b"abc"
    yield "overrunning length", _tag(1, 2) + _varint(2**31) + b"x"
    yield "overflowing varint", _tag(1, 0) + b"\xff" * 10 + b"\x01"
    yield "endless varint", _tag(1, 0) + b"\xff" * 64
    yield "field number 0", b"\x00\x01" + b"\x02\x01x"
    yield "deep groups", _tag(1, 3) * 5000 + _tag(1, 4) * 5000
    yield "unbalanced group end", _tag(1, 4)
    yield "unbalanced group start", _tag(2, 3) * 3
    yield "reserved wire type", _tag(1, 6) + b"\x00"
    for f in rpc.method.input_type.fields:
        if f.type == FieldDescriptor.TYPE_STRING:
            bad = b"\xc3\x28\xff\xfe"
            yield f"invalid UTF-8 in {f.name}", _tag(f.number, 2) + _varint(len(bad)) + bad
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            nested = b""
            for _ in range(200):  # past protobuf's recursion limit if the type nests
                nested = _tag(f.number, 2) + _varint(len(nested)) + nested
            yield f"deep nesting in {f.name}", nested


# --- garbage values in fields -------------------------------------------------------------

_LIMITS = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _plausible(f: Field, rng: random.Random, depth: int) -> object:
    """A value a careless but honest client might send."""
    if f.type == FieldDescriptor.TYPE_STRING:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if f.type == FieldDescriptor.TYPE_BYTES:
        return rng.randbytes(32)
    if f.type == FieldDescriptor.TYPE_BOOL:
        return True
    if f.type == FieldDescriptor.TYPE_ENUM:
        values = [v.number for v in f.enum_type.values if v.number]
        return rng.choice(values) if values else 0
    if f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return 1.5
    if f.type == FieldDescriptor.TYPE_MESSAGE:
        return plausible(GetMessageClass(f.message_type), rng, depth + 1)
    return 1


def plausible(cls: type[Message], rng: random.Random, depth: int = 0) -> Message:
    """A request with every field set to something ordinary (messages to a bounded depth)."""
    message = cls()
    if depth > 3:
        return message
    for f in cls.DESCRIPTOR.fields:
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            continue
        value = _plausible(f, rng, depth)
        _assign(message, f, [value] if _repeated(f) else value)
    return message


def _repeated(f: Field) -> bool:
    return bool(f.is_repeated)


def _assign(message: Message, f: Field, value: object) -> None:
    if _repeated(f):
        target = getattr(message, f.name)
        del target[:]
        assert isinstance(value, list)
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            for item in value:
                target.add().CopyFrom(item)
        else:
            target.extend(value)
    elif f.type == FieldDescriptor.TYPE_MESSAGE:
        assert isinstance(value, Message)
        getattr(message, f.name).CopyFrom(value)
    else:
        setattr(message, f.name, value)


def _garbage_values(f: Field, rng: random.Random) -> Iterator[tuple[str, object]]:
    if f.type == FieldDescriptor.TYPE_STRING:
        yield "huge", "é" * HUGE_TEXT
        yield "control characters", "\x00\x1b[2J\u202e" * 8
        yield "empty", ""
    elif f.type == FieldDescriptor.TYPE_BYTES:
        yield "huge", rng.randbytes(HUGE_BYTES)
        yield "empty", b""
    elif f.type == FieldDescriptor.TYPE_ENUM:
        yield "unknown enum value", 12345
        yield "negative enum value", -1
    elif f.type in _LIMITS:
        low, high = _LIMITS[f.type]
        yield "maximum", high
        if low:
            yield "minimum", low
    elif f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        yield "not a number", float("nan")
        yield "infinity", float("inf")
    elif f.type == FieldDescriptor.TYPE_MESSAGE:
        yield "empty message", GetMessageClass(f.message_type)()


def garbage_fields(rpc: Rpc, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    cls = GetMessageClass(rpc.method.input_type)
    base = plausible(cls, rng)
    yield "plausible", base.SerializeToString()
    yield "empty", b""
    yield (
        "oversized",
        base.SerializeToString() + _tag(999, 2) + _varint(OVERSIZED) + bytes(OVERSIZED),
    )
    for f in cls.DESCRIPTOR.fields:
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            continue
        for label, value in _garbage_values(f, rng):
            message = cls()
            message.CopyFrom(base)
            _assign(message, f, [value] if _repeated(f) else value)
            yield f"{f.name}: {label}", message.SerializeToString()
        if _repeated(f):
            message = cls()
            message.CopyFrom(base)
            _assign(message, f, [_plausible(f, rng, 1) for _ in range(HUGE_COUNT)])
            yield f"{f.name}: {HUGE_COUNT} elements", message.SerializeToString()


# --- the cases of a run -------------------------------------------------------------------


def needs_session(platform: Platform, rpc: Rpc) -> bool:
    rule = platform.hosts[rpc.service].parts.rules.get(rpc.path)
    open_service = rpc.method.containing_service.full_name in OPEN_SERVICES
    return not (rule is None or rule.public or open_service)


def allowed_session(platform: Platform, rpc: Rpc, signer: SessionSigner, account: str) -> Metadata:
    """A valid session the RPC admits (so garbage reaches the servicer), or none if public."""
    rule = platform.hosts[rpc.service].parts.rules.get(rpc.path)
    if rule is None or not needs_session(platform, rpc):
        return ()
    role = sorted(rule.roles)[0] if rule.roles else "org_admin"
    return bearer(signer.issue(account, {role}))


SESSION_REFUSALS = frozenset({"SESSION_MISSING", "SESSION_INVALID", "SESSION_AMBIGUOUS"})
MAX_METADATA = 8000  # characters: past the transport's limit a call is refused before us


def expected_refusal(platform: Platform, case: Case) -> tuple[grpc.StatusCode, frozenset[str]]:
    """The status and reasons the access check documents for a session or role case of an
    RPC that needs a session; (OK, {}) where it decides nothing (the RPC may answer anything
    it documents)."""
    nothing: tuple[grpc.StatusCode, frozenset[str]] = (grpc.StatusCode.OK, frozenset())
    rule = platform.hosts[case.rpc.service].parts.rules.get(case.rpc.path)
    if rule is None or not needs_session(platform, case.rpc):
        return nothing
    if sum(len(k) + len(v) for k, v in case.metadata) > MAX_METADATA:
        return nothing
    if case.kind == "session":
        return grpc.StatusCode.UNAUTHENTICATED, SESSION_REFUSALS
    if case.kind == "role" and rule.roles is not None and case.label not in rule.roles:
        return grpc.StatusCode.PERMISSION_DENIED, frozenset({"ROLE_REQUIRED"})
    return nothing


def cases(platform: Platform, roles: Sequence[str], *, per_rpc: int, seed: int = 9) -> list[Case]:
    """Up to `per_rpc` cases for every RPC, drawn with a fixed seed from every kind."""
    rng = random.Random(seed)
    signer = platform.signer
    account = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    chosen: list[Case] = []
    for rpc in rpcs(platform):
        admitted = allowed_session(platform, rpc, signer, account)
        plain = plausible(GetMessageClass(rpc.method.input_type), rng).SerializeToString()
        kinds = {
            "garbage-bytes": [(label, data, admitted) for label, data in garbage_bytes(rpc, rng)],
            "garbage-field": [(label, data, admitted) for label, data in garbage_fields(rpc, rng)],
            "session": [(label, plain, md) for label, md in sessions(signer, account)],
            "role": [(label, plain, md) for label, md in roles_sessions(signer, account, roles)],
        }
        # Take from each kind in turn, so a small budget still tries every kind.
        pools = {k: rng.sample(v, len(v)) for k, v in kinds.items()}
        picked = 0
        while picked < per_rpc and any(pools.values()):
            for kind, pool in pools.items():
                if pool and picked < per_rpc:
                    label, data, md = pool.pop()
                    chosen.append(Case(rpc, kind, label, data, md))
                    picked += 1
    return chosen


def call(channel: grpc.Channel, case: Case) -> Answer:
    """Make one hostile call; its status, details and how long it took."""
    rpc, started = case.rpc, time.perf_counter()
    method = rpc.method
    try:
        if method.client_streaming and method.server_streaming:
            stream = channel.stream_stream(rpc.path)(
                iter([case.request]), metadata=case.metadata, timeout=STREAM_DEADLINE
            )
            for _ in stream:
                pass
        elif method.server_streaming:
            stream = channel.unary_stream(rpc.path)(
                case.request, metadata=case.metadata, timeout=STREAM_DEADLINE
            )
            for _ in stream:
                pass
        elif method.client_streaming:
            channel.stream_unary(rpc.path)(
                iter([case.request]), metadata=case.metadata, timeout=UNARY_DEADLINE
            )
        else:
            channel.unary_unary(rpc.path)(
                case.request, metadata=case.metadata, timeout=UNARY_DEADLINE
            )
        code, details = grpc.StatusCode.OK, ""
    except grpc.RpcError as e:
        info = error_info(e)
        elapsed = time.perf_counter() - started
        return Answer(case, e.code(), e.details() or "", elapsed, info.reason if info else "")
    return Answer(case, code, details, time.perf_counter() - started)


def run(platform: Platform, chosen: Sequence[Case], *, clients: int = 8) -> Run:
    """Every case, from `clients` threads, each service on a channel of its own."""
    channels = {name: grpc.insecure_channel(platform.endpoint(name)) for name in platform.hosts}
    try:
        with ThreadPoolExecutor(clients) as pool:
            return Run(list(pool.map(lambda c: call(channels[c.rpc.service], c), chosen)))
    finally:
        for channel in channels.values():
            channel.close()
