"""The demo's audit chapter: a regulator verifies the exported bundle; a tampered copy fails."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from hearth_demo.demo import DemoContext
from hearth_demo.demo_audit import chapter
from hearth_runtime.platform import Platform


def test_the_chapter_ends_with_verification_and_a_failed_tampered_copy(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    chapter(DemoContext(platform, InMemorySpanExporter()))
    out = capsys.readouterr().out
    assert "before approval: FAILED_PRECONDITION" in out
    assert "OK: evidence bundle for ps-" in out
    assert "FAILED: inclusion" in out and "(exit 1)" in out
