"""Demo chapter: the child's own device sees a grooming pattern build up, and sends nothing.

A stranger registered as a young person (no attested age, so the contact policy lets them
reach another 13-15) writes to Ava through real end-to-end encrypted messaging. Ava's device
scans each message as it decrypts it: flattery, then secrecy, then a move to another app
raise the conversation's risk step by step, and Ava is warned, in words for her age with
Childline and 999, before she replies; her reply is never blocked. A signed safety pack
lists a picture's hash, and the stranger's re-encoded copy of it is blurred until Ava
chooses. Ava's device talks to the relay through a byte counter: while it scans, nothing
leaves it.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from contextlib import suppress
from pathlib import Path

from nacl.signing import SigningKey
from PIL import Image, ImageDraw

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_scanner.images import fingerprint
from hearth_scanner.packs import build_pack
from hearth_scanner.taxonomy import Participant
from hearth_sdk.channel import connect
from hearth_sdk.identity import IdentityClient
from hearth_sdk.messaging import MessagingDevice
from hearth_sdk.safety import SafetyGuard

from .demo import DemoContext


class WireTap:
    """A TCP relay on loopback that counts every byte the device sends and receives."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.sent = self.received = 0
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self._open += [client, server]
            for a, b, up in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pump, args=(a, b, up), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, up: bool) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                with self._lock:
                    if up:
                        self.sent += len(data)
                    else:
                        self.received += len(data)
                target.sendall(data)

    def total(self) -> int:
        """Bytes the device has sent so far."""
        with self._lock:
            return self.sent

    def quiet(self) -> int:
        """The count once the connection has gone still: HTTP/2 housekeeping that follows a
        receive (flow control, bandwidth probes) belongs to the receive, not to the scan."""
        last, still_since = self.total(), time.monotonic()
        deadline = still_since + 10
        while time.monotonic() < deadline and time.monotonic() - still_since < 1.0:
            time.sleep(0.05)
            if (now := self.total()) != last:
                last, still_since = now, time.monotonic()
        return last

    def close(self) -> None:
        self.listener.close()
        for s in self._open:
            with suppress(OSError):
                s.close()


def picture() -> Image.Image:
    """A made-up picture standing in for a known harmful image on a hash list."""
    image = Image.new("RGB", (480, 360), (40, 90, 160))
    draw = ImageDraw.Draw(image)
    for i in range(40):
        x, y = (i * 97) % 440, (i * 61) % 320
        colour = ((i * 53) % 256, (i * 101) % 256, (i * 29) % 256)
        draw.ellipse([x, y, x + 30 + (i * 7) % 90, y + 25 + (i * 11) % 70], fill=colour)
    return image


