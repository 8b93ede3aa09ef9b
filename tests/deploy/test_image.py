"""The container image: built by `make image`, run as UID 10001 on a read-only root.

`buildah run` (chroot isolation, host network) starts the identity service from the image
against the test nats-server; the test calls its gRPC health and one RPC. Where buildah or
mmdebstrap is missing the test is skipped with the reason, except in CI, where it fails:
`make test` installs them first when it runs as root.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nacl.signing import SigningKey

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.embedded_nats import EmbeddedNats, free_port
from hearth_runtime.sessions import development_signer, format_public_keys, format_signing_key
from tests.conftest import stream_environ, unique_name
from tests.deploy.support import ROOT

pytestmark = pytest.mark.slow
IMAGE_TOOL = ROOT / "tools" / "image.py"
# Files buildah binds into a container: they must exist before its root is made read-only.
BOUND = ("run/.containerenv", "etc/hosts", "etc/resolv.conf", "etc/hostname")


def unavailable() -> str | None:
    missing = [t for t in ("buildah", "mmdebstrap") if shutil.which(t) is None]
    if missing:
        return f"{', '.join(missing)} not installed (Debian packages; `make image` installs them)"
    if os.geteuid() != 0:
        return "buildah with chroot isolation needs root here"
    return None


@pytest.fixture(scope="module")
def image() -> str:
    reason = unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the image test cannot run in CI: {reason}")
        pytest.skip(f"image not built: {reason}")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(IMAGE_TOOL)], capture_output=True, text=True, timeout=1800
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    print(f"image built in {time.monotonic() - started:.0f}s")
    return result.stdout.strip().splitlines()[-1].split()[1]  # "built <ref> in Ns"


@pytest.fixture
def container(image: str) -> Iterator[str]:
    """A working container of the image whose root filesystem is mounted read-only."""
    name = subprocess.run(
        ["buildah", "from", "--quiet", "--pull-never", image],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    root = subprocess.run(
        ["buildah", "mount", name], capture_output=True, text=True, check=True
    ).stdout.strip()
    for path in BOUND:
        Path(root, path).touch()
    subprocess.run(["mount", "--bind", root, root], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", root], check=True)
    try:
        yield name
    finally:
        subprocess.run(["umount", root], check=False)
        subprocess.run(["buildah", "umount", name], capture_output=True, check=False)
        subprocess.run(["buildah", "rm", name], capture_output=True, check=False)


def run_args(name: str, *command: str) -> list[str]:
    return [
        "buildah", "run", "--isolation", "chroot", "--network", "host",
        "--user", "10001:10001", "--mount", "type=tmpfs,destination=/tmp",
        name, "--", *command,
    ]  # fmt: skip


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def test_image_runs_a_service_as_10001_on_a_read_only_root(
    container: str, nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    probe = subprocess.run(
        run_args(
            container,
            "/opt/hearth/bin/python",
            "-c",
            "import os, pathlib\n"
            "print(os.getuid(), os.getgid())\n"
            "pathlib.Path('/tmp/ok').write_text('ok')\n"
            "try:\n    pathlib.Path('/opt/hearth/x').write_text('x')\n"
            "except OSError as e:\n    print(e.strerror)\n",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.stdout.splitlines()[:2] == ["10001 10001", "Read-only file system"], (
        probe.stdout + probe.stderr
    )

    signer = development_signer(tmp_path, {})
    port = free_port()
    environ = {
        "NATS_URL": nats_server.url,
        "HEARTH_GRPC_HOST": "127.0.0.1",
        "HEARTH_GRPC_PORT": str(port),
        "HEARTH_SESSION_PUBLIC_KEYS": format_public_keys({signer.key_id: signer.public_key}),
        "HEARTH_SESSION_SIGNING_KEY": format_signing_key(signer),
        "HEARTH_IDENTITY_FOLLOW_AGE": "false",
        "HEARTH_LOG_FORMAT": "text",
        **stream_environ(unique_name("img"), "identity"),
    }
    subprocess.run(
        ["buildah", "config", *[f"--env={k}={v}" for k, v in environ.items()], container],
        check=True,
    )
    log = tmp_path / "identity.log"
    with log.open("wb") as out:
        service = subprocess.Popen(
            run_args(container, "/opt/hearth/bin/hearth", "serve", "--service", "identity"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        health = health_pb2_grpc.HealthStub(channel)
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and service.poll() is None:
            try:
                status = health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
            except grpc.RpcError:
                time.sleep(0.5)
                continue
            if status == health_pb2.HealthCheckResponse.SERVING:
                break
        assert status == health_pb2.HealthCheckResponse.SERVING, log.read_text()[-3000:]
        identity = identity_pb2_grpc.IdentityServiceStub(channel)
        answer = identity.RegisterAccount(
            identity_pb2.RegisterAccountRequest(
                request_id=unique_name("req"),
                role=identity_pb2.ROLE_YOUNG_PERSON,
                device_public_key=bytes(SigningKey.generate().verify_key),
            ),
            timeout=30,
        )
        assert answer.account_id
        channel.close()
    finally:
        # buildah answers a signal by killing its child: stop the service itself, as the
        # kubelet would, to see it drain.
        for pid in descendants(service.pid):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if argv[0].startswith(b"/opt/hearth/bin/python"):
                os.kill(pid, signal.SIGTERM)
        try:
            service.wait(timeout=60)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait(timeout=10)
    assert "identity stopped" in log.read_text(), log.read_text()[-3000:]
