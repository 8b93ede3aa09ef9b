"""The event log on a three-node JetStream cluster (R3) beside one server, and its failover.

`cluster.append.single` is one writer's one-event saves at R3, its ratio against
`eventlog.append.single` on the bench's single server (measured by the eventlog area in the
same run, or here, in alternating rounds, when that area is not run). `cluster.failover.s`
is the seconds from SIGKILL of a stream's leader to the first save its successor
acknowledges, with three writers saving throughout.
"""

from __future__ import annotations

import time

from hearth_eventlog import NatsFactory
from tests.bench.bench_eventlog import EVENTS_PER_S, ROUNDS, nats_recorder, single_inserts
from tests.bench.report import Report, best_of
from tests.cluster.support import Cluster, Writer, cluster_env, first_ack_after
from tests.conftest import unique_name

BASELINE = "eventlog.append.single"


def run(report: Report) -> None:
    cluster = Cluster(report.workdir / "cluster").start()
    report.note(f"three-node cluster at {cluster.url}")
    try:
        append_single(report, cluster)
        failover(report, cluster)
    finally:
        cluster.stop()


def append_single(report: Report, cluster: Cluster) -> None:
    factory = NatsFactory(cluster_env(unique_name("bench_r3"), cluster.url))
    try:
        r3 = factory.application_recorder()
        if BASELINE in report.figures:
            (rate,) = best_of(ROUNDS, lambda: single_inserts(r3).rate)
        else:
            with nats_recorder(report.nats_url, "bench_single") as one:
                one_server, rate = best_of(
                    ROUNDS, lambda: single_inserts(one).rate, lambda: single_inserts(r3).rate
                )
            report.figure(BASELINE, one_server, EVENTS_PER_S)
    finally:
        factory.close()
    report.figure("cluster.append.single", rate, EVENTS_PER_S, baseline=BASELINE)


def failover(report: Report, cluster: Cluster) -> None:
    name = unique_name("bench_failover")
    factories = [NatsFactory(cluster_env(name, cluster.url)) for _ in range(3)]
    writers = [Writer(f).start() for f in factories]
    try:
        for writer in writers:
            writer.wait_for(200)
        stream = factories[0].settings.stream
        leader = cluster.leader(stream)
        killed_at = time.monotonic()
        leader.kill()
        seconds = first_ack_after(writers, killed_at)
    finally:
        for writer in writers:
            writer.finish()
        for factory in factories:
            factory.close()
    failed = sum(len(w.failed) for w in writers)
    report.note(f"{failed} saves raised an error while there was no leader")
    report.figure("cluster.failover.s", seconds, "s")
    leader.start()
