"""A save whose answer is lost on a replicated stream: confirmed, sent once more, or refused.

A stream leader that steps down drops the proposals it has not replicated, answering nothing.
The link then reads the subject: the save is there (recorded), or the subject is where the
save expected it (nothing recorded: sent again, once), or it moved on (the error stands).
Answers are lost here by dropping them in the link; NATS and the stream are real.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from nats.aio.msg import Msg

from hearth_eventlog.link import JetStreamLink, NoAnswer, Outgoing
from hearth_eventlog.settings import StreamSettings
from hearth_eventlog.stream import ensure_stream
from tests.cluster.support import Cluster
from tests.conftest import unique_name


class LosingLink(JetStreamLink):
    """Loses the answer of the next send: after sending it, or instead of sending it."""

    lose: str = ""  # "answer" or "message"
    sends = 0

    async def _send(self, messages: Sequence[Outgoing]) -> Msg:
        self.sends += 1
        lose, self.lose = self.lose, ""
        if lose == "message":
            raise NoAnswer("NATS did not answer (the message was lost)")
        answer = await super()._send(messages)
        if lose == "answer":
            raise NoAnswer("NATS did not answer (the answer was lost)")
        return answer


@pytest.fixture
def stream(cluster: Cluster) -> Iterator[tuple[LosingLink, StreamSettings]]:
    name = unique_name("lost")
    settings = StreamSettings(cluster.url, name.upper(), f"hearth.{name}", replicas=3)
    link = LosingLink(cluster.url, request_timeout=5)
    link.run(ensure_stream(link, settings))
    yield link, settings
    link.close()


def save(subject: str, payload: bytes, expected: int) -> list[Outgoing]:
    return [Outgoing(subject, payload, expected)]


def test_a_recorded_save_whose_answer_was_lost_is_confirmed(
    stream: tuple[LosingLink, StreamSettings],
) -> None:
    link, settings = stream
    subject = f"{settings.events_subject}.a"
    link.lose = "answer"
    seqs = link.run(link.append(save(subject, b"one", 0), confirm_in=settings.stream))
    assert link.sends == 1, "confirmed by reading, not sent again"
    stored = link.run(link.last_on_subject(settings.stream, subject))
    assert stored is not None and stored.payload == b"one" and seqs == [stored.seq]


def test_a_lost_save_is_sent_once_more_and_recorded_once(
    stream: tuple[LosingLink, StreamSettings],
) -> None:
    link, settings = stream
    subject = f"{settings.events_subject}.b"
    link.lose = "message"
    seqs = link.run(link.append(save(subject, b"two", 0), confirm_in=settings.stream))
    assert link.sends == 2
    info = link.run(link.api(f"$JS.API.STREAM.INFO.{settings.stream}"))
    assert info["state"]["messages"] == 1 and seqs == [info["state"]["last_seq"]]


def test_a_lost_save_overtaken_by_another_writer_keeps_its_error(
    stream: tuple[LosingLink, StreamSettings],
) -> None:
    link, settings = stream
    subject = f"{settings.events_subject}.c"
    link.run(link.append(save(subject, b"theirs", 0)))
    link.lose = "message"
    with pytest.raises(NoAnswer, match="the message was lost"):
        link.run(link.append(save(subject, b"mine", 0), confirm_in=settings.stream))
    assert link.sends == 2, "never sent again over another writer's save"
    stored = link.run(link.last_on_subject(settings.stream, subject))
    assert stored is not None and stored.payload == b"theirs"


def test_without_confirmation_a_lost_answer_is_an_error(
    stream: tuple[LosingLink, StreamSettings],
) -> None:
    link, settings = stream
    link.lose = "answer"
    with pytest.raises(NoAnswer):
        link.run(link.append(save(f"{settings.events_subject}.d", b"four", 0)))
