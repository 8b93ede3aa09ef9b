"""`hearth demo` / `make demo`: the platform's main job, end to end, narrated.

It starts every service on an embedded nats-server in a fresh directory, drives them through
gRPC as a client app would, reads what actually landed in JetStream, and prints one trace that
runs from the client's call through the appended event into another service's follower.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import shutil
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import nats
from nacl.signing import SigningKey
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from hearth_eventlog import StreamSettings
from hearth_eventlog.published import decode_published
from hearth_eventlog.records import decode_record
from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import events_pb2, identity_pb2, identity_pb2_grpc
from hearth_runtime import admin
from hearth_runtime.platform import Platform
from hearth_runtime.telemetry import setup_telemetry
from hearth_sdk.channel import bearer, connect
from hearth_sdk.identity import IdentityClient, login_text

SPANS = InMemorySpanExporter()
# Chapters that later features add: a module `hearth_demo.demo_<area>` with `chapter(ctx)`,
# run in this order after the foundation chapter when present.
CHAPTERS = ("identity", "age", "messaging", "audit", "scanner", "safety", "records")
_step = 0


def say(step: str, text: str = "") -> None:
    """A numbered step of the story, with what it shows."""
    global _step
    _step += 1
    print(f"\n== {_step}. {step}")
    if text:
        print(textwrap.indent(textwrap.fill(text, 92), "   "))


@dataclass
class DemoContext:
    """What a chapter gets: the running platform and the narration helpers."""

    platform: Platform
    spans: InMemorySpanExporter
    say: Callable[..., None] = say
    show: Callable[[str], None] = field(default_factory=lambda: show)
    wait_until: Callable[..., None] = field(default_factory=lambda: wait_until)


def show(line: str) -> None:
    print(f"   {line}")


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the platform did not reach the expected state in time")
        time.sleep(0.05)


async def stream_messages(nats_url: str, stream: str) -> list[tuple[int, str, bytes]]:
    """Every message of a stream, read straight from JetStream (what an auditor would see)."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    info = await js.stream_info(stream)
    found = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(stream, seq)
        found.append((seq, msg.subject or "", msg.data or b""))
    await nc.close()
    return found


def print_trace(spans: Sequence[ReadableSpan], trace_id: int) -> None:
    mine = [s for s in spans if s.context is not None and s.context.trace_id == trace_id]
    children: dict[int | None, list[ReadableSpan]] = {}
    ids = {s.context.span_id for s in mine if s.context is not None}
    for s in mine:
        parent = s.parent.span_id if s.parent is not None and s.parent.span_id in ids else None
        children.setdefault(parent, []).append(s)

    def walk(parent: int | None, depth: int) -> None:
        for s in sorted(children.get(parent, []), key=lambda s: s.start_time or 0):
            service = s.resource.attributes.get("service.name", "")
            follower = s.attributes.get("follower") if s.attributes else None
            where = f"  [{follower}]" if follower else ""
            show(f"{'  ' * depth}{s.kind.name:<8} {s.name}{where}  ({service})")
            assert s.context is not None
            walk(s.context.span_id, depth + 1)

    walk(None, 0)


