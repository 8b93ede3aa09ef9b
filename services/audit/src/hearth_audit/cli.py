"""`hearth-audit`: the regulator's tool.

`verify BUNDLE` checks an evidence bundle offline (no platform access): the checkpoint's
signature, every inclusion proof, every aggregate's hash chain, the signed trail statement
(no event missing after the last one shown), and consistency with a checkpoint seen
earlier. Given a record keeper's evidence package (`hearth-records-package/v1`) it checks
its bundle the same way, then that its case records are exactly those the log says were
kept in the scope, each with a valid franking proof (`records_package`). It exits 0 only
if every check passed, and otherwise names the one that failed.
`witness` asks a running audit service for its latest checkpoint and cosigns it only if it
is consistent with the last one this witness cosigned.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .evidence import BundleError, Verification, load_bundle, verify_bundle
from .records_package import PackageVerification, is_package, verify_package

EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hearth-audit", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify an evidence bundle offline")
    verify.add_argument("bundle", type=Path)
    verify.add_argument(
        "--previous-checkpoint", type=Path, help="a signed checkpoint seen earlier (note file)"
    )
    verify.add_argument("--key", help="the log's verifier key you trust (default: the bundle's)")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    witness = commands.add_parser("witness", help="cosign the log's latest checkpoint")
    witness.add_argument("--address", required=True, help="the audit service, host:port")
    witness.add_argument("--token", required=True, help="a session token (auditor)")
    witness.add_argument("--log-key", required=True, help="the log's verifier key")
    witness.add_argument("--state", type=Path, required=True, help="directory of witness state")
    witness.add_argument("--name", default="hearth-witness", help="the witness's key name")
    args = parser.parse_args(argv)
    if args.command == "verify":
        return run_verify(args.bundle, args.previous_checkpoint, args.key, args.json)
    return run_witness(args.address, args.token, args.log_key, args.state, args.name)


def run_verify(path: Path, previous: Path | None, key: str | None, as_json: bool) -> int:
    started = time.monotonic()

    def progress(stage: str, done: int, total: int) -> None:
        if not as_json and total >= 10_000:
            print(f"  {stage}: {done:,}/{total:,}", file=sys.stderr, flush=True)

    try:
        try:
            text = path.read_bytes()
            previous_note = previous.read_text() if previous is not None else None
        except OSError as e:
            raise BundleError("file", str(e)) from e
        document = load_bundle(text)
        if is_package(document):
            package = verify_package(document, trusted_key=key, previous_checkpoint=previous_note)
            if as_json:
                print(json.dumps(package.as_json()))
            else:
                print(package_summary(package, time.monotonic() - started))
            return 0
        result = verify_bundle(
            document,
            trusted_key=key,
            previous_checkpoint=previous_note,
            progress=progress,
        )
    except BundleError as e:
        if as_json:
            print(json.dumps({"ok": False, "failed": e.check, "detail": e.detail}))
        else:
            print(f"FAILED: {e.check}: {e.detail}")
        return EXIT_FAILED
    if as_json:
        print(json.dumps(result.as_json()))
    else:
        print(summary(result, time.monotonic() - started))
    return 0


def summary(result: Verification, seconds: float) -> str:
    lines = [
        f"OK: evidence bundle for {result.pseudonym or '(unnamed trail)'} verified "
        f"in {seconds:.2f}s, offline",
        f"  checkpoint  {result.origin}, tree size {result.tree_size:,}, signature valid",
        f"  inclusion   {result.events:,} events, each proved in the tree",
    ]
    for stream, subject, count in result.trails:
        lines.append(
            f"  hash chain  {stream} {subject}: {count} events, none missing before the last"
        )
    lines.append(
        f"  complete    the log signed that the trail has {result.events:,} events at this "
        f"checkpoint, the last at leaf {result.last_index:,}"
    )
    if result.previous_size is not None:
        lines.append(
            f"  consistency the log at {result.tree_size:,} extends the checkpoint seen at "
            f"{result.previous_size:,}"
        )
    for kind, count in sorted(result.kinds.items()):
        lines.append(f"  kind        {kind}: {count}")
    return "\n".join(lines)


def package_summary(result: PackageVerification, seconds: float) -> str:
    """The bundle's summary, then what the package adds: the records against the log."""
    lines = [
        summary(result.bundle, seconds),
        f"  records     {result.records} case record(s) of young person "
        f"{result.young_person_account_id} at organisation {result.organisation_id}: each "
        "digest is in the log, none added, altered or left out of the scope",
        f"  scope       the log holds {result.kept_in_log} record(s) of this book; "
        f"{result.out_of_scope} outside the scope, {result.destroyed} destroyed before",
        "  franking    every record's franking proves what its sender sent",
    ]
    for name, value in sorted(result.disclosure.items()):
        lines.append(f"  disclosure  {name}: {value}")
    return "\n".join(lines)


def run_witness(address: str, token: str, log_key: str, state: Path, name: str) -> int:
    # Imported here so `verify` never needs gRPC or the platform's protos.
    import grpc

    from hearth_crypto.checkpoint import NoteError, NoteVerifier
    from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc

    from .witness import Witness, WitnessRefused, load_cosigner

    try:
        verifier = NoteVerifier.from_vkey(log_key)
    except NoteError as e:
        print(f"FAILED: log key: {e}")
        return EXIT_USAGE
    seen = state / "last-cosigned.note"
    witness = Witness(
        verifier,
        load_cosigner(state / "witness.key", name),
        seen.read_text() if seen.exists() else None,
    )
    stub = audit_pb2_grpc.AuditServiceStub(grpc.insecure_channel(address))
    try:
        answer = stub.WitnessCheckpoint(
            audit_pb2.WitnessCheckpointRequest(last_seen=witness.last or ""),
            metadata=[("authorization", f"Bearer {token}")],
        )
        cosigned = witness.cosign(answer.checkpoint, list(answer.proof))
    except grpc.RpcError as e:
        print(f"FAILED: the log answered {e.code().name}: {e.details()}")
        return EXIT_FAILED
    except WitnessRefused as e:
        print(f"REFUSED: {e}")
        return EXIT_FAILED
    seen.write_text(cosigned)
    print(cosigned, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
