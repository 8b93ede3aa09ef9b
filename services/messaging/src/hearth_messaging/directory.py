"""The prekey directory: devices' identity keys, signed and one-time prekeys, their owners."""

from __future__ import annotations

from collections.abc import Iterable

from eventsourcing.domain import Aggregate

from hearth_crypto.x3dh import InvalidPrekeySignature, InvalidPublicKey, PrekeyBundle, PublicPrekey
from hearth_runtime.application import retrying
from hearth_runtime.errors import Conflict, Invalid, NotFound, Refused

from .domain import AccountDevices, DeviceKeys
from .follow import IdentityFollower


class PrekeyDirectory(IdentityFollower):
    _device_owner: dict[str, str]

    def publish_prekeys(
        self,
        account_id: str,
        device_id: str,
        identity_key: bytes,
        signed_prekey: PublicPrekey,
        signature: bytes,
        one_time: Iterable[PublicPrekey],
    ) -> int:
        try:
            PrekeyBundle(identity_key, signed_prekey, signature).verify()
        except (InvalidPrekeySignature, InvalidPublicKey) as e:
            raise Invalid(f"signed prekey refused: {e}") from e
        fresh = {p.prekey_id: p.public_key.hex() for p in one_time}

        def attempt() -> int:
            keys = self._get(DeviceKeys, DeviceKeys.create_id(device_id))
            changed: list[Aggregate] = []
            if keys is None:
                keys = DeviceKeys(
                    device_id,
                    account_id,
                    identity_key.hex(),
                    signed_prekey.prekey_id,
                    signed_prekey.public_key.hex(),
                    signature.hex(),
                )
                devices = self._get(AccountDevices, AccountDevices.create_id(account_id))
                devices = devices or AccountDevices(account_id)
                devices.add(device_id)
                changed.append(devices)
            elif keys.account_id != account_id:
                raise Refused("this device belongs to another account")
            elif keys.identity_key != identity_key.hex():
                raise Conflict("a device's identity key cannot change; register a new device")
            elif keys.signed_prekey != signed_prekey.public_key.hex():
                keys.rotate(
                    signed_prekey.prekey_id, signed_prekey.public_key.hex(), signature.hex()
                )
            keys.add_one_time(fresh)
            self.save(keys, *changed)
            return len(keys.one_time)

        left = retrying(attempt)
        with self._cache_lock:
            self._device_owner[device_id] = account_id
        return left

    def count_prekeys(self, account_id: str, device_id: str) -> int:
        return len(self._own_device(account_id, device_id).one_time)

    def fetch_bundle(self, device_id: str) -> tuple[DeviceKeys, tuple[int, str] | None]:
        """The device's bundle; its one-time prekey is consumed here, once, even under races."""

        def attempt() -> tuple[DeviceKeys, tuple[int, str] | None]:
            keys = self._get(DeviceKeys, DeviceKeys.create_id(device_id))
            if keys is None:
                raise NotFound(f"no device {device_id}")
            taken = keys.take_one_time()
            if taken is not None:
                self.save(keys)  # a racing fetch of the same prekey fails its concurrency check
            return keys, taken

        return retrying(attempt)

    def list_devices(self, account_id: str) -> list[DeviceKeys]:
        devices = self._get(AccountDevices, AccountDevices.create_id(account_id))
        if devices is None:
            return []
        found = [self._get(DeviceKeys, DeviceKeys.create_id(d)) for d in devices.devices]
        return [k for k in found if k is not None]

    def known_owner(self, device_id: str) -> str | None:
        """The device's owner if this instance has met the device, without reading the store
        (a device's owner never changes, so no replica can make this stale)."""
        with self._cache_lock:
            return self._device_owner.get(device_id)

    def device_owner(self, device_id: str) -> str | None:
        with self._cache_lock:
            owner = self._device_owner.get(device_id)
        if owner is None:
            keys = self._get(DeviceKeys, DeviceKeys.create_id(device_id))
            if keys is None:
                return None
            owner = keys.account_id
            with self._cache_lock:
                self._device_owner[device_id] = owner
        return owner

    def _own_device(self, account_id: str, device_id: str) -> DeviceKeys:
        keys = self._get(DeviceKeys, DeviceKeys.create_id(device_id))
        if keys is None:
            raise NotFound(f"no device {device_id}")
        if keys.account_id != account_id:
            raise Refused("this device belongs to another account")
        return keys

    def check_own_device(self, account_id: str, device_id: str) -> None:
        owner = self.device_owner(device_id)
        if owner is None:
            raise NotFound(f"no device {device_id}")
        if owner != account_id:
            raise Refused("this device belongs to another account")
