"""The guide's code is the examples' code, and the API reference builds without a fault."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from google.protobuf import descriptor_pb2

from hearth_proto.hearth.age.v1 import age_pb2
from hearth_proto.hearth.audit.v1 import audit_pb2
from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_proto.hearth.messaging.v1 import messaging_pb2

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str) -> ModuleType:
    """A script of tools/ (not a package: it runs as `python tools/NAME.py`)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


apidocs, include_examples = tool("apidocs"), tool("include_examples")


def test_the_guides_code_blocks_are_the_example_files() -> None:
    text = (ROOT / "docs" / "sdk.md").read_text()
    brought, stale = include_examples.included(text)
    assert stale == [] and brought == text
    shown = {m["path"] for m in include_examples.BLOCK.finditer(text)}
    assert shown == {f"examples/{p.name}" for p in (ROOT / "examples").glob("*.py")}
    # The quickstart comes first.
    assert next(include_examples.BLOCK.finditer(text))["path"] == "examples/quickstart.py"


def test_a_changed_example_is_caught() -> None:
    text = (ROOT / "docs" / "sdk.md").read_text().replace("Hi Ben, it's Ada!", "Hello", 1)
    assert include_examples.included(text)[1] == ["examples/quickstart.py"]


def test_the_api_reference_builds_with_every_service_rpc_and_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "apidocs.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "protos.md").read_text()
    for module in (age_pb2, audit_pb2, identity_pb2, messaging_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            assert f"### service `{service.name}`" in page
            for method in service.methods:
                assert f"#### rpc `{method.name}`" in page
        for message in module.DESCRIPTOR.message_types_by_name:
            assert f"### message `{message}`" in page
    assert "### event `AccountRegistered`" in page
    assert "Relay one message: a ciphertext per recipient device" in page  # a comment, shown
    html = (tmp_path / "sdk" / "hearth_sdk" / "messaging.html").read_text()
    assert "MessagingDevice" in html and "X3DH" in html


def test_an_rpc_without_a_comment_fails_the_reference() -> None:
    file = descriptor_pb2.FileDescriptorProto(name="hearth/x/v1/x.proto", package="hearth.x.v1")
    service = file.service.add(name="XService")
    service.method.add(name="Do", input_type=".hearth.x.v1.A", output_type=".hearth.x.v1.B")
    location = file.source_code_info.location.add(path=[apidocs.SERVICE, 0])
    location.leading_comments = " What X does.\n"
    page = apidocs.ProtoPage()
    page.add(file)
    assert page.problems == ["hearth/x/v1/x.proto: rpc XService.Do has no comment"]


def test_an_sdk_class_without_a_docstring_fails_the_reference() -> None:
    assert apidocs.docstring_problems(apidocs.sdk_modules()) == []
    assert apidocs.docstring_problems(["tests.docs.undocumented"]) == [
        "tests.docs.undocumented: no module docstring",
        "tests.docs.undocumented.Bare: no class docstring",
    ]
