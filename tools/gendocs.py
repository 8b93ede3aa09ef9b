"""Write the generated parts of the docs from the code, or check that they are in step.

What is generated (between `<!-- generated: NAME -->` and `<!-- end generated: NAME -->`):
- `docs/architecture.md` `follows` and `events`: who follows whom and for which event types,
  and every message of `protos/hearth/*/v1/events.proto` with its aggregate, its producer and
  its consumers. A stored event's producer is the package whose aggregate declares it
  `@published`; its consumers are the followers whose `topics` name it, and a follower of
  every event (`EVERY_EVENT`, audit) of the streams its service module's `DEFAULT_FOLLOW` lists.
- `services/<name>/README.md` `rpcs` and `events`: each RPC with its roles (the service's
  `RULES`) and error reasons (its comment in the proto), and the events it publishes and
  follows.

Each RPC's comment in the proto ends with `Roles: ... Errors: ...`; the roles must be the
ones `RULES` declares, and each error reason must be one the code raises with that status
(see `reasons`). `python tools/gendocs.py --check` (in `make lint`) fails when a committed doc
differs from what this writes, or a comment disagrees with the code. It is one module of a
little over 400 lines because reading the code and writing the sections share its records.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import pkgutil
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FileDescriptor, ServiceDescriptor

from hearth_eventlog.published import aggregates, schema_of
from hearth_runtime import errors
from hearth_runtime.access import Access
from hearth_runtime.application import FollowingApplication

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
RUNTIME = "hearth_runtime"
EVERY_FOLLOWER = "every following service"
COMMENT = re.compile(r"((?:^[ \t]*//[^\n]*\n)+)[ \t]*(message|rpc)[ \t]+(\w+)", re.MULTILINE)
ROLES = re.compile(r"Roles: (?P<roles>[^.]+)\.")
ERRORS = re.compile(r"Errors: (?P<errors>.+?)\.?$")
ITEM = re.compile(r"\s*(?P<code>[A-Z_]+)(?:\s*\((?P<reasons>[^)]*)\))?\s*(?:,|$)")


class DocError(Exception):
    """A proto comment disagrees with the code, or a generated section is missing."""


@dataclass(frozen=True)
class Rpc:
    name: str
    summary: str
    roles: str
    errors: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass
class Service:
    name: str
    package: str
    modules: list[ModuleType]
    rules: dict[str, Access]
    descriptor: ServiceDescriptor
    followers: list[type[FollowingApplication]] = field(default_factory=list)
    default_follow: tuple[str, ...] = ()
    # Further gRPC services the same host serves (messaging's RecordsService): their RPCs
    # are listed and checked with the first's.
    more: tuple[ServiceDescriptor, ...] = ()


@dataclass(frozen=True)
class Event:
    full_name: str
    summary: str
    aggregate: str  # stable aggregate name; "" for a message that is part of another
    producer: str  # a service name, or EVERY_FOLLOWER
    consumers: tuple[str, ...]


# Reading the code.


def package_modules(package: str) -> list[ModuleType]:
    root = importlib.import_module(package)
    found = [root]
    for info in pkgutil.walk_packages(root.__path__, f"{package}."):
        found.append(importlib.import_module(info.name))
    return found


def services() -> list[Service]:
    found = []
    for point in sorted(entry_points(group="hearth.services"), key=lambda p: p.name):
        module = importlib.import_module(point.module)
        package = point.module.split(".")[0]
        modules = package_modules(package)
        rules: dict[str, Access] = getattr(module, "RULES", {})
        if not rules:  # no RPCs of its own (the console serves pages): no tables to generate
            continue
        name, *others = dict.fromkeys(path.split("/")[1] for path in rules)
        service = Service(
            point.name,
            package,
            modules,
            rules,
            module_descriptor(module).services_by_name[name.rsplit(".", 1)[1]],
            default_follow=tuple(
                s.strip() for s in getattr(module, "DEFAULT_FOLLOW", "").split(",") if s.strip()
            ),
            more=tuple(descriptor_pool.Default().FindServiceByName(o) for o in others),
        )
        for mod in modules:
            for value in vars(mod).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, FollowingApplication)
                    and value.__module__ == mod.__name__
                ):
                    service.followers.append(value)
        # An application built in layers (a follower layer under the relay, say) is one
        # follower: the most derived class, the one the service runs.
        service.followers = [
            f
            for f in service.followers
            if not any(o is not f and issubclass(o, f) for o in service.followers)
        ]
        found.append(service)
    return found


def module_descriptor(module: ModuleType) -> FileDescriptor:
    for value in vars(module).values():
        if isinstance(value, ModuleType) and value.__name__.endswith("_pb2"):
            descriptor: FileDescriptor = value.DESCRIPTOR
            if descriptor.services_by_name:
                return descriptor
    raise DocError(f"{module.__name__} imports no generated module with a service")


def comments(proto: Path) -> dict[str, str]:
    """The comment above each message and rpc of a .proto file, joined into one line."""
    found = {}
    for match in COMMENT.finditer(proto.read_text()):
        lines = [line.strip().removeprefix("//").strip() for line in match[1].splitlines()]
        found[match[3]] = " ".join(line for line in lines if line)
    return found


def first_sentence(text: str) -> str:
    head = re.split(r"(?<=\.)\s", text, maxsplit=1)[0]
    return head.rstrip(".") + "."


def reasons(service: Service) -> dict[str, str]:
    """Each error reason the service's code (and the runtime's) can answer -> its status."""
    found = {
        kind.reason: kind.code.name
        for kind in vars(errors).values()
        if isinstance(kind, type) and issubclass(kind, errors.HearthError)
    }
    for module in [*package_modules(RUNTIME), *service.modules]:
        found.update(module_reasons(module))
    for module in service.modules:
        # A refusal whose reason is data, not code: the contact policy's refusal codes.
        refusals = getattr(module, "REFUSAL_REASONS", None)
        if refusals is not None:
            found.update({reason: "PERMISSION_DENIED" for reason in refusals})
    return found


def module_reasons(module: ModuleType) -> Iterator[tuple[str, str]]:
    """The reasons a module's error classes declare (`reason = "X"`) and its raises name
    (`Refused(..., reason="X")`), each with its status."""
    path = getattr(module, "__file__", None)
    if not path:
        return
    for node in ast.walk(ast.parse(Path(path).read_text())):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign)
                    and [ast.unparse(t) for t in statement.targets] == ["reason"]
                    and isinstance(statement.value, ast.Constant)
                ):
                    yield from _with_status(module, node.name, statement.value.value)
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "reason" and isinstance(keyword.value, ast.Constant):
                    yield from _with_status(module, ast.unparse(node.func), keyword.value.value)


def _with_status(module: ModuleType, name: str, reason: object) -> Iterator[tuple[str, str]]:
    """`reason` with the status of the error kind `name` (as the module spells it), if it is one."""
    kind: object = module
    for part in name.split("."):
        kind = getattr(kind, part, None)
    if isinstance(kind, type) and issubclass(kind, errors.HearthError):
        yield str(reason), kind.code.name


def roles_text(access: Access) -> str:
    if access.public:
        return "public"
    if access.roles is None:
        return "any session"
    return ", ".join(sorted(access.roles))


def rpcs(service: Service) -> list[Rpc]:
    known = reasons(service)
    found = []
    for descriptor in (service.descriptor, *service.more):
        found += _rpcs(service, descriptor, known)
    return found


def _rpcs(service: Service, descriptor: ServiceDescriptor, known: dict[str, str]) -> list[Rpc]:
    proto = PROTOS / descriptor.file.name
    said = comments(proto)
    found = []
    for method in descriptor.methods:
        where = f"{proto.relative_to(ROOT)}: rpc {method.name}"
        text = said.get(method.name, "")
        roles, errs = ROLES.search(text), ERRORS.search(text)
        if roles is None or errs is None:
            raise DocError(f"{where}: its comment must end 'Roles: ... Errors: ...'")
        declared = roles_text(service.rules[f"/{descriptor.full_name}/{method.name}"])
        if sorted(roles["roles"].split(", ")) != declared.split(", "):
            raise DocError(f"{where}: says Roles: {roles['roles']}; RULES say {declared}")
        found.append(
            Rpc(
                method.name,
                first_sentence(text),
                declared,
                parse_errors(errs["errors"], known, where),
            )
        )
    return found


def parse_errors(
    text: str, known: dict[str, str], where: str
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`NOT_FOUND (ACCOUNT_NOT_FOUND), INVALID_ARGUMENT` -> codes and reasons, each checked:
    a bare code stands for its kind's own reason (INVALID_ARGUMENT's is INVALID_ARGUMENT)."""
    if text.strip() == "none":
        return ()
    items, position = [], 0
    while position < len(text):
        match = ITEM.match(text, position)
        if match is None or match.end() == position:
            raise DocError(f"{where}: cannot read its Errors at {text[position:]!r}")
        code = match["code"]
        named = tuple(r.strip() for r in (match["reasons"] or code).split(","))
        for reason in named:
            if known.get(reason) != code:
                said = known.get(reason)
                raise DocError(
                    f"{where}: {code} ({reason}): "
                    + (f"{reason} is {said}" if said else f"no code raises {reason}")
                )
        items.append((code, named))
        position = match.end()
    return tuple(items)


