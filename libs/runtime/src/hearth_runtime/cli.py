"""`hearth`: run the platform (`up`), one service (`serve`), the operator's bootstrap (`admin`),
create streams (`streams create`),
or the end-to-end demo (`demo`)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from importlib.metadata import entry_points
from pathlib import Path

from . import admin, streams
from .config import ConfigError, RuntimeConfig
from .platform import Platform, session_verifier
from .server import ServiceHost
from .services import installed_services
from .telemetry import setup_logging, setup_telemetry


def _stop_on_signals() -> threading.Event:
    """Installed before anything starts, so a SIGTERM during start-up still stops cleanly."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _wait(stop: threading.Event) -> None:
    while not stop.wait(0.5):
        pass


def up(args: argparse.Namespace) -> int:
    stop = _stop_on_signals()
    setup_logging("hearth", os.environ.get("HEARTH_LOG_LEVEL", "INFO"), "text")
    telemetry = setup_telemetry("hearth")
    platform = Platform(Path(args.data_dir), environ=os.environ, nats_url=args.nats_url).start()
    print(f"NATS ({'external' if args.nats_url else 'embedded'}, JetStream): {platform.nats_url}")
    for name, host in platform.hosts.items():
        print(f"{name:<10} grpc://{host.address}")
        if host.parts.web_address:
            print(f"{'':<10} {host.parts.web_address} (open in a browser)")
    print(f"endpoints written to {platform.data_dir / 'endpoints.json'}; Ctrl-C stops")
    sys.stdout.flush()
    try:
        _wait(stop)
    finally:
        platform.stop()
        telemetry.shutdown()
    return 0


def serve(args: argparse.Namespace) -> int:
    builders = installed_services()
    if args.service not in builders:
        print(f"no service {args.service!r}; installed: {', '.join(builders)}", file=sys.stderr)
        return 2
    stop = _stop_on_signals()
    config = RuntimeConfig.from_env(args.service)
    setup_logging(args.service, config.log_level, config.log_format)
    telemetry = setup_telemetry(f"hearth-{args.service}")
    host = ServiceHost(config, builders[args.service](config), session_verifier(config)).start()
    try:
        _wait(stop)
    finally:
        host.stop()
        telemetry.shutdown()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hearth", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p_up = commands.add_parser("up", help="every service in one process on an embedded NATS")
    p_up.add_argument("--data-dir", default=os.environ.get("HEARTH_DATA_DIR", "var"))
    p_up.add_argument(
        "--nats-url", help="use this NATS (servers comma-separated) instead of an embedded one"
    )
    p_up.set_defaults(run=up)
    p_serve = commands.add_parser("serve", help="one service against an external NATS_URL")
    p_serve.add_argument("--service", required=True)
    p_serve.set_defaults(run=serve)
    admin.add_parser(commands)
    streams.add_parser(commands)
    for ep in entry_points(group="hearth.commands"):
        sub = commands.add_parser(ep.name, help=f"{ep.name} (from {ep.value.split(':')[0]})")
        sub.set_defaults(run=lambda a, ep=ep: int(ep.load()(a.rest)))
        sub.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigError as e:
        print(f"hearth: configuration error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
