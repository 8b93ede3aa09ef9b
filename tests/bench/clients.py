"""Benchmark clients in processes of their own, so a server's figures are the server's.

A service measured from client threads in its own process shares one GIL with them: the
figure is then the clients' and the server's together, and a baseline with fewer or cheaper
clients is flattered. `ClientPool` starts client processes once (spawned: nothing of the
bench's threads, NATS connections or gRPC state is inherited) and runs a `Workload` in them:

- every client (a thread in one of the processes) prepares itself (channels, accounts,
  tokens: the workload's `prepare`), then all start together;
- a warm-up (`warmup` seconds, uncounted) brings the server to a steady state;
- the operations completed in the next `duration` seconds are the figure, with each one's
  latency, and the server's CPU time in that same window (`Measurement.cpu`): this process's
  (a `Platform` in the bench process is the server) and any other process named by pid.

A baseline and the thing compared with it use the same pool, the same client count and the
same window, so their ratio compares like with like. A client whose operation fails fails the
measurement: a silent failure would flatter the rate.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Protocol

WARMUP = 0.5  # seconds: connections made, caches and JITs of the server filled
DURATION = 2.0  # seconds counted
PREPARE_TIMEOUT = 300.0  # seconds for every client to prepare (accounts, tokens, sessions)
_TICK = os.sysconf("SC_CLK_TCK")


class Operation(Protocol):
    """One client's repeated operation (a gRPC call, say); `close` is called afterwards if
    the object has one."""

    def __call__(self) -> object: ...


class Workload(Protocol):
    """What clients run: picklable (a module-level class or dataclass instance), so each
    client process gets its own copy and prepares its own connections."""

    def prepare(self, client: int) -> Operation:
        """Client number `client` (0..clients-1) gets ready; its repeated operation."""
        ...


@dataclass(frozen=True)
class Measurement:
    """Operations completed by every client in the counted window, and what they cost."""

    operations: int
    seconds: float
    latencies: list[float]  # seconds, every operation counted, sorted
    cpu: dict[str, float] = field(default_factory=dict)  # process label -> CPU seconds

    @property
    def rate(self) -> float:
        return self.operations / self.seconds

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        return self.latencies[min(len(self.latencies) - 1, int(len(self.latencies) * p))]

    def cpu_per_operation(self, process: str = "server") -> float:
        """CPU seconds `process` spent per counted operation."""
        return self.cpu[process] / max(1, self.operations)


def process_cpu(pid: int | None = None) -> float:
    """CPU seconds (user + system, every thread) of this process or of `pid`."""
    if pid is None or pid == os.getpid():
        return time.process_time()
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()  # the name may hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


class ClientPool:
    """`processes` client processes, started once, each running its share of the clients in
    threads (a sync gRPC call releases the GIL while it waits)."""

    def __init__(self, processes: int = 4) -> None:
        context = multiprocessing.get_context("spawn")
        self._links: list[Connection] = []
        self._processes = []
        for n in range(processes):
            here, there = context.Pipe()
            process = context.Process(
                target=_serve, args=(there,), name=f"bench-client-{n}", daemon=True
            )
            process.start()
            there.close()
            self._links.append(here)
            self._processes.append(process)

    @property
    def size(self) -> int:
        return len(self._processes)

    def measure(
        self,
        workload: Workload,
        clients: int,
        *,
        warmup: float = WARMUP,
        duration: float = DURATION,
        servers: dict[str, int | None] | None = None,
    ) -> Measurement:
        """Run `clients` clients of `workload`; CPU of `servers` (label -> pid, None for this
        process; by default {"server": None}) over the counted window."""
        watched = servers if servers is not None else {"server": None}
        shares = [list(range(n, clients, self.size)) for n in range(self.size)]
        busy = [(link, share) for link, share in zip(self._links, shares, strict=True) if share]
        for link, share in busy:
            link.send(("prepare", workload, share))
        failed = _answers([link for link, _ in busy], PREPARE_TIMEOUT)
        if failed:
            for link, _ in busy:
                link.send(("abandon",))  # the prepared ones close their clients
            raise failed[0]
        start = time.monotonic() + 0.05  # CLOCK_MONOTONIC: the same clock in every process
        counted, end = start + warmup, start + warmup + duration
        for link, _ in busy:
            link.send(("run", start, counted, end))
        _sleep_until(counted)
        before = {label: process_cpu(pid) for label, pid in watched.items()}
        _sleep_until(end)
        cpu = {label: process_cpu(pid) - before[label] for label, pid in watched.items()}
        latencies: list[float] = []
        failed = _answers([link for link, _ in busy], warmup + duration + 120, latencies)
        if failed:
            raise failed[0]
        latencies.sort()
        return Measurement(len(latencies), duration, latencies, cpu)

    def close(self) -> None:
        for link in self._links:
            with contextlib.suppress(OSError):  # a client process that died already
                link.send(("stop",))
        for process in self._processes:
            process.join(5)
            if process.is_alive():
                process.kill()
        self._links.clear()
        self._processes.clear()

    def __enter__(self) -> ClientPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _answers(
    links: Sequence[Connection], timeout: float, latencies: list[float] | None = None
) -> list[Exception]:
    """Every process's answer (so none is left to be read as the next one's); the failures."""
    failed: list[Exception] = []
    deadline = time.monotonic() + timeout
    for link in links:
        if not link.poll(max(0.0, deadline - time.monotonic())):
            raise TimeoutError(f"a bench client process did not answer within {timeout:.0f}s")
        kind, value = link.recv()
        if kind == "failed":
            failed.append(RuntimeError(f"a bench client failed:\n{value}"))
        elif latencies is not None:
            latencies.extend(value)
    return failed


def _sleep_until(moment: float) -> None:
    while (left := moment - time.monotonic()) > 0:
        time.sleep(left)


# --- inside a client process -------------------------------------------------------------


def _serve(link: Connection) -> None:
    operations: list[Operation] = []
    while True:
        try:
            message = link.recv()
        except EOFError:
            return
        try:
            if message[0] == "stop":
                _close(operations)
                return
            if message[0] == "prepare":
                workload, share = message[1], message[2]
                for client in share:
                    operations.append(workload.prepare(client))
                link.send(("ready", ()))
            elif message[0] == "abandon":
                _close(operations)
                operations = []
            elif message[0] == "run":
                try:
                    latencies = _run(operations, *message[1:])
                finally:
                    _close(operations)  # each measurement prepares its own clients
                    operations = []
                link.send(("done", latencies))
        except BaseException:
            if message[0] == "prepare":  # the coordinator abandons this measurement
                _close(operations)
                operations = []
            link.send(("failed", traceback.format_exc()))


def _run(operations: Sequence[Operation], start: float, counted: float, end: float) -> list[float]:
    """Each operation in its own thread from `start` until `end`; the latencies of those
    finished after `counted`."""
    results: list[list[float]] = [[] for _ in operations]
    failures: list[str] = []
    clock = time.monotonic

    def client(operation: Operation, latencies: list[float]) -> None:
        try:
            while (began := clock()) < end:
                operation()
                finished = clock()
                if counted <= finished < end:
                    latencies.append(finished - began)
        except BaseException:
            failures.append(traceback.format_exc())

    threads = [
        threading.Thread(target=client, args=(operation, latencies))
        for operation, latencies in zip(operations, results, strict=True)
    ]
    _sleep_until(start)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(failures[0])
    return [latency for latencies in results for latency in latencies]


def _close(operations: Sequence[Operation]) -> None:
    for operation in operations:
        close: Callable[[], object] | None = getattr(operation, "close", None)
        if close is not None:
            close()
