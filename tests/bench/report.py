"""Where bench figures go: `BENCH` lines on stdout, context on stderr, shared resources (a
nats-server, client processes).

A figure compared with a baseline measured in the same run carries
` ratio=<figure/baseline>/<baseline-name>`, so the ratio holds on any machine even when the
absolute numbers do not.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from hearth_runtime.embedded_nats import EmbeddedNats
from tests.bench.clients import ClientPool

M = TypeVar("M")
CLIENT_PROCESSES = 4  # on a 2-core machine: enough that the clients are never the limit


@dataclass(frozen=True)
class Figure:
    """One measured number."""

    name: str
    value: float
    unit: str


class Report:
    """The figures of one bench run, and what the areas share: a temp dir and a NATS server."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.figures: dict[str, Figure] = {}
        self._nats: EmbeddedNats | None = None
        self._clients: ClientPool | None = None

    def figure(self, name: str, value: float, unit: str, *, baseline: str | None = None) -> Figure:
        """Record a figure and print its `BENCH` line, with its ratio to `baseline` if known."""
        figure = Figure(name, value, unit)
        self.figures[name] = figure
        self._print(figure, baseline)
        return figure

    def compare(self, name: str, baseline: str) -> None:
        """An extra `BENCH` line for an already printed figure against another baseline."""
        if name in self.figures and baseline in self.figures:
            self._print(self.figures[name], baseline)

    def note(self, text: str) -> None:
        """Human-readable context, kept off stdout so the `BENCH` lines stay parseable."""
        print(f"  {text}", file=sys.stderr, flush=True)

    @property
    def nats_url(self) -> str:
        """The bench's own nats-server (never one already running here), started on first use."""
        if self._nats is None:
            self._nats = EmbeddedNats(self.workdir / "nats")
            self.note(f"nats-server at {self._nats.start()}, store in {self._nats.data_dir}")
        return self._nats.url

    @property
    def clients(self) -> ClientPool:
        """Client processes every area shares (see `clients`), started on first use."""
        if self._clients is None:
            self._clients = ClientPool(CLIENT_PROCESSES)
        return self._clients

    @property
    def nats_pid(self) -> int:
        """The bench's nats-server process, for its CPU time (`clients.process_cpu`)."""
        self.nats_url  # noqa: B018 (started on first use)
        assert self._nats is not None and self._nats.process is not None
        return self._nats.process.pid

    def close(self) -> None:
        if self._clients is not None:
            self._clients.close()
            self._clients = None
        if self._nats is not None:
            self._nats.stop()
            self._nats = None

    def _print(self, figure: Figure, baseline: str | None) -> None:
        line = f"BENCH {figure.name} {_number(figure.value)} {figure.unit}"
        base = self.figures.get(baseline) if baseline else None
        if base is not None and base.value > 0 and base.name != figure.name:
            line += f" ratio={figure.value / base.value:.2f}/{base.name}"
        print(line, flush=True)


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def best_of(rounds: int, *measures: Callable[[], float]) -> list[float]:
    """The best round of each measure: on a shared machine noise only ever slows a round.

    Several measures take turns within each round, so a figure and its baseline see the same
    spells of load and their ratio stays fair.
    """
    return best_by(rounds, float, *measures)


def best_by(rounds: int, key: Callable[[M], float], *measures: Callable[[], M]) -> list[M]:
    """`best_of` for measures that return more than a number (a `clients.Measurement`, say):
    the round of each with the largest `key`."""
    best: list[M | None] = [None] * len(measures)
    for _ in range(rounds):
        for i, measure in enumerate(measures):
            result = measure()
            kept = best[i]
            if kept is None or key(result) > key(kept):
                best[i] = result
    return [b for b in best if b is not None]
