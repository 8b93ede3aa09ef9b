"""Age tokens: server time to blind-sign a batch of 30, and redemptions/s over gRPC.

The limit a redemption cannot beat is the RSA-PSS verification of its token, so raw
`blind_rsa.verify` of the same tokens runs in the same rounds as the baseline. Over gRPC, the
clients run in processes of their own (`clients.ClientPool`: the age server in this process
is then alone with its GIL), CLIENTS of them, each with its own channel and account, after a
warm-up; in the same rounds and with the same clients: `grpc.echo.<n>clients` (the bare gRPC
stack, protobuf in and out), `age.rpc.challenge` (an authenticated RPC that does almost
nothing: the stack with the service's interceptors) and `age.redeem`. A redemption also
checks the holder's Ed25519 proof and the challenge MAC, creates the spend key in the
JetStream key-value bucket and appends `AgeBandAttested`: two NATS round trips.
`age.cpu.ms_per_redeem` is this process's CPU (the server's) per redemption.
"""

from __future__ import annotations

import base64
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from hearth_age.application import AgeAssurance
from hearth_crypto import age_token, blind_rsa
from hearth_proto.hearth.age.v1 import age_pb2, age_pb2_grpc, types_pb2
from hearth_runtime.platform import Platform
from hearth_sdk.age import AgeClient, TestIssuingAuthority, TokenWallet, issuer_public
from hearth_sdk.channel import bearer, connect
from tests.bench.clients import ClientPool, Measurement, Operation, Workload
from tests.bench.echo import EchoCalls, EchoServer, figure_name
from tests.bench.report import Report, best_by

ROUNDS = 3
BATCH = 30
BATCHES = 10  # timed issuances; the median is the figure
VERIFICATIONS = 300  # raw RSA-PSS verifications per round
CLIENTS = 8  # concurrent callers, in the bench's client processes
WARMUP = 0.5  # seconds of calls before the counted window
DURATION = 2.0  # seconds counted
SUPPLY = 30 * 6  # tokens each redeeming client brings: more than it can spend in a window
QUICK = {"ROUNDS": 1, "BATCHES": 2, "VERIFICATIONS": 20, "WARMUP": 0.1, "DURATION": 0.3}
QUICK |= {"SUPPLY": 30, "CLIENTS": 2}  # `--quick`: every figure once, small
BAND = types_pb2.AGE_BAND_13_15
DOCUMENT = types_pb2.METHOD_CLASS_DOCUMENT


def run(report: Report) -> None:
    data_dir = report.workdir / "age"
    platform = Platform(data_dir, services=["age"], nats_url=report.nats_url).start()
    try:
        app = platform.hosts["age"].parts.applications[0]
        assert isinstance(app, AgeAssurance)
        seed = data_dir / "keys" / "age" / "document-authority.seed"
        authority = TestIssuingAuthority.from_seed_file(seed)
        report.figure("age.issue.batch30", issue_batch(platform, app, authority), "ms")
        tokens = obtain(platform, authority, VERIFICATIONS)
        key = AgeClient(
            connect(platform.endpoint("age")),
            platform.signer.issue("bench", {"young_person"}),
            TokenWallet(data_dir / "unused.json"),
        ).issuer_key(BAND, DOCUMENT)
        public = blind_rsa.PublicKey.from_der(key.public_key_der)
        address = platform.endpoint("age")
        sessions = [
            platform.signer.issue(f"bench-c{i}", {"young_person"}, lifetime=3600)
            for i in range(CLIENTS)
        ]
        pool = report.clients
        with EchoServer() as echo:
            verify_rate, echoed, challenged, redeemed = best_by(
                ROUNDS,
                rate_of,
                lambda: raw_verify(public, tokens),
                lambda: measure(pool, EchoCalls(echo.address)),
                lambda: measure(pool, ChallengeCalls(address, sessions)),
                lambda: measure(pool, Redemptions(address, sessions, str(seed))),
            )
        echo_name = figure_name(CLIENTS)
        report.figure("rsa.pss.verify", rate_of(verify_rate), "verifications/s")
        report.figure(echo_name, rate_of(echoed), "calls/s")
        report.figure("age.rpc.challenge", rate_of(challenged), "calls/s", baseline=echo_name)
        report.figure("age.redeem", rate_of(redeemed), "redemptions/s", baseline="rsa.pss.verify")
        report.compare("age.redeem", "age.rpc.challenge")
        report.figure("grpc.cpu.ms_per_echo", echoed.cpu_per_operation() * 1000, "ms")
        report.figure(
            "age.cpu.ms_per_challenge",
            challenged.cpu_per_operation() * 1000,
            "ms",
            baseline="grpc.cpu.ms_per_echo",
        )
        report.figure("age.cpu.ms_per_redeem", redeemed.cpu_per_operation() * 1000, "ms")
        report.note(
            f"age: {CLIENTS} clients in {pool.size} processes, {WARMUP}s warm-up, {DURATION}s "
            f"counted; redeem p50 {redeemed.percentile(0.5) * 1000:.1f} ms, p99 "
            f"{redeemed.percentile(0.99) * 1000:.1f} ms"
        )
    finally:
        platform.stop()


