"""Put the example programs into docs/sdk.md, so the guide's code is the code that is tested.

A line `<!-- include: examples/NAME.py -->` in the guide is followed by a ```python block;
this writes the file's text into that block (`make docs`), or with `--check` fails, naming
the file, when a block differs from its file (`make test`, tests/docs).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "sdk.md"
BLOCK = re.compile(r"(<!-- include: (?P<path>[\w/.-]+) -->\n```python\n)(?P<code>.*?)(```\n)", re.S)


def included(text: str) -> tuple[str, list[str]]:
    """The guide with every included block brought in step, and the files that differed."""
    stale: list[str] = []

    def fill(match: re.Match[str]) -> str:
        code = (ROOT / match["path"]).read_text()
        if code != match["code"]:
            stale.append(match["path"])
        return match[1] + code + match[4]

    return BLOCK.sub(fill, text), stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a block is out of step")
    args = parser.parse_args(argv)
    text, stale = included(GUIDE.read_text())
    if args.check:
        for path in stale:
            print(
                f"{GUIDE.relative_to(ROOT)}: the block of {path} differs (make docs)",
                file=sys.stderr,
            )
        return 1 if stale else 0
    GUIDE.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
