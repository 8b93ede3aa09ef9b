"""Key-value buckets are kept like the application's stream: its storage and its replicas."""

from __future__ import annotations

import pytest

from hearth_eventlog import NatsFactory
from tests.conftest import unique_name
from tests.eventlog.support import fresh_env


@pytest.mark.parametrize("storage", ["memory", "file"])
def test_a_bucket_takes_the_streams_storage_and_replicas(nats_url: str, storage: str) -> None:
    factory = NatsFactory(fresh_env(nats_url, HEARTH_STREAM_STORAGE=storage))
    try:
        bucket = unique_name("B")
        kv = factory.link.key_value(bucket, factory.settings, ttl=120.0)
        status = factory.link.run(kv.status())
        config = status.stream_info.config
        assert (str(config.storage), config.num_replicas) == (storage, 1)
        assert status.ttl == 120.0
        again = factory.link.key_value(bucket, factory.settings, ttl=120.0)  # opens, not creates
        factory.link.run(again.put("k", b"v"))
        assert factory.link.run(kv.get("k")).value == b"v"
    finally:
        factory.close()
