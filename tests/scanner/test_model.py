"""The optional text model: trained with numpy, stored as plain arrays, loaded without pickle."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest

from hearth_scanner.model import MAX_MODEL_BYTES, ModelError, TextModel, train
from hearth_scanner.normalise import normalise
from hearth_scanner.scanner import TextScanner
from hearth_scanner.shipped import shipped_model
from hearth_scanner.taxonomy import Participant

TEXTS = [
    ("keep this our secret", {"grooming.secrecy"}),
    ("dont tell anyone about us", {"grooming.secrecy"}),
    ("nobody needs to know", {"grooming.secrecy"}),
    ("see you at football", set()),
    ("what did you get for question 5", set()),
    ("lol same", set()),
    ("i love this song", set()),
    ("can we go to the park", set()),
]


def tiny() -> TextModel:
    texts, labels = zip(*TEXTS, strict=True)
    return train([normalise(t) for t in texts], list(labels), ("grooming.secrecy",), epochs=150)


def test_training_is_deterministic_and_learns_its_examples() -> None:
    a, b = tiny(), tiny()
    assert a.to_bytes() == b.to_bytes()
    assert a.predict("keep this secret between us")["grooming.secrecy"][0] > 0.5
    assert "grooming.secrecy" not in a.predict("see you at the park")


def test_the_model_round_trips_through_its_safe_format() -> None:
    model = tiny()
    loaded = TextModel.from_bytes(model.to_bytes())
    for text, _ in TEXTS:
        assert loaded.predict(normalise(text)).keys() == model.predict(normalise(text)).keys()


def test_anything_but_the_expected_plain_arrays_is_refused() -> None:
    with pytest.raises(ModelError):
        TextModel.from_bytes(b"not a zip")
    out = io.BytesIO()
    np.savez(out, format=np.array([{"evil": 1}], dtype=object))  # needs pickle to load
    with pytest.raises(ModelError):
        TextModel.from_bytes(out.getvalue())
    with pytest.raises(ModelError, match="larger than"):
        TextModel.from_bytes(b"\0" * (MAX_MODEL_BYTES + 1))


def test_the_shipped_model_fits_a_phone_and_scans_fast() -> None:
    path = Path(__file__).parents[2] / "libs/scanner/src/hearth_scanner/data/text-model.npz"
    assert path.stat().st_size < 50 * 1024 * 1024
    model = shipped_model()
    assert model is not None
    scanner = TextScanner(model=model)
    child, stranger = Participant("child", "under_13"), Participant("adult", "18_plus")
    times = []
    for i in range(200):
        started = time.perf_counter()
        scanner.scan(f"hey {i} ur so mature dont tell ur mum add me on snap", stranger, [child])
        times.append(time.perf_counter() - started)
    assert sorted(times)[int(0.95 * len(times))] < 0.010
