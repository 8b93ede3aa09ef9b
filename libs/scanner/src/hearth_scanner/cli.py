"""`hearth-scan`: score a labelled corpus (`eval FILE.jsonl`) or explain one message (`check`).

`eval` prints one `BENCH <name> <value> <unit>` line per figure on stdout (the definitions
are in :mod:`hearth_scanner.evaluate`) and, with `--misses`, what it got wrong on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .corpus import CorpusError, read_corpus
from .evaluate import evaluate
from .model import ModelError
from .scanner import TextScanner
from .shipped import shipped_scanner
from .taxonomy import BANDS, UNKNOWN, Participant


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _scanner(args: argparse.Namespace) -> TextScanner:
    return shipped_scanner(with_model=args.model)


def run_eval(args: argparse.Namespace) -> int:
    try:
        conversations = list(read_corpus(Path(args.file)))
        scanner = _scanner(args)
    except (OSError, CorpusError, ModelError) as e:
        print(f"hearth-scan: {e}", file=sys.stderr)
        return 2
    result = evaluate(conversations, scanner)
    for name, value, unit in result.figures():
        print(f"BENCH {name} {_number(value)} {unit}", flush=True)
    if args.misses:
        for line in result.misses:
            print(line, file=sys.stderr)
    return 0


def run_check(args: argparse.Namespace) -> int:
    scanner = _scanner(args)
    sender = Participant(args.sender_role, args.sender_band) if args.sender_band else UNKNOWN
    reader = Participant(args.reader_role, args.reader_band)
    scan = scanner.scan(args.text, sender, [reader])
    print(f"read as: {scan.relation.value}")
    lines = scan.explain()
    for line in lines:
        print(line)
    if not lines:
        print("nothing flagged")
    for indicator, found in sorted(scan.scores.items()):
        if indicator not in scan.flagged:
            print(f"(below the flag line) {indicator} {found.score:.2f}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hearth-scan", description=__doc__)
    parser.add_argument(
        "--model", action="store_true", help="join the shipped text model's evidence to the rules'"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("eval", help="score a labelled JSON Lines corpus, print BENCH lines")
    ev.add_argument("file")
    ev.add_argument("--misses", action="store_true", help="list what was missed, on stderr")
    check = sub.add_parser("check", help="explain what the scanner sees in one message")
    check.add_argument("text")
    check.add_argument("--sender-role", default="adult")
    check.add_argument("--sender-band", choices=BANDS, default="")
    check.add_argument("--reader-role", default="child")
    check.add_argument("--reader-band", choices=BANDS, default="under_13")
    args = parser.parse_args(argv)
    return run_eval(args) if args.command == "eval" else run_check(args)


if __name__ == "__main__":
    sys.exit(main())