def events(found: list[Service]) -> list[Event]:
    by_package = {s.package: s.name for s in found}
    stored: dict[str, tuple[str, str]] = {}  # full name -> aggregate, producer
    for name, aggregate in aggregates().items():
        package = aggregate.__module__.split(".")[0]
        producer = EVERY_FOLLOWER if package == RUNTIME else by_package.get(package)
        if producer is None:
            continue
        for value in vars(aggregate).values():
            schema = schema_of(value) if isinstance(value, type) else None
            if schema is not None:
                stored[schema.DESCRIPTOR.full_name] = (name, producer)
    consumers: dict[str, list[str]] = {}
    every: list[tuple[str, tuple[str, ...]]] = []
    for service in found:
        for follower in service.followers:
            if follower.topics is None:
                every.append((service.name, service.default_follow))
            else:
                for topic in follower.topics:
                    consumers.setdefault(topic, []).append(service.name)
    result = []
    for proto in sorted(PROTOS.glob("hearth/*/v1/events.proto")):
        said = comments(proto)
        package = "hearth." + ".".join(proto.relative_to(PROTOS).parts[1:3]) + "."
        for message, comment in said.items():
            full = package + message
            kind, producer = stored[full] if full in stored else ("", _part_of(full, stored))
            followed_by = list(consumers.get(full, []))
            for reader, upstreams in every:
                if producer in upstreams or (producer == EVERY_FOLLOWER and upstreams):
                    followed_by.append(reader)
            result.append(Event(full, first_sentence(comment), kind, producer, tuple(followed_by)))
    return result


