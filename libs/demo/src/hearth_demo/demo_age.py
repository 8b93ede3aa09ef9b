"""Demo chapter: a young person proves an age band without the platform learning their age."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from hearth_eventlog import StreamSettings
from hearth_eventlog.published import decode_published
from hearth_eventlog.records import decode_record
from hearth_proto.hearth.age.v1 import events_pb2, types_pb2
from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_sdk.age import AgeClient, TestIssuingAuthority, TokenWallet
from hearth_sdk.channel import connect
from hearth_sdk.identity import IdentityClient

from .demo import DemoContext, stream_messages


def chapter(ctx: DemoContext) -> None:
    platform = ctx.platform
    host = platform.hosts.get("age")
    if host is None or "identity" not in platform.hosts:
        return
    key_dir = Path(
        host.config.environ.get("HEARTH_AGE_KEY_DIR") or platform.data_dir / "keys" / "age"
    )
    # A real account, logged in by its device key; identity follows age's attestations.
    person = IdentityClient(
        connect(platform.endpoint("identity")), platform.data_dir / "device" / "yp.json"
    )
    person.register(identity_pb2.ROLE_YOUNG_PERSON, display_name="Robin")
    account_id, session = person.account_id, person.login()
    wallet = TokenWallet(platform.data_dir / "device" / "age-tokens.json")
    client = AgeClient(connect(platform.endpoint("age")), session, wallet, account_id=account_id)
    stream = StreamSettings.from_env(host.config.environ, "age").stream

    def age_events() -> list[tuple[int, object]]:
        found: list[tuple[int, object]] = []
        for seq, _, payload in asyncio.run(stream_messages(platform.nats_url, stream)):
            record = decode_record(payload)
            found.append((seq, decode_published(record.topic, record.state)))
        return found

    ctx.say(
        "A young person verifies their age with an identity document",
        "A (test) issuing authority signed the document with Ed25519. The age service checks the "
        "signature, reads the birth date in memory to decide a band, and keeps neither.",
    )
    today = date.today()
    birth_date = today.replace(year=today.year - 14, day=1)
    authority = TestIssuingAuthority.from_seed_file(key_dir / "document-authority.seed")
    document, signature = authority.issue(birth_date, document_number="HX-2048-DEMO")
    ctx.show(f"document on the device: birth date {birth_date}, number HX-2048-DEMO")
    verification_id = client.start_verification(types_pb2.METHOD_CLASS_DOCUMENT)
    decision = client.submit_document(verification_id, document, signature)
    ctx.show(
        f"decision: {types_pb2.AgeBand.Name(decision.band)} by "
        f"{types_pb2.MethodClass.Name(decision.method_class)}, "
        f"assurance {types_pb2.AssuranceLevel.Name(decision.assurance_level)}"
    )

    ctx.say(
        "The device gets 30 single-use tokens, blind-signed",
        "It makes 30 token messages (each with a fresh nonce and a fresh holder key), blinds "
        "them (RFC 9474 RSABSSA-SHA384-PSS-Randomized) and sends only the blinded values; the "
        "service signs them with its key for this band, method and 90-day epoch.",
    )
    count = client.obtain_tokens(verification_id, decision)
    ctx.show(f"{count} tokens finalised and kept in {wallet.path}")
    seen = age_events()
    for _, event in seen:
        if isinstance(event, events_pb2.TokensIssued):
            ctx.show(
                f"recorded: TokensIssued count={event.count} key={event.key_id.hex()[:16]}… "
                f"epoch={event.epoch}"
            )
    last_issuance = seen[-1][0]

    ctx.say(
        "The young person redeems one token for their account",
        "A fresh challenge from the service, signed by the token's holder key; the signature "
        "and epoch are checked, and the token's spend key is created once in a JetStream "
        "key-value bucket, so it can never be redeemed again.",
    )
    response = client.redeem(decision.band)
    ctx.show(
        f"attested: {types_pb2.AgeBand.Name(response.band)}, epoch {response.epoch}, "
        f"until {response.expires_at.ToDatetime():%Y-%m-%d}; {wallet.count()} tokens left"
    )
    for seq, event in age_events():
        if seq > last_issuance and isinstance(event, events_pb2.AgeBandAttested):
            ctx.show(
                f"recorded: AgeBandAttested account={event.account_id} "
                f"band={types_pb2.AgeBand.Name(event.band)} "
                f"method={types_pb2.MethodClass.Name(event.method_class)} "
                f"level={types_pb2.AssuranceLevel.Name(event.assurance_level)}"
            )

    if person is not None:
        identity = person

        def band_shown() -> bool:
            return bool(identity.account().attested_band == response.band)

        ctx.wait_until(band_shown)
        account = identity.account()
        ctx.show(
            f"identity followed the attestation: account {account.account_id} shows "
            f"{types_pb2.AgeBand.Name(account.attested_band)}"
        )

    ctx.say(
        "What the platform learned, and what it did not",
        "Learned: this account is in the 13-15 band until the epoch ends, decided by a document "
        "check at ENHANCED assurance. Not learned: the birth date, the document or its number "
        "(checked below in the raw stream), nor which of the 30 tokens was redeemed: the "
        "verification session records no account, and the signed messages were blinded.",
    )
    stored = b"".join(
        payload for _, _, payload in asyncio.run(stream_messages(platform.nats_url, stream))
    )
    for label, secret in (
        ("birth date", birth_date.isoformat().encode()),
        ("document number", b"HX-2048-DEMO"),
        ("document signature", signature),
    ):
        ctx.show(f"{label} anywhere in the age stream: {'yes' if secret in stored else 'no'}")
