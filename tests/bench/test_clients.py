"""The bench's client processes: counted operations, latencies, CPU, failures not swallowed."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from tests.bench.clients import ClientPool, Operation, process_cpu
from tests.bench.echo import EchoCalls, EchoServer


@dataclass(frozen=True)
class Failing:
    def prepare(self, client: int) -> Operation:
        def fail() -> object:
            raise ValueError(f"client {client} refuses")

        return fail


@dataclass(frozen=True)
class UnreadyOdd:
    def prepare(self, client: int) -> Operation:
        if client % 2:
            raise ValueError(f"client {client} cannot connect")
        return lambda: None


@dataclass(frozen=True)
class OwnPid:
    """Records which process a client ran in, by failing with its pid after one call."""

    def prepare(self, client: int) -> Operation:
        def report() -> object:
            raise ValueError(f"pid={os.getpid()}")

        return report


def test_echo_clients_run_in_their_own_processes_and_are_counted() -> None:
    with ClientPool(2) as pool, EchoServer() as echo:
        measured = pool.measure(EchoCalls(echo.address), 3, warmup=0.1, duration=0.5)
        assert measured.operations == len(measured.latencies) > 10
        assert measured.latencies == sorted(measured.latencies)
        assert 0 < measured.percentile(0.5) <= measured.percentile(0.99) < 1
        # The echo server is in this process: it spent CPU answering, the clients did not.
        assert measured.cpu_per_operation() > 0
        with pytest.raises(RuntimeError, match=r"pid=(\d+)") as raised:
            pool.measure(OwnPid(), 1, warmup=0, duration=0.1)
        assert f"pid={os.getpid()}" not in str(raised.value)
        # A failed client fails the measurement, and the pool still serves the next one.
        with pytest.raises(RuntimeError, match=r"client \d refuses"):
            pool.measure(Failing(), 2, warmup=0, duration=0.1)
        with pytest.raises(RuntimeError, match="client 1 cannot connect"):
            pool.measure(UnreadyOdd(), 2, warmup=0, duration=0.1)
        assert pool.measure(EchoCalls(echo.address), 1, warmup=0, duration=0.2).operations > 0


def test_process_cpu_reads_another_process() -> None:
    assert process_cpu(os.getpid()) == pytest.approx(process_cpu(), abs=0.05)
    assert process_cpu(1) >= 0