def encoded(image: Image.Image, fmt: str, **options: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def chapter(ctx: DemoContext) -> None:
    platform = ctx.platform
    if "messaging" not in platform.hosts or "identity" not in platform.hosts:
        return
    identity_channel = connect(platform.endpoint("identity"))
    identity = identity_pb2_grpc.IdentityServiceStub(identity_channel)
    devices = platform.data_dir / "devices" / "scanner"
    tap = WireTap(platform.endpoint("messaging"))

    def person(name: str) -> IdentityClient:
        client = IdentityClient(identity_channel, devices / f"{name.lower()}.json")
        client.register(identity_pb2.ROLE_YOUNG_PERSON, display_name=name)
        client.login()
        rules = identity.GetHouseRules(
            identity_pb2.GetHouseRulesRequest(), metadata=client.metadata()
        )
        identity.AcceptHouseRules(
            identity_pb2.AcceptHouseRulesRequest(version=rules.version), metadata=client.metadata()
        )
        return client

    def settle() -> None:
        recorder = platform.hosts["identity"].parts.applications[0].recorder
        last = recorder.max_notification_id() or 0
        platform.hosts["messaging"].parts.followers[0].wait_until(last, timeout=20)

    ctx.say(
        "Scanner: a stranger writes to Ava, and her own device reads the pattern",
        "Ava (13-15) and 'Kai' both registered as young people; Kai's age is not attested, so "
        "the contact policy lets Kai reach another 13-15. Ava's device decrypts each message "
        "and scans it on the device before showing it; her device's connection to the relay "
        "runs through a byte counter.",
    )
    ava, kai = person("Ava"), person("Kai")
    settle()
    channel = connect(tap.address)
    ava_phone = MessagingDevice(channel, ava.login(), ava.account_id, address=tap.address)
    ava_phone.publish(10)
    kai_phone = MessagingDevice(
        connect(platform.endpoint("messaging")), kai.login(), kai.account_id
    )
    kai_phone.publish(10)
    talk = kai_phone.start_conversation([ava.account_id]).conversation_id
    people = {
        "Ava": Participant("young_person", "13_15"),
        "Kai": Participant("young_person", "13_15", attested=False),
    }
    pack_key = SigningKey.generate()
    guard = SafetyGuard(people["Ava"], trusted_pack_key=pack_key.verify_key)

    grooming = [
        "hey saw ur drawings, ur so talented. youre honestly so mature for your age",
        "dont tell your mum we talk ok? she wouldnt get it",
        "this app is watched, add me on snap instead",
    ]
    left_during_scans = 0
    for text in grooming:
        kai_phone.send(talk, text.encode())
        (message,) = ava_phone.receive(1)
        before = tap.quiet()
        outcome = guard.incoming(talk, "Kai", message.body.decode(), people)
        left_during_scans += tap.total() - before
        ctx.show(f"Kai: {message.body.decode()!r}")
        ctx.show(
            f"  seen: {', '.join(outcome.scan.flagged) or 'nothing'}; conversation risk "
            f"{outcome.risk.score:.2f} ({outcome.risk.level})"
        )
        for line in outcome.scan.explain():
            ctx.show(f"    why: {line}")
        if outcome.warning:
            ctx.show(f"  Ava sees, before replying: {outcome.warning.text}")
            for help_line in outcome.warning.signposting:
                ctx.show(f"    {help_line}")

    ctx.say(
        "Ava's reply is never blocked",
        "Before sending, her device checks her words too: a pause with help, not a refusal.",
    )
    reply = "idk... my mum checks my phone. my snap is @ava_draws"
    before = tap.quiet()
    outcome = guard.outgoing(talk, "Ava", reply, people)
    left_during_scans += tap.total() - before
    ctx.show(f"Ava types: {reply!r}")
    ctx.show(f"  pause: {outcome.warning.text if outcome.warning else 'none'}")
    ctx.show(f"  may send: {outcome.may_send}; risk now {outcome.risk.score:.2f}")
    ava_phone.send(talk, reply.encode())

    ctx.say(
        "A listed image is blurred until Ava chooses",
        "A safety pack, signed with Ed25519 by the key Ava's device trusts, lists the PDQ hash "
        "of a known image. Kai sends a resized, re-compressed JPEG of it: the file's SHA-256 is "
        "new, but the perceptual hash is within 31 bits.",
    )
    known = fingerprint(encoded(picture(), "PNG"))
    now = time.time()
    pack = build_pack(
        pack_key,
        {
            "version": 1,
            "issued_at": now,
            "expires_at": now + 7 * 86400,
            "previous_digest": "",
            "hash_lists": {
                "demo-known-images": {
                    "mode": "full",
                    "pdq": [[known.pdq, known.quality, "known harmful image (demo)"]],
                }
            },
        },
    )
    installed = guard.install_pack(pack)
    ctx.show(f"pack v{installed.version} installed: {guard.pack_status()}")
    copy = encoded(picture().resize((400, 300)), "JPEG", quality=70)
    kai_phone.send(talk, copy)
    (image_message,) = ava_phone.receive(1)
    before = tap.quiet()
    seen = guard.image(image_message.body)
    left_during_scans += tap.total() - before
    assert seen.match is not None
    preview = Path(platform.data_dir) / "blurred-preview.png"
    preview.write_bytes(seen.preview)
    ctx.show(
        f"match: {seen.match.kind} distance {seen.match.distance} on {seen.match.list_id}; "
        f"shown blurred: {seen.blurred} ({preview.name})"
    )
    if seen.warning:
        ctx.show(f"Ava sees: {seen.warning.text}")

    ctx.say(
        "What left the device",
        "Every scan above ran on Ava's device between receiving and showing. The byte counter "
        "on her connection to the relay measured what went out while it scanned.",
    )
    ctx.show(f"bytes on the wire while scanning: {left_during_scans}  (sent by Ava's device)")
    ctx.show(
        "what left the device: nothing (no scan result, score, or word reached any server; "
        "only Ava's own reply, end to end encrypted)"
    )
    for d in (ava_phone, kai_phone):
        d.disconnect()
    tap.close()
    channel.close()
    identity_channel.close()