def measure(pool: ClientPool, workload: Workload) -> Measurement:
    return pool.measure(workload, CLIENTS, warmup=WARMUP, duration=DURATION)


def rate_of(result: Measurement) -> float:
    return result.rate


@dataclass(frozen=True)
class ChallengeCalls:
    """GetRedemptionChallenge, client i with session i: authenticated, almost no work."""

    address: str
    sessions: list[str]

    def prepare(self, client: int) -> Operation:
        channel = connect(self.address)
        stub = age_pb2_grpc.AgeServiceStub(channel)
        metadata = bearer(self.sessions[client])
        request = age_pb2.GetRedemptionChallengeRequest()

        def call() -> object:
            return stub.GetRedemptionChallenge(request, metadata=metadata, timeout=10)

        call()  # connected before the clock starts
        return call


@dataclass(frozen=True)
class Redemptions:
    """RedeemToken calls; each client first verifies its account's age and obtains SUPPLY
    tokens, and makes every request (challenge fetched, holder proof signed) beforehand."""

    address: str
    sessions: list[str]
    authority_seed: str

    def prepare(self, client: int) -> Operation:
        workdir = Path(tempfile.mkdtemp(prefix="bench-age-client-"))
        age = AgeClient(
            connect(self.address),
            self.sessions[client],
            TokenWallet(workdir / f"wallet-{client}.json"),
        )
        authority = TestIssuingAuthority.from_seed_file(Path(self.authority_seed))
        decision = age_pb2.AgeDecision(band=BAND, method_class=DOCUMENT)
        while age.wallet.count() < SUPPLY:
            age.obtain_tokens(decided_session(age, authority), decision, BATCH)
        requests = []
        while age.wallet.count():
            challenge, shown = age.presentation(age.wallet.take(BAND))
            requests.append(
                age_pb2.RedeemTokenRequest(
                    request_id=str(uuid.uuid4()),
                    band=BAND,
                    challenge=challenge,
                    token_message=shown.message,
                    randomizer=shown.randomizer,
                    signature=shown.signature,
                    holder_proof=shown.holder_proof,
                )
            )
        supply = iter(requests)
        metadata = age.metadata

        def call() -> object:
            request = next(supply, None)
            if request is None:
                raise RuntimeError(f"a redeeming client spent its {SUPPLY} tokens: raise SUPPLY")
            return age.stub.RedeemToken(request, metadata=metadata, timeout=10)

        return call


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
) -> Measurement:
    started = time.perf_counter()
    for _, token in tokens:
        blind_rsa.verify(
            public, token.randomizer + token.message, token.signature, variant=age_token.VARIANT
        )
    return Measurement(len(tokens), time.perf_counter() - started, [])
