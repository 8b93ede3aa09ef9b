"""The API reference: the SDK's from its docstrings (pdoc), the protos' from their comments.

`python tools/apidocs.py OUT` (`make docs`) writes `OUT/sdk/` (HTML, one page per module of
`hearth_sdk`) and `OUT/protos.md` (every service, RPC, message, enum and event of protos/,
with the comments written above them). Nothing is fetched: pdoc renders from the installed
package, protoc reads protos/ here. It fails, naming each, on what would make a broken page:
a warning from pdoc, an SDK module or public class without a docstring, a service or RPC
without a comment.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from google.protobuf import descriptor_pb2
from grpc_tools import protoc  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
SDK = "hearth_sdk"

# Paths into FileDescriptorProto (descriptor.proto's field numbers) that comments attach to.
MESSAGE, ENUM, SERVICE = 4, 5, 6
FIELD, NESTED, NESTED_ENUM = 2, 3, 4
METHOD, ENUM_VALUE = 2, 2


def sdk_modules() -> list[str]:
    package = importlib.import_module(SDK)
    return [SDK] + [
        f"{SDK}.{m.name}" for m in pkgutil.iter_modules(package.__path__) if not m.ispkg
    ]


def docstring_problems(modules: list[str]) -> list[str]:
    problems = []
    for name in modules:
        module = importlib.import_module(name)
        if not (module.__doc__ or "").strip():
            problems.append(f"{name}: no module docstring")
        for attr, value in vars(module).items():
            if attr.startswith("_") or not inspect.isclass(value):
                continue
            if value.__module__ == name and not (value.__doc__ or "").strip():
                problems.append(f"{name}.{attr}: no class docstring")
    return problems


def build_sdk(out: Path) -> list[str]:
    import pdoc  # a dev dependency: only the reference needs it

    modules = sdk_modules()
    problems = docstring_problems(modules)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.render.configure(docformat="markdown", footer_text="Hearth SDK")
        pdoc.pdoc(*modules, output_directory=out)
    problems += [f"pdoc: {w.message}" for w in caught]
    return problems


def descriptors() -> descriptor_pb2.FileDescriptorSet:
    include = Path(protoc.__file__).parent / "_proto"
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "set.binpb"
        args = ["protoc", f"-I{PROTOS}", f"-I{include}", "--include_source_info"]
        if protoc.main([*args, f"--descriptor_set_out={out}", *sources]) != 0:
            sys.exit("protoc failed")
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


class ProtoPage:
    """The Markdown of one reference page, written file by file."""

    def __init__(self) -> None:
        self.lines: list[str] = ["# Hearth protos: API reference", ""]
        self.problems: list[str] = []

    def comment(self, comments: dict[tuple[int, ...], str], path: tuple[int, ...]) -> str:
        return comments.get(path, "")

    def add(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        comments = {
            tuple(loc.path): _markdown(loc.leading_comments)
            for loc in file.source_code_info.location
            if loc.leading_comments.strip()
        }
        events = file.name.endswith("/events.proto")
        self.lines += [f"## `{file.name}` (package `{file.package}`)", ""]
        for s, service in enumerate(file.service):
            text = self.comment(comments, (SERVICE, s))
            if not text:
                self.problems.append(f"{file.name}: service {service.name} has no comment")
            self.lines += [f"### service `{service.name}`", "", text, ""]
            for m, method in enumerate(service.method):
                text = self.comment(comments, (SERVICE, s, METHOD, m))
                if not text:
                    self.problems.append(
                        f"{file.name}: rpc {service.name}.{method.name} has no comment"
                    )
                stream_in = "stream " if method.client_streaming else ""
                stream_out = "stream " if method.server_streaming else ""
                self.lines += [
                    f"#### rpc `{method.name}`",
                    "",
                    f"`{method.name}({stream_in}{_short(method.input_type)}) returns "
                    f"({stream_out}{_short(method.output_type)})`",
                    "",
                    text,
                    "",
                ]
        for e, enum in enumerate(file.enum_type):
            self._enum(comments, enum, (ENUM, e), enum.name)
        for m, message in enumerate(file.message_type):
            self._message(comments, message, (MESSAGE, m), message.name, events)

    def _message(
        self,
        comments: dict[tuple[int, ...], str],
        message: descriptor_pb2.DescriptorProto,
        path: tuple[int, ...],
        name: str,
        event: bool,
    ) -> None:
        kind = "event" if event else "message"
        self.lines += [f"### {kind} `{name}`", "", self.comment(comments, path), ""]
        if message.field:
            self.lines += ["| field | type | number | comment |", "|---|---|---|---|"]
            for f, field in enumerate(message.field):
                text = _cell(self.comment(comments, (*path, FIELD, f)))
                self.lines.append(f"| `{field.name}` | {_type(field)} | {field.number} | {text} |")
            self.lines.append("")
        for n, nested in enumerate(message.nested_type):
            if not nested.options.map_entry:
                self._message(comments, nested, (*path, NESTED, n), f"{name}.{nested.name}", False)
        for n, enum in enumerate(message.enum_type):
            self._enum(comments, enum, (*path, NESTED_ENUM, n), f"{name}.{enum.name}")

    def _enum(
        self,
        comments: dict[tuple[int, ...], str],
        enum: descriptor_pb2.EnumDescriptorProto,
        path: tuple[int, ...],
        name: str,
    ) -> None:
        self.lines += [f"### enum `{name}`", "", self.comment(comments, path), ""]
        self.lines += ["| value | number | comment |", "|---|---|---|"]
        for v, value in enumerate(enum.value):
            text = _cell(self.comment(comments, (*path, ENUM_VALUE, v)))
            self.lines.append(f"| `{value.name}` | {value.number} | {text} |")
        self.lines.append("")


def _markdown(comment: str) -> str:
    """A proto comment as Markdown: its lines joined into paragraphs, list items kept."""
    blocks: list[str] = []
    for line in comment.strip().splitlines():
        line = line.strip()
        if not line:
            blocks.append("")
        elif line.startswith(("- ", "* ")) or not blocks or not blocks[-1]:
            blocks.append(line)
        else:
            blocks[-1] += " " + line
    return "\n".join(b if b.startswith(("- ", "* ")) or not b else b + "\n" for b in blocks).strip()


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _short(type_name: str) -> str:
    return type_name.lstrip(".").rsplit(".", 1)[-1]


def _type(field: descriptor_pb2.FieldDescriptorProto) -> str:
    base = (
        f"`{field.type_name.lstrip('.')}`"
        if field.type_name
        else descriptor_pb2.FieldDescriptorProto.Type.Name(field.type).removeprefix("TYPE_").lower()
    )
    return f"repeated {base}" if field.label == field.LABEL_REPEATED else base


def hearth_files(
    files: descriptor_pb2.FileDescriptorSet,
) -> Iterator[descriptor_pb2.FileDescriptorProto]:
    yield from (f for f in files.file if f.name.startswith("hearth/"))


def build_protos(out: Path) -> list[str]:
    page = ProtoPage()
    for file in sorted(hearth_files(descriptors()), key=lambda f: f.name):
        page.add(file)
    out.write_text("\n".join(page.lines).rstrip() + "\n")
    return page.problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="where to write the reference (not committed)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    problems = build_sdk(args.out / "sdk") + build_protos(args.out / "protos.md")
    for problem in problems:
        print(f"apidocs: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"API reference in {args.out}: sdk/index.html, protos.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
