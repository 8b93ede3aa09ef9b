"""The age service's settings: batch maximum and estimation buffer from configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from hearth_age.service import service_secret
from hearth_crypto import age_token
from hearth_proto.hearth.age.v1 import age_pb2, types_pb2
from hearth_runtime.config import ConfigError, Env
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_sdk.age import issuer_public, synthetic_face
from tests.age.conftest import age_environ
from tests.age.support import age_client
from tests.conftest import unique_name
from tests.support.status import refused


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory, age_key_dir: Path
) -> Iterator[Platform]:
    environ = age_environ(
        unique_name("c"),
        age_key_dir,
        HEARTH_AGE_MAX_BATCH="5",
        HEARTH_AGE_ESTIMATION_BUFFER="0.5",
    )
    platform = Platform(
        tmp_path_factory.mktemp("platform"),
        services=["age"],
        environ=environ,
        nats_url=nats_server.url,
    ).start()
    yield platform
    platform.stop()


def test_the_batch_maximum_comes_from_configuration(platform: Platform, tmp_path: Path) -> None:
    client = age_client(platform, tmp_path)
    vid = client.start_verification(types_pb2.METHOD_CLASS_ESTIMATION)
    decision = client.submit_face_image(vid, synthetic_face(30))
    key = client.issuer_key(decision.band, decision.method_class)
    blinded = [age_token.create_token_request(issuer_public(key)).blinded_message for _ in range(6)]
    request = age_pb2.IssueTokensRequest(
        verification_id=vid, request_id="r", key_id=key.key_id, blinded_messages=blinded
    )
    assert "at most 5" in refused(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        client.stub.IssueTokens,
        request,
        metadata=client.metadata,
    )
    assert client.obtain_tokens(vid, decision, 5) == 5


def test_the_estimation_buffer_comes_from_configuration(platform: Platform, tmp_path: Path) -> None:
    client = age_client(platform, tmp_path)
    vid = client.start_verification(types_pb2.METHOD_CLASS_ESTIMATION)
    # 13.6 >= 13 + 0.5 here; the default buffer of 2 would place this face under 13.
    assert client.submit_face_image(vid, synthetic_face(13.6, size=64)).band == (
        types_pb2.AGE_BAND_13_15
    )


def test_a_malformed_secret_stops_the_service(tmp_path: Path) -> None:
    for bad in ("not base64!", "c2hvcnQ="):
        with pytest.raises(ConfigError, match="HEARTH_AGE_SECRET"):
            service_secret(Env({"HEARTH_AGE_SECRET": bad}), tmp_path)
