"""Where a platform's services listen: the `endpoints.json` that `hearth up` writes.

`hearth up` (`make up`) writes `var/endpoints.json`, one address per service. A client made
for another deployment builds :class:`Endpoints` from its own configuration instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import grpc

from .channel import connect

DEFAULT_PATH = Path("var/endpoints.json")


class Endpoints:
    """Each service's address, and one traced channel per service, opened when first asked."""

    def __init__(self, addresses: Mapping[str, str], data_dir: Path = DEFAULT_PATH.parent) -> None:
        """`data_dir`: the development platform's data directory (`var/`), where `hearth up`
        keeps its development keys and the examples keep their devices' state."""
        self.addresses = dict(addresses)
        self.data_dir = data_dir
        self._channels: dict[str, grpc.Channel] = {}

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PATH) -> Endpoints:
        """The addresses `hearth up` wrote; its data directory is the file's own."""
        path = Path(path)
        try:
            addresses = json.loads(path.read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"{path} does not exist: is `make up` running?") from None
        if not isinstance(addresses, dict):
            raise ValueError(f"{path} is not a map of service names to addresses")
        return cls({str(k): str(v) for k, v in addresses.items()}, path.parent)

    def __getitem__(self, service: str) -> str:
        """The address of `service`, e.g. ``endpoints["messaging"]``."""
        try:
            return self.addresses[service]
        except KeyError:
            raise KeyError(
                f"no {service!r} service among the endpoints ({', '.join(sorted(self.addresses))})"
            ) from None

    def channel(self, service: str) -> grpc.Channel:
        """A channel to `service`, shared by every client of it."""
        if service not in self._channels:
            self._channels[service] = connect(self[service])
        return self._channels[service]

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()
