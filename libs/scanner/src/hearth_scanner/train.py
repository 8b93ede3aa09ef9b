"""Train the shipped text model from the corpus's train split: `python -m hearth_scanner.train`.

Deterministic (no randomness in training), so `make corpus` reproduces the same model from
the same corpus. The test split is never read here.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .corpus import read_corpus
from .model import train
from .normalise import normalise
from .taxonomy import INDICATORS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", type=Path, help="the train split (JSON Lines)")
    parser.add_argument("out", type=Path, help="where to write the model (.npz)")
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args()
    texts, labels = [], []
    for conversation in read_corpus(args.train):
        for message in conversation.messages:
            texts.append(normalise(message.text))
            labels.append(set(message.labels))
    started = time.perf_counter()
    model = train(texts, labels, INDICATORS, epochs=args.epochs)
    data = model.to_bytes()
    args.out.write_bytes(data)
    print(
        f"trained on {len(texts)} messages in {time.perf_counter() - started:.1f}s; "
        f"wrote {len(data)} bytes to {args.out}"
    )


if __name__ == "__main__":
    main()
