"""Finding the installed services: each registers a builder in the `hearth.services` group.

The launcher imports no service; it asks the installed distributions' entry points.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from .config import RuntimeConfig
from .server import ServiceParts

ServiceBuilder = Callable[[RuntimeConfig], ServiceParts]
ORDER = ("identity", "age", "messaging", "safety", "audit")  # producers before followers
# Services that keep no event log: the console serves pages and calls the others.
STREAMLESS = frozenset({"console"})


def installed_services() -> dict[str, ServiceBuilder]:
    found = {ep.name: ep for ep in entry_points(group="hearth.services")}
    ordered = sorted(found, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    return {name: found[name].load() for name in ordered}
