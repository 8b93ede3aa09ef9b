"""Run the bench areas (`bench_<area>.py`, the event log first) and print their figures."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import cast

from tests import bench
from tests.bench.report import Report

FIRST = ("eventlog",)  # later areas build on the event log, so its figures come first


def areas() -> list[str]:
    """Every `bench_<area>` module in this package: the fixed first ones, then by name."""
    found = sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules(bench.__path__)
        if info.name.startswith("bench_")
    )
    return [a for a in FIRST if a in found] + [a for a in found if a not in FIRST]


def quicken(module: ModuleType) -> None:
    """Apply an area's `QUICK` sizes (a dict of its module constants) for `--quick`."""
    sizes: dict[str, object] = getattr(module, "QUICK", {})
    for name, value in sizes.items():
        if not hasattr(module, name):
            raise RuntimeError(f"{module.__name__}.QUICK names {name}, which it does not have")
        setattr(module, name, value)


def main(argv: Sequence[str] | None = None) -> int:
    known = areas()
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("areas", nargs="*", metavar="area", help=f"any of: {', '.join(known)}")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="every figure once at small sizes (the test suite runs this): proves the benches "
        "run, the figures mean little",
    )
    args = parser.parse_args(argv)
    unknown = [a for a in args.areas if a not in known]
    if unknown:
        parser.error(f"unknown area {', '.join(unknown)}; known: {', '.join(known)}")
    chosen = [a for a in known if a in args.areas] if args.areas else known
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        report = Report(Path(tmp))
        try:
            for area in chosen:
                module = importlib.import_module(f"tests.bench.bench_{area}")
                if args.quick:
                    quicken(module)
                run = cast(Callable[[Report], None], module.run)
                print(f"== {area}", file=sys.stderr, flush=True)
                started = time.perf_counter()
                run(report)
                report.note(f"{area} took {time.perf_counter() - started:.1f}s")
        finally:
            report.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
