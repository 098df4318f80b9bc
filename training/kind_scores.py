"""How the installed reader scores the training pairs of each kind: which kinds it already gets right.

Why: a run draws a fixed share per kind, so a kind the reader already rejects every time takes training
examples that teach it nothing. Scored on a seeded sample per kind of the pairs in ``train.jsonl.gz``
(in-sample for the kinds a run drew from: it shows what was learnt, not what carries over).

    .venv/bin/python -m training.kind_scores [--data training/work/data] [--per-kind 300]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from collections import defaultdict
from pathlib import Path

import numpy as np

from assistant.answer.reader import load_reader

BATCH = 32


def logits(reader, rows: list[dict]) -> np.ndarray:
    """The reader's answer logit for each row's (question, text), as the trainer encodes them."""
    batches = [reader.run([(r["question"], r["text"]) for r in rows[i : i + BATCH]])[1][0].reshape(-1)
               for i in range(0, len(rows), BATCH)]
    return np.concatenate(batches) if batches else np.array([])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).with_name("work") / "data")
    parser.add_argument("--per-kind", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    reader = load_reader()
    if reader is None:
        raise SystemExit("no installed reader (assistant/answer/trained_reader)")
    by_kind: dict[str, list[dict]] = defaultdict(list)
    with gzip.open(args.data / "train.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            by_kind[row["kind"]].append(row)
    rng = random.Random(args.seed)
    print(f"| kind | pairs | label | right at logit 0 | mean logit |\n|---|---:|---:|---:|---:|")
    for kind, rows in sorted(by_kind.items()):
        sample = rng.sample(rows, min(args.per_kind, len(rows)))
        scores = logits(reader, sample)
        labels = np.array([r["label"] for r in sample])
        right = np.mean((scores > 0) == (labels == 1))
        print(f"| {kind} | {len(rows):,} | {labels.mean():.0f} | {right:.3f} | {scores.mean():+.2f} |")


if __name__ == "__main__":
    main()
