"""Age tokens: server time to blind-sign a batch of 30, and redemptions/s over gRPC.

The limit a redemption cannot beat is the RSA-PSS verification of its token, so raw
`blind_rsa.verify` of the same tokens runs in the same rounds as the baseline; so does an
authenticated RPC that does almost nothing (`age.rpc.challenge`), the gRPC stack's ceiling.
A redemption also checks the holder's Ed25519 proof and the challenge MAC, creates the spend
key in the JetStream key-value bucket and appends `AgeBandAttested`: two NATS round trips.
"""

from __future__ import annotations

import base64
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from hearth_age.application import AgeAssurance
from hearth_crypto import age_token, blind_rsa
from hearth_proto.hearth.age.v1 import age_pb2, types_pb2
from hearth_runtime.platform import Platform
from hearth_sdk.age import AgeClient, TestIssuingAuthority, TokenWallet, issuer_public
from hearth_sdk.channel import connect
from tests.bench.report import Report, best_of

ROUNDS = 3
BATCH = 30
BATCHES = 10  # timed issuances; the median is the figure
PER_ROUND = 300  # redemptions per round
CLIENTS = 8  # concurrent callers
QUICK = {"ROUNDS": 1, "BATCHES": 2, "PER_ROUND": 20}  # `--quick`: every figure once, small
BAND = types_pb2.AGE_BAND_13_15
DOCUMENT = types_pb2.METHOD_CLASS_DOCUMENT


def run(report: Report) -> None:
    data_dir = report.workdir / "age"
    platform = Platform(data_dir, services=["age"], nats_url=report.nats_url).start()
    try:
        app = platform.hosts["age"].parts.applications[0]
        assert isinstance(app, AgeAssurance)
        authority = TestIssuingAuthority.from_seed_file(
            data_dir / "keys" / "age" / "document-authority.seed"
        )
        report.figure("age.issue.batch30", issue_batch(platform, app, authority), "ms")
        tokens = obtain(platform, authority, ROUNDS * PER_ROUND)
        key = AgeClient(
            connect(platform.endpoint("age")),
            platform.signer.issue("bench", {"young_person"}),
            TokenWallet(data_dir / "unused.json"),
        ).issuer_key(BAND, DOCUMENT)
        public = blind_rsa.PublicKey.from_der(key.public_key_der)
        rounds = iter(range(ROUNDS))
        verify_rate, challenge_rate, redeem_rate = best_of(
            ROUNDS,
            lambda: raw_verify(public, tokens[:PER_ROUND]),
            lambda: challenges(tokens[:PER_ROUND]),
            lambda: redeem(platform, tokens[next(rounds) * PER_ROUND :][:PER_ROUND]),
        )
        report.figure("rsa.pss.verify", verify_rate, "verifications/s")
        report.figure("age.rpc.challenge", challenge_rate, "calls/s")
        report.figure("age.redeem", redeem_rate, "redemptions/s", baseline="rsa.pss.verify")
        report.compare("age.redeem", "age.rpc.challenge")
        report.note(
            f"age.redeem: {CLIENTS} concurrent gRPC callers, in-process server, "
            "challenge fetched beforehand"
        )
    finally:
        platform.stop()


def decided_session(client: AgeClient, authority: TestIssuingAuthority) -> str:
    today = date.today()
    document, signature = authority.issue(today.replace(year=today.year - 14, day=1))
    vid = client.start_verification(DOCUMENT)
    client.submit_document(vid, document, signature)
    return vid


def issue_batch(platform: Platform, app: AgeAssurance, authority: TestIssuingAuthority) -> float:
    """Median server time (the application's issue_tokens, event appended) for 30 signatures."""
    client = AgeClient(
        connect(platform.endpoint("age")),
        platform.signer.issue("bench-issue", {"young_person"}),
        TokenWallet(platform.data_dir / "issue.json"),
    )
    key = client.issuer_key(BAND, DOCUMENT)
    issuer = issuer_public(key)
    times = []
    for _ in range(BATCHES):
        vid = decided_session(client, authority)
        capability = client_capability(vid)
        blinded = [age_token.create_token_request(issuer).blinded_message for _ in range(BATCH)]
        started = time.perf_counter()
        app.issue_tokens(capability, key.key_id, blinded)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def client_capability(verification_id: str) -> bytes:
    """The capability behind a verification id, as the servicer decodes it."""
    return base64.urlsafe_b64decode(verification_id + "=" * (-len(verification_id) % 4))


def obtain(
    platform: Platform, authority: TestIssuingAuthority, count: int
) -> list[tuple[AgeClient, age_token.Token]]:
    """`count` tokens spread over CLIENTS accounts, each with its own channel."""
    found: list[tuple[AgeClient, age_token.Token]] = []
    clients = [
        AgeClient(
            connect(platform.endpoint("age")),
            platform.signer.issue(f"bench-{i}", {"young_person"}),
            TokenWallet(platform.data_dir / f"wallet-{i}.json"),
        )
        for i in range(CLIENTS)
    ]
    decision = age_pb2.AgeDecision(band=BAND, method_class=DOCUMENT)
    i = 0
    while len(found) < count:
        client = clients[i % CLIENTS]
        i += 1
        client.obtain_tokens(decided_session(client, authority), decision, BATCH)
        while client.wallet.count():
            found.append((client, client.wallet.take(BAND)))
    return found[:count]


def raw_verify(
    public: blind_rsa.PublicKey, tokens: list[tuple[AgeClient, age_token.Token]]
) -> float:
    started = time.perf_counter()
    for _, token in tokens:
        blind_rsa.verify(
            public, token.randomizer + token.message, token.signature, variant=age_token.VARIANT
        )
    return len(tokens) / (time.perf_counter() - started)


def challenges(tokens: list[tuple[AgeClient, age_token.Token]]) -> float:
    """GetRedemptionChallenge from the same callers: an authenticated RPC that does almost
    nothing, so the gRPC stack's own ceiling on this machine."""

    def call(item: tuple[AgeClient, age_token.Token]) -> None:
        client = item[0]
        client.stub.GetRedemptionChallenge(
            age_pb2.GetRedemptionChallengeRequest(), metadata=client.metadata
        )

    with ThreadPoolExecutor(CLIENTS) as pool:
        started = time.perf_counter()
        list(pool.map(call, tokens))
        return len(tokens) / (time.perf_counter() - started)


def redeem(platform: Platform, tokens: list[tuple[AgeClient, age_token.Token]]) -> float:
    """RedeemToken calls from CLIENTS threads; challenges and proofs made beforehand."""
    requests = []
    for client, token in tokens:
        challenge, shown = client.presentation(token)
        request = age_pb2.RedeemTokenRequest(
            request_id=str(uuid.uuid4()),
            band=BAND,
            challenge=challenge,
            token_message=shown.message,
            randomizer=shown.randomizer,
            signature=shown.signature,
            holder_proof=shown.holder_proof,
        )
        requests.append((client, request))

    def call(item: tuple[AgeClient, age_pb2.RedeemTokenRequest]) -> None:
        client, request = item
        client.stub.RedeemToken(request, metadata=client.metadata)

    with ThreadPoolExecutor(CLIENTS) as pool:
        started = time.perf_counter()
        list(pool.map(call, requests))
        return len(requests) / (time.perf_counter() - started)