def _part_of(full_name: str, stored: dict[str, tuple[str, str]]) -> str:
    """The producer of a message that is a field of stored events (a batch's item)."""
    pool = descriptor_pool.Default()
    for name, (_, producer) in stored.items():
        for message_field in pool.FindMessageTypeByName(name).fields:
            if message_field.message_type and message_field.message_type.full_name == full_name:
                return producer
    raise DocError(f"{full_name} is in an events.proto but no aggregate stores it")


# Writing the docs.


def short(full_name: str) -> str:
    return full_name.rsplit(".", 1)[1]


def follows_section(found: list[Service], catalogue: list[Event]) -> str:
    producers = {e.full_name: e.producer for e in catalogue}
    lines = ["| follower | upstream stream | event types it takes in |", "|---|---|---|"]
    for service in found:
        for follower in service.followers:
            if follower.topics is None:
                for upstream in service.default_follow:
                    lines.append(f"| {service.name} | {upstream} | every event |")
                continue
            by_upstream: dict[str, list[str]] = {}
            for topic in sorted(follower.topics):
                by_upstream.setdefault(producers.get(topic, "?"), []).append(f"`{short(topic)}`")
            for upstream, topics in sorted(by_upstream.items()):
                lines.append(f"| {service.name} | {upstream} | {', '.join(topics)} |")
    return "\n".join(lines)