def run(data_dir: Path) -> None:
    global _step
    _step = 0
    setup_telemetry("hearth-demo", {}, extra_exporters=[SPANS])
    say(
        "Start the platform",
        "An embedded nats-server with JetStream starts on a free port; every installed service "
        "starts in this process, each on its own gRPC port. Services share no database and "
        "import no code of each other: they hear of each other only through the event log.",
    )
    platform = Platform(data_dir).start()
    try:
        show(f"NATS (JetStream):  {platform.nats_url}   data in {data_dir}")
        for name, host in platform.hosts.items():
            show(f"{name:<18} grpc://{host.address}  (health: SERVING)")
            if host.parts.web_address:  # the console: staff open it in a browser
                show(f"{'':<18} {host.parts.web_address}  (sign in with a passkey)")
        identity_channel = connect(platform.endpoint("identity"))
        identity = identity_pb2_grpc.IdentityServiceStub(identity_channel)
        audit = audit_pb2_grpc.AuditServiceStub(connect(platform.endpoint("audit")))
        # The regulator's auditor is a real account: the operator's bootstrap invites them
        # (what `hearth admin invite-staff auditor` does), they register and log in.
        auditor = IdentityClient(identity_channel, data_dir / "devices" / "auditor.json")
        code = admin.invite(identity_channel, platform.signer, identity_pb2.ROLE_AUDITOR).code
        auditor.register(identity_pb2.ROLE_AUDITOR, invitation_code=code)
        auditor.login()
        show("$ hearth admin invite-staff auditor   (the operator: whoever holds the signing key)")
        show("  a regulator's auditor registered with the single-use code and logged in")
        stream = StreamSettings.from_env(
            platform.hosts["identity"].config.environ, "identity"
        ).stream

        def identity_stream() -> list[tuple[int, str, bytes]]:
            return asyncio.run(stream_messages(platform.nats_url, stream))

        def witnessed() -> int:
            state = audit.GetLogState(audit_pb2.GetLogStateRequest(), metadata=auditor.metadata())
            return int(state.events_by_stream.get("identity", 0))

        # What audit had taken in before the story starts (the auditor's own registration).
        before = [seq for seq, subject, _ in identity_stream() if ".events." in subject]
        wait_until(lambda: witnessed() == len(before))
        last_seq = max(before, default=0)

        def audited() -> int:
            return witnessed() - len(before)

        say(
            "A young person's device registers an account",
            "The app makes a fresh Ed25519 device key and calls RegisterAccount, the one open "
            "RPC, with a request id that makes a retry safe.",
        )
        device = SigningKey.generate()
        request = identity_pb2.RegisterAccountRequest(
            request_id="demo-registration-1",
            role=identity_pb2.ROLE_YOUNG_PERSON,
            device_public_key=bytes(device.verify_key),
        )
        SPANS.clear()
        account_id = identity.RegisterAccount(request).account_id
        show(f"account id: {account_id}")

        say(
            "What the identity service appended to its stream",
            "Read raw from JetStream. The event's schema is hearth.identity.v1.AccountRegistered "
            "under protos/, so anyone decodes it without identity's code; the event carries the "
            "hash of the previous event of the same account (none: it is the first).",
        )
        messages = identity_stream()
        for seq, subject, payload in messages:
            if seq <= last_seq:
                continue
            record = decode_record(payload)
            message = decode_published(record.topic, record.state)
            show(f"seq {seq}  {subject}")
            show(f"  topic {record.topic}  version {record.originator_version}")
            if not isinstance(message, events_pb2.AccountRegistered):
                continue
            role = identity_pb2.Role.Name(message.role)
            show(f"  decoded: role={role} request_id={message.request_id}")
            show(f"  previous_hash: {record.previous_hash.hex() or '(none: first event)'}")
        tracking = sum(1 for _, subject, _ in messages if ".tracking." in subject)
        show(
            f"tracking records: {tracking} (identity follows age for AgeBandAttested only, so "
            "the issuer keys age published at start-up left nothing here)"
        )

        say(
            "The audit service follows identity's stream",
            "It took the event in exactly once, recording its own event together with a "
            "tracking record of identity's position, in one atomic JetStream batch.",
        )
        wait_until(lambda: audited() == 1)
        show(f"audit log: identity events taken in = {audited()}")

        say(
            "The device retries the same registration",
            "Same request id: the same account comes back and nothing new is appended, so the "
            "follower has nothing new to take in.",
        )
        again = identity.RegisterAccount(request).account_id
        time.sleep(0.5)
        show(f"account id: {again} (same: {again == account_id}); audit still = {audited()}")

        say(
            "Every other RPC needs a session token, checked offline in one interceptor",
            "Without a token GetAccount is refused. The device logs in: it signs identity's "
            "single-use challenge with its key and gets a short-lived token signed by identity "
            "(here with the development key under the data directory); with it, it answers.",
        )
        try:
            identity.GetAccount(identity_pb2.GetAccountRequest())
        except grpc.RpcError as e:
            show(f"without a token: {e.code().name}: {e.details()}")
        challenge = identity.BeginLogin(
            identity_pb2.BeginLoginRequest(
                account_id=account_id, device_public_key=bytes(device.verify_key)
            )
        )
        signed = device.sign(login_text(challenge.challenge_id, challenge.challenge, account_id))
        session = bearer(
            identity.CompleteLogin(
                identity_pb2.CompleteLoginRequest(
                    challenge_id=challenge.challenge_id, signature=signed.signature
                )
            ).session_token
        )
        account = identity.GetAccount(identity_pb2.GetAccountRequest(), metadata=session)
        show(
            f"with a token: account {account.account_id}, "
            f"role {identity_pb2.Role.Name(account.role)}, devices {account.devices}"
        )
        try:
            audit.GetLogState(audit_pb2.GetLogStateRequest(), metadata=session)
        except grpc.RpcError as e:
            show(f"a young person asking for the audit log: {e.code().name}: {e.details()}")

        say(
            "One trace, from the client's call into the follower in another service",
            "W3C trace context travels in gRPC metadata and in the NATS message headers.",
        )
        time.sleep(0.3)
        spans = SPANS.get_finished_spans()
        client = next(
            s for s in spans if s.name.endswith("RegisterAccount") and s.kind.name == "CLIENT"
        )
        assert client.context is not None
        show(f"trace {client.context.trace_id:032x}")
        print_trace(spans, client.context.trace_id)

        context = DemoContext(platform, SPANS)
        for area in CHAPTERS:
            module = f"hearth_demo.demo_{area}"
            if importlib.util.find_spec(module) is not None:
                importlib.import_module(module).chapter(context)
    finally:
        say(
            "Stop",
            "Health goes NOT_SERVING, servers finish in-flight calls, followers stop, NATS "
            "connections drain, the embedded server stops.",
        )
        platform.stop()
    print("\nDemo complete.")


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(prog="hearth demo", description=__doc__)
    parser.add_argument("--data-dir", help="keep the platform's data here (default: temporary)")
    args = parser.parse_args(list(argv))
    if args.data_dir:
        run(Path(args.data_dir))
        return 0
    data_dir = Path(tempfile.mkdtemp(prefix="hearth-demo-"))
    try:
        run(data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0
