"""A small text model: logistic regression per indicator over hashed word and character n-grams.

Trained with numpy alone from the project's corpus (:mod:`hearth_scanner.train`), so it runs
with no network and no PyTorch. It is stored as plain arrays in an `.npz` loaded with
`allow_pickle=False` (a pack cannot run code on the child's phone), only the weights of
features seen in training (a few MB at most). Features are hashed with CRC-32, which is
stable across processes, unlike Python's `hash`.
"""

from __future__ import annotations

import io
import itertools
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

DIMENSIONS = 1 << 18
CHAR_NGRAMS = (3, 4, 5)
MAX_MODEL_BYTES = 50 * 1024 * 1024
FORMAT = "hearth-text-model-v1"


class ModelError(ValueError):
    """Model bytes that cannot be used: wrong format, shape or size."""


def features(plain: str) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Hashed feature indices of normalised text, and the n-grams behind them."""
    words = plain.split()
    grams = [f"w:{w}" for w in words]
    grams += [f"b:{a} {b}" for a, b in itertools.pairwise(words)]
    for word in words:
        padded = f" {word} "
        for n in CHAR_NGRAMS:
            grams += [f"c:{padded[i : i + n]}" for i in range(len(padded) - n + 1)]
    if not grams:
        return np.zeros(0, dtype=np.int64), []
    hashed = np.fromiter((zlib.crc32(g.encode()) % DIMENSIONS for g in grams), dtype=np.int64)
    return hashed, grams


@dataclass
class TextModel:
    """Weights per indicator; `threshold` and `weight` say how its evidence joins the rules'."""

    indicators: tuple[str, ...]
    weights: npt.NDArray[np.float32]  # DIMENSIONS x len(indicators)
    bias: npt.NDArray[np.float32]
    threshold: float = 0.5
    weight: float = 0.8

    def probabilities(
        self, plain: str
    ) -> tuple[npt.NDArray[np.float64], list[str], npt.NDArray[np.int64]]:
        index, grams = features(plain)
        if index.size == 0:
            return 1 / (1 + np.exp(-self.bias.astype(np.float64))), grams, index
        unique, first = np.unique(index, return_index=True)
        scale = 1.0 / np.sqrt(unique.size)
        logits = self.weights[unique].sum(axis=0) * scale + self.bias
        return 1 / (1 + np.exp(-logits.astype(np.float64))), [grams[i] for i in first], unique

    def predict(self, plain: str) -> dict[str, tuple[float, list[str]]]:
        """Probability per indicator, with the n-grams that pushed it up most."""
        probs, grams, unique = self.probabilities(plain)
        out: dict[str, tuple[float, list[str]]] = {}
        for k, indicator in enumerate(self.indicators):
            p = float(probs[k])
            if p < self.threshold:
                continue
            top = np.argsort(-self.weights[unique, k])[:3]
            out[indicator] = (p, [grams[int(i)].split(":", 1)[1].strip() for i in top])
        return out

    def to_bytes(self) -> bytes:
        used = np.flatnonzero(np.any(self.weights != 0, axis=1)).astype(np.int32)
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            format=np.array(FORMAT),
            indicators=np.array(self.indicators),
            dimensions=np.array(DIMENSIONS, dtype=np.int64),
            rows=used,
            weights=self.weights[used].astype(np.float16),
            bias=self.bias.astype(np.float32),
            settings=np.array([self.threshold, self.weight], dtype=np.float32),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TextModel:
        """Load model bytes, refusing anything but the expected plain arrays."""
        if len(data) > MAX_MODEL_BYTES:
            raise ModelError(f"model larger than {MAX_MODEL_BYTES} bytes")
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                if str(arrays["format"]) != FORMAT or int(arrays["dimensions"]) != DIMENSIONS:
                    raise ModelError("not a hearth text model of this version")
                indicators = tuple(str(i) for i in arrays["indicators"])
                rows, packed = arrays["rows"], arrays["weights"]
                bias, settings = arrays["bias"], arrays["settings"]
        except (ValueError, KeyError, OSError, zlib.error) as e:
            raise ModelError(f"model does not load: {e}") from None
        k = len(indicators)
        if packed.shape != (rows.size, k) or bias.shape != (k,) or settings.shape != (2,):
            raise ModelError("model arrays have the wrong shapes")
        if rows.size and (rows.min() < 0 or rows.max() >= DIMENSIONS):
            raise ModelError("model rows out of range")
        weights = np.zeros((DIMENSIONS, k), dtype=np.float32)
        weights[rows] = packed.astype(np.float32)
        return cls(
            indicators, weights, bias.astype(np.float32), float(settings[0]), float(settings[1])
        )


def train(
    texts: list[str],
    labels: list[set[str]],
    indicators: tuple[str, ...],
    *,
    epochs: int = 200,
    learning_rate: float = 0.05,
    l2: float = 1e-5,
) -> TextModel:
    """One-vs-rest logistic regression, full-batch Adam on sparse features; deterministic
    (zero start, fixed order), so the same corpus gives the same weights."""
    rows_list, cols_list = [], []
    for r, text in enumerate(texts):
        unique = np.unique(features(text)[0])
        rows_list.append(np.full(unique.size, r, dtype=np.int64))
        cols_list.append(unique)
    rows, cols = np.concatenate(rows_list), np.concatenate(cols_list)
    counts = np.bincount(rows, minlength=len(texts)).astype(np.float64)
    values = (1.0 / np.sqrt(np.maximum(counts, 1)))[rows]
    used, local = np.unique(cols, return_inverse=True)  # train only the features seen
    y = np.array([[ind in ls for ind in indicators] for ls in labels], dtype=np.float64)
    n, k, m = len(texts), len(indicators), used.size
    positive = y.mean(axis=0)
    # Positives are rare: weigh them up so the loss does not settle on "never".
    balance = np.where(
        y > 0, 0.5 / np.maximum(positive, 1e-3), 0.5 / np.maximum(1 - positive, 1e-3)
    )
    w, b = np.zeros((m, k)), np.zeros(k)
    mw, vw, mb, vb = np.zeros((m, k)), np.zeros((m, k)), np.zeros(k), np.zeros(k)
    for step in range(1, epochs + 1):
        logits = (
            np.stack(
                [np.bincount(rows, weights=w[local, j] * values, minlength=n) for j in range(k)],
                axis=1,
            )
            + b
        )
        error = (1 / (1 + np.exp(-logits)) - y) * balance / n
        gw = (
            np.stack(
                [
                    np.bincount(local, weights=error[rows, j] * values, minlength=m)
                    for j in range(k)
                ],
                axis=1,
            )
            + l2 * w
        )
        gb = error.sum(axis=0)
        for param, grad, mom, var in ((w, gw, mw, vw), (b, gb, mb, vb)):
            mom *= 0.9
            mom += 0.1 * grad
            var *= 0.999
            var += 0.001 * grad * grad
            param -= (
                learning_rate * (mom / (1 - 0.9**step)) / (np.sqrt(var / (1 - 0.999**step)) + 1e-8)
            )
    weights = np.zeros((DIMENSIONS, k), dtype=np.float32)
    weights[used] = w.astype(np.float32)
    return TextModel(indicators, weights, b.astype(np.float32))
