"""Published event schemas are guarded: a breaking change, or stale generated code, fails lint."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUF = Path(sys.executable).parent / "buf"


def copy_protos(tmp_path: Path) -> Path:
    protos = tmp_path / "protos"
    shutil.copytree(ROOT / "protos", protos)
    return protos


def breaking(protos: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BUF), "breaking", "--against", "published.binpb", "--path", "hearth/identity"],
        cwd=protos,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_current_protos_keep_the_published_contracts(tmp_path: Path) -> None:
    assert breaking(copy_protos(tmp_path)).returncode == 0


def test_renumbering_a_published_event_field_is_a_breaking_change(tmp_path: Path) -> None:
    protos = copy_protos(tmp_path)
    events = protos / "hearth/identity/v1/events.proto"
    text = events.read_text()
    changed = text.replace("  Role role = 3;", "  Role role = 13;", 1)
    assert changed != text
    events.write_text(changed)
    result = breaking(protos)
    assert result.returncode != 0
    assert "AccountRegistered" in result.stdout + result.stderr


def test_generated_code_out_of_step_with_protos_fails_the_check(tmp_path: Path) -> None:
    protos = copy_protos(tmp_path)
    tools = tmp_path / "tools"
    shutil.copytree(ROOT / "tools", tools)
    target = tmp_path / "libs/proto/src"
    shutil.copytree(ROOT / "libs/proto/src", target)
    check = [sys.executable, str(tools / "genprotos.py"), "--check"]
    assert subprocess.run(check, capture_output=True, timeout=120).returncode == 0
    events = protos / "hearth/identity/v1/events.proto"
    events.write_text(events.read_text() + "\nmessage Unannounced {}\n")
    result = subprocess.run(check, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "out of step with protos/" in result.stderr
