"""The generated docs are in step with the code, and each RPC's comment says its real roles and
error reasons: a change to RULES, a proto comment or an event that the docs do not follow fails."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import gendocs  # noqa: E402


def copy_repo(tmp_path: Path) -> Path:
    """protos/, tools/, docs/ and the service READMEs: what gendocs reads and writes."""
    for part in ("protos", "tools", "docs"):
        shutil.copytree(ROOT / part, tmp_path / part)
    for readme in ROOT.glob("services/*/README.md"):
        target = tmp_path / readme.relative_to(ROOT)
        target.parent.mkdir(parents=True)
        shutil.copy(readme, target)
    return tmp_path


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "tools" / "gendocs.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_committed_docs_are_in_step() -> None:
    result = check(ROOT)
    assert result.returncode == 0, result.stderr


def test_a_stale_catalogue_fails_the_check(tmp_path: Path) -> None:
    root = copy_repo(tmp_path)
    doc = root / "docs" / "architecture.md"
    text = doc.read_text()
    changed = text.replace("| `AgeBandAttested` | `age.Attestation` | identity, audit |", "", 1)
    assert changed != text
    doc.write_text(changed)
    result = check(root)
    assert result.returncode != 0
    assert "docs/architecture.md" in result.stderr


def test_a_new_event_without_a_producer_fails(tmp_path: Path) -> None:
    root = copy_repo(tmp_path)
    events = root / "protos/hearth/identity/v1/events.proto"
    events.write_text(events.read_text() + "\n// Nobody stores this.\nmessage Unannounced {}\n")
    result = check(root)
    assert result.returncode != 0
    assert "Unannounced" in result.stderr


def rpc_comment_edit(root: Path, old: str, new: str) -> subprocess.CompletedProcess[str]:
    proto = root / "protos/hearth/identity/v1/identity.proto"
    text = proto.read_text()
    assert old in text
    proto.write_text(text.replace(old, new, 1))
    return check(root)


def test_roles_that_disagree_with_rules_fail(tmp_path: Path) -> None:
    result = rpc_comment_edit(copy_repo(tmp_path), "Roles: guardian. ", "Roles: any session. ")
    assert result.returncode != 0
    assert "RULES say guardian" in result.stderr


def test_a_reason_no_code_raises_fails(tmp_path: Path) -> None:
    result = rpc_comment_edit(
        copy_repo(tmp_path), "NOT_FOUND (ACCOUNT_NOT_FOUND, DEVICE_NOT_FOUND)", "NOT_FOUND (NOPE)"
    )
    assert result.returncode != 0
    assert "no code raises NOPE" in result.stderr


def test_a_reason_under_the_wrong_status_fails(tmp_path: Path) -> None:
    result = rpc_comment_edit(
        copy_repo(tmp_path),
        "FAILED_PRECONDITION (ACCOUNT_ERASED, LAST_DEVICE)",
        "FAILED_PRECONDITION (ACCOUNT_ERASED, DEVICE_NOT_FOUND)",
    )
    assert result.returncode != 0
    assert "DEVICE_NOT_FOUND is NOT_FOUND" in result.stderr


def test_every_rpc_of_every_service_names_its_roles_and_errors() -> None:
    services = gendocs.services()
    assert {s.name for s in services} >= {"identity", "age", "messaging", "audit"}
    for service in services:
        documented = gendocs.rpcs(service)
        served = [(d, m) for d in (service.descriptor, *service.more) for m in d.methods]
        assert [r.name for r in documented] == [m.name for _, m in served]
        for rpc, (descriptor, _) in zip(documented, served, strict=True):
            access = service.rules[f"/{descriptor.full_name}/{rpc.name}"]
            assert rpc.roles == gendocs.roles_text(access)


def test_every_reason_a_service_raises_is_documented_on_some_rpc() -> None:
    """The converse: a reason added to the code is named in some RPC's comment (or is one
    the runtime answers for every RPC, listed in the README's table)."""
    common = {
        "SESSION_MISSING",
        "SESSION_INVALID",
        "ROLE_REQUIRED",
        "NO_ACCESS_RULE",
        "WRITE_CONFLICT",
        "STORE_UNAVAILABLE",
        "INTERNAL",
        "UNAUTHENTICATED",
    }
    for service in gendocs.services():
        own = {reason for module in service.modules for reason, _ in gendocs.module_reasons(module)}
        named = {reason for rpc in gendocs.rpcs(service) for _, rs in rpc.errors for reason in rs}
        missing = own - named - common
        assert not missing, f"{service.name} raises {sorted(missing)}, named on no RPC"


DOCS = ["README.md", "docs/architecture.md", "docs/operations.md", "deploy/README.md"] + [
    str(p.relative_to(ROOT)) for p in sorted(ROOT.glob("services/*/README.md"))
]


@pytest.mark.parametrize("doc", DOCS)
def test_docs_never_point_outside_the_repository(doc: str) -> None:
    assert "../shared" not in (ROOT / doc).read_text()
    assert "ARCHITECTURE.md" not in (ROOT / doc).read_text()


VARIABLE = re.compile(r'"((?:HEARTH|OTEL|NATS)_[A-Z_]*[A-Z])"')
# Literals that are default values, not variables.
NOT_VARIABLES = {"HEARTH_MESSAGING_MAILBOX"}


def test_every_variable_the_code_reads_is_in_the_operations_guide() -> None:
    """A variable read as `HEARTH_X` inside service S may be documented as `HEARTH_S_X`."""
    guide = (ROOT / "docs" / "operations.md").read_text()
    missing = []
    for path in [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]:
        service = path.relative_to(ROOT).parts[1] if path.parts[-5] == "services" else ""
        for name in set(VARIABLE.findall(path.read_text())) - NOT_VARIABLES:
            forms = {name}
            if service:
                forms.add(f"HEARTH_{service.upper()}_{name.removeprefix('HEARTH_')}")
            if not any(f"`{form}`" in guide or f"`{form} " in guide for form in forms):
                missing.append(f"{name} ({path.relative_to(ROOT)})")
    assert not missing, f"not in docs/operations.md: {sorted(missing)}"


LINK = re.compile(r"\]\((?!https?:)([^)#\s]*)(?:#([^)\s]+))?\)")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("doc", DOCS)
def test_links_between_docs_resolve(doc: str) -> None:
    source = ROOT / doc
    for target, anchor in LINK.findall(source.read_text()):
        path = (source.parent / target).resolve() if target else source
        assert path.exists(), f"{doc} links to {target}, which does not exist"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", path.read_text(), re.MULTILINE)
            assert anchor in {slug(h) for h in headings}, f"{doc}: no heading #{anchor} in {target}"