def events_section(catalogue: list[Event]) -> str:
    parts = []
    producers = list(dict.fromkeys(e.producer for e in catalogue))
    for producer in sorted(producers, key=lambda p: (p == EVERY_FOLLOWER, p)):
        area = next(e.full_name for e in catalogue if e.producer == producer).rsplit(".", 1)[0]
        title = "Every follower (runtime)" if producer == EVERY_FOLLOWER else producer
        rows = [
            f"### {title}: `{area}`",
            "",
            "| event | aggregate | consumers | what it records |",
            "|---|---|---|---|",
        ]
        for event in catalogue:
            if event.producer == producer:
                aggregate = f"`{event.aggregate}`" if event.aggregate else "(an item of a batch)"
                rows.append(
                    f"| `{short(event.full_name)}` | {aggregate} | "
                    f"{', '.join(event.consumers) or '-'} | {event.summary} |"
                )
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def rpcs_section(service: Service) -> str:
    found = rpcs(service)
    shared = {rpc.roles for rpc in found}
    same = len(shared) == 1
    lines = [f"Every RPC is for the roles: {shared.pop()}.", ""] if same else []
    lines += [
        "| RPC |" + ("" if same else " roles |") + " errors (reasons) beyond the common ones |"
        " what it does |",
        "|---|---|---|" + ("" if same else "---|"),
    ]
    for rpc in found:
        shown = ", ".join(
            code if reasons == (code,) else f"{code} ({', '.join(reasons)})"
            for code, reasons in rpc.errors
        )
        roles = "" if same else f" {rpc.roles} |"
        lines.append(f"| `{rpc.name}` |{roles} {shown or '-'} | {rpc.summary} |")
    return "\n".join(lines)


def service_events_section(service: Service, catalogue: list[Event]) -> str:
    own = [e for e in catalogue if e.producer == service.name]
    taken = [e for e in catalogue if service.name in e.consumers and e.producer != service.name]
    lines = [f"Publishes (`{own[0].full_name.rsplit('.', 1)[0]}`, its stream):", ""]
    for event in own:
        by = f" Followed by {', '.join(event.consumers)}." if event.consumers else ""
        lines.append(f"- `{short(event.full_name)}`: {event.summary}{by}")
    lines += ["", "Follows:", ""]
    if any(f.topics is None for f in service.followers):
        lines.append(f"- every event of {', '.join(service.default_follow)} (`EVERY_EVENT`)")
    else:
        for event in taken:
            lines.append(f"- `{event.full_name}` from {event.producer}")
    if not service.followers:
        lines.append("- nothing")
    lines += [
        "",
        "Like every follower, it also records `hearth.runtime.v1.DeadLetterRecorded` in its"
        " own stream for an upstream event its policy could not handle.",
    ]
    return "\n".join(lines if service.followers else lines[:-2])


def generated(found: list[Service]) -> dict[Path, dict[str, str]]:
    catalogue = events(found)
    sections = {
        ARCHITECTURE: {
            "follows": follows_section(found, catalogue),
            "events": events_section(catalogue),
        }
    }
    for service in found:
        sections[ROOT / "services" / service.name / "README.md"] = {
            "rpcs": rpcs_section(service),
            "events": service_events_section(service, catalogue),
        }
    return sections


def fill(text: str, name: str, body: str, where: Path) -> str:
    begin, end = f"<!-- generated: {name} -->", f"<!-- end generated: {name} -->"
    if begin not in text or end not in text:
        raise DocError(f"{where.relative_to(ROOT)} lacks the markers of section {name!r}")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}\n{end}{tail}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a generated doc is stale")
    check = parser.parse_args().check
    try:
        stale = []
        for path, sections in generated(services()).items():
            text = path.read_text() if path.exists() else ""
            fresh = text
            for name, body in sections.items():
                fresh = fill(fresh, name, body, path)
            if fresh != text:
                stale.append(str(path.relative_to(ROOT)))
                if not check:
                    path.write_text(fresh)
    except DocError as e:
        sys.exit(f"gendocs: {e}")
    if check and stale:
        sys.exit(
            "generated docs are out of step with the code (run `make docs`):\n  "
            + "\n  ".join(stale)
        )
    for name in stale:
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
