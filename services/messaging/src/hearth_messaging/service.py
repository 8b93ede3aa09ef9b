"""How the runtime builds the messaging service (entry point `hearth.services: messaging`)."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path

from hearth_crypto.franking import RelayKey
from hearth_proto.hearth.messaging.v1 import (
    messaging_pb2,
    messaging_pb2_grpc,
    records_pb2,
    records_pb2_grpc,
)
from hearth_runtime.access import roles
from hearth_runtime.config import ConfigError, Env, RuntimeConfig
from hearth_runtime.follow import FollowSettings, StreamFollower
from hearth_runtime.secret_files import development_secret
from hearth_runtime.server import ServiceParts

from .application import Messaging
from .limits import RelayLimits
from .mailbox import Mailboxes
from .policy import ContactPolicy
from .records_servicer import RecordsServicer
from .servicer import MessagingServicer

SERVICE = messaging_pb2.DESCRIPTOR.services_by_name["MessagingService"].full_name
# Everyone who talks on the platform; auditors and data protection officers read audit data,
# they do not message.
TALKING_ROLES = (
    "child",
    "young_person",
    "guardian",
    "practitioner",
    "moderator",
    "safeguarding_lead",
    "org_admin",
)
MESSAGING_ROLES = roles(*TALKING_ROLES)
# An organisation's record keeper is a device like any other that receives, never one that
# starts conversations or sends.
KEEPER_USES = frozenset(
    {
        "PublishPrekeys",
        "CountPrekeys",
        "ListDevices",
        "GetConversation",
        "ReceiveEnvelopes",
        "AcknowledgeEnvelopes",
    }
)
RECORDS_SERVICE = records_pb2.DESCRIPTOR.services_by_name["RecordsService"].full_name
RULES = {
    f"/{SERVICE}/{method.name}": (
        roles(*TALKING_ROLES, "record_keeper") if method.name in KEEPER_USES else MESSAGING_ROLES
    )
    for method in messaging_pb2.DESCRIPTOR.services_by_name["MessagingService"].methods
} | {
    f"/{RECORDS_SERVICE}/{method.name}": (
        roles("child", "young_person", "practitioner")
        if method.name in ("RequestRecords", "GetRecordAnswer")
        else roles("record_keeper")
    )
    for method in records_pb2.DESCRIPTOR.services_by_name["RecordsService"].methods
}


def relay_key(env: Env, data_dir: Path) -> RelayKey:
    """The relay's franking signing key (an Ed25519 seed): from configuration, or kept under
    the data dir in development. Rotating it is configuring a new one: the keys published
    before stay in the log, so the stamps they made still verify."""
    configured = env.raw("HEARTH_FRANKING_KEY")
    if configured:
        try:
            seed = base64.b64decode(configured, validate=True)
        except binascii.Error:
            seed = b""
        if len(seed) != 32:
            raise ConfigError(
                "HEARTH_MESSAGING_FRANKING_KEY must be a 32-byte Ed25519 seed, base64"
            )
        return RelayKey(seed)
    return RelayKey(
        development_secret(
            env.environ,
            data_dir / "messaging-relay-signing.key",
            lambda: os.urandom(32),
            variable="HEARTH_MESSAGING_FRANKING_KEY",
        )
    )


def house_rules_version(environ: Mapping[str, str]) -> int:
    """The house rules in force: messaging's own setting, else what identity is configured with
    (HEARTH_IDENTITY_HOUSE_RULES_VERSION, or HEARTH_HOUSE_RULES_VERSION for both), else 1."""
    return Env(environ).whole(
        "HEARTH_MESSAGING_HOUSE_RULES_VERSION",
        Env(environ, "identity").whole("HEARTH_HOUSE_RULES_VERSION", 1, minimum=1),
        minimum=1,
    )


def build(config: RuntimeConfig) -> ServiceParts:
    env = Env(config.environ, "messaging")
    policy_file = env.raw("HEARTH_CONTACT_POLICY")
    policy = ContactPolicy.load(Path(policy_file)) if policy_file else ContactPolicy.default()
    stream = env.text("HEARTH_MAILBOX_STREAM", "HEARTH_MESSAGING_MAILBOX")
    mailboxes = Mailboxes(
        config.nats_url,
        stream=stream,
        subject_prefix=env.text("HEARTH_MAILBOX_SUBJECT_PREFIX", "hearth.mailbox"),
        retention_days=env.whole("HEARTH_MAILBOX_RETENTION_DAYS", 30, minimum=1),
        replicas=env.whole("HEARTH_MAILBOX_REPLICAS", 1, minimum=1, maximum=5),
    )
    limits = RelayLimits(
        max_ciphertext_bytes=env.whole("HEARTH_MAX_CIPHERTEXT_BYTES", 64 * 1024, minimum=256),
        rate_per_second=env.number("HEARTH_SEND_RATE", 20.0, minimum=0.1),
        burst=env.whole("HEARTH_SEND_BURST", 60, minimum=1),
    )
    app = Messaging(
        config.application_env(),
        mailboxes=mailboxes,
        policy=policy,
        relay_key=relay_key(env, config.data_dir),
        limits=limits,
        house_rules_version=house_rules_version(config.environ),
    )
    try:
        app.publish_relay_key()
    except BaseException:
        app.close()
        raise
    follow = FollowSettings.from_env(env)
    followers = [
        StreamFollower(app, upstream, config.application_env(), settings=follow)
        for upstream in (
            env.text("HEARTH_IDENTITY_APP", "identity"),
            # The safety team's actions (suspensions, restrictions, blocks, removals); a
            # platform without safety waits for its stream and enforces nothing.
            env.text("HEARTH_SAFETY_APP", "safety"),
        )
    ]
    return ServiceParts(
        name="messaging",
        servicers=[
            (messaging_pb2_grpc.add_MessagingServiceServicer_to_server, MessagingServicer(app)),
            (records_pb2_grpc.add_RecordsServiceServicer_to_server, RecordsServicer(app)),
        ],
        service_names=[SERVICE, RECORDS_SERVICE],
        rules=RULES,
        applications=[app],
        revocations=app.revocations,
        followers=followers,
        on_stop=[mailboxes.close],
    )
