"""Record the replay fixture: `python -m tests.replay.record` (writes tests/replay/fixture/).

It runs the scripted aggregates of every service (`tests.replay.script`) on a fresh embedded
nats-server and keeps each stream's raw messages and each aggregate's state. It was run once
with the code as it was before every event had a schema and a stable name (the commit is in
`states.json`), so the fixture holds the old topics; run now, it records today's names.

`python -m tests.replay.record safety` records only the named services, into
`fixture/<first name>/`: a later fixture for a service that came after the first one (safety's
was recorded when its events were first published), so upgrades replay its streams too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from hearth_eventlog import StreamSettings
from hearth_runtime.embedded_nats import EmbeddedNats
from tests.replay import script
from tests.support.streams import read_stream, save

FIXTURE = Path(__file__).parent / "fixture"


def main(services: tuple[str, ...] = script.SERVICES, into: Path = FIXTURE) -> None:
    into.mkdir(exist_ok=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedNats(Path(tmp) / "nats")
        url = server.start()
        try:
            states = script.run({"NATS_URL": url}, services)
            messages = []
            prefixes = {}
            for service in services:
                settings = StreamSettings.from_env({}, service)
                prefixes[service] = settings.subject_prefix
                messages.extend(read_stream(url, settings.stream))
        finally:
            server.stop()
    save(into / "stream.jsonl", messages)
    (into / "states.json").write_text(
        json.dumps(
            {"commit": commit, "prefixes": prefixes, "states": states}, indent=1, sort_keys=True
        )
        + "\n"
    )
    print(f"recorded {len(messages)} messages of {len(prefixes)} streams at {commit}")


if __name__ == "__main__":
    named = tuple(sys.argv[1:])
    if named:
        main(named, FIXTURE / named[0])
    else:
        main()
