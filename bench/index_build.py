"""Index build throughput: how fast a fresh corpus of 1, 10 and 100 articles is embedded.

Why: the first `assistant index` (and every new article dropped into corpus/) pays this cost, and
the design budgets MiniLM at ~20 paragraph-sized texts/s on 2 cores. Each article stores its
passages *and* every sentence, so both rates are reported: texts (passages + sentences) per second
and passages per second, plus the share of sync time spent inside the model (the rest is
chunking, Chroma writes and the manifest).

Variant: the embedding batch size. ``assistant.index.EMBED_BATCH`` sets both the chunk handed to
Chroma and sentence-transformers' ``batch_size`` (read when the model loads), so both are patched
on the shared model. Variants run interleaved over ``--rounds`` on the same corpus; the median wins.

What-if (model only, no Chroma): the index embeds each article as one list, passages (~128
tokens) then sentences (~30), cut into EMBED_BATCH chunks, so a chunk mixing both pads every short
sentence to passage length. The same texts embedded with passages and sentences in separate
calls show what that padding costs.

Articles are generated from tests/data/second_article/river-cleanup.md (each copy distinct:
rotated paragraphs, shifted numbers, other names and title). The model is loaded once, outside the
timings; one warm-up sync runs first so one-time costs (imports, tokenizer) do not land on size 1.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from langchain_core.embeddings import Embeddings

import assistant.index
from _common import Stopwatch, load_model, median, parse_sizes, report, scratch_dir, table, write_corpus
from assistant.chunking import chunk_article, sentence_spans, token_counter
from assistant.config import Settings, bundled_model_path
from assistant.core import Assistant
from assistant.corpus import corpus_files, load_article


class TimedEmbeddings(Embeddings):
    """Passes through to the model and adds up the seconds spent in it."""

    def __init__(self, inner):
        self.inner = inner
        self.seconds = 0.0

    def embed_documents(self, texts):
        started = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - started

    def embed_query(self, text):
        return self.inner.embed_query(text)


def build(model, corpus: Path, data_dir: Path) -> dict:
    """Sync ``corpus`` into a fresh index; the numbers of one build."""
    timed = TimedEmbeddings(model)
    bot = Assistant(corpus_dir=corpus, data_dir=data_dir, embeddings=timed)
    with Stopwatch() as t:
        result = bot.sync()
    passages = sum(len(a.passages) for a in bot.index.articles.values())
    texts = result.texts_embedded
    return {"articles": len(bot.index.articles), "passages": passages, "texts": texts, "seconds": t.seconds,
            "texts/s": texts / t.seconds, "passages/s": passages / t.seconds,
            "model %": 100 * timed.seconds / t.seconds}


def set_batch(model, batch: int) -> None:
    """What changing ``EMBED_BATCH`` in assistant/index.py does, on an already-loaded model."""
    assistant.index.EMBED_BATCH = batch
    model.encode_kwargs["batch_size"] = batch


def spread(label, rates: list[float]) -> list:
    return [label, median(rates), min(rates), max(rates)]


def verdict(rows: list[list], prefix: str = "") -> str:
    """The fastest row (median in column 1), and whether its min..max range clears each other row's."""
    best = max(rows, key=lambda r: r[1])
    others = [f"+{100 * (best[1] / r[1] - 1):.0f}% over {prefix}{r[0]} "
              f"({'ranges overlap: within noise' if best[2] <= r[3] else 'ranges apart'})"
              for r in rows if r is not best]
    return f"fastest: {prefix}{best[0]} ({best[1]:.1f} texts/s); " + "; ".join(others)


def batch_variants(model, corpus: Path, tmp: Path, batches: list[int], rounds: int) -> list[list]:
    runs: dict[int, list[float]] = {b: [] for b in batches}
    for round_ in range(rounds):
        for batch in batches:
            set_batch(model, batch)
            runs[batch].append(build(model, corpus, tmp / f"batch-{batch}-{round_}")["texts/s"])
    return [spread(batch, rates) for batch, rates in runs.items()]


def grouping_whatif(model, corpus: Path, batches: list[int], rounds: int) -> list[list]:
    """Model-only texts/s: each article's texts chunked as the index does, or passages and sentences apart."""
    count_tokens, size = token_counter(bundled_model_path()), Settings().passage_tokens
    articles = []
    for path in corpus_files(corpus):
        article = load_article(path)
        passages = [p.text for p in chunk_article(article.id, article.text, size, count_tokens)]
        articles.append((passages, [article.text[s.start : s.end] for s in sentence_spans(article.text)]))
    total = sum(len(p) + len(s) for p, s in articles)
    runs: dict[tuple[int, str], list[float]] = {}
    for _ in range(rounds):
        for batch in batches:
            set_batch(model, batch)
            for grouping in ("mixed, as the index does", "passages and sentences apart"):
                with Stopwatch() as t:
                    for passages, sentences in articles:
                        groups = [passages + sentences] if grouping.startswith("mixed") else [passages, sentences]
                        for texts in groups:
                            for begin in range(0, len(texts), batch):
                                model.embed_documents(texts[begin : begin + batch])
                runs.setdefault((batch, grouping), []).append(total / t.seconds)
    return [spread(f"{batch}, {grouping}", rates) for (batch, grouping), rates in runs.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,100", help="corpus sizes in articles (default 1,10,100)")
    parser.add_argument("--batches", default="8,16,32,64", help="EMBED_BATCH variants (default 8,16,32,64)")
    parser.add_argument("--batch-articles", type=int, default=10, help="corpus size for the batch variants")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the batch variants")
    args = parser.parse_args()
    sizes, batches = parse_sizes(args.sizes), parse_sizes(args.batches)

    with report("index_build", "embedding throughput of a fresh index"), scratch_dir("index") as tmp:
        with Stopwatch() as t:
            model = load_model()
        default_batch = assistant.index.EMBED_BATCH
        print(f"model load {t.seconds:.1f} s (excluded below); EMBED_BATCH in the code = {default_batch}\n")
        write_corpus(tmp / "warmup", 1, first=900)
        build(model, tmp / "warmup", tmp / "warmup-index")

        rows, columns = [], ("articles", "passages", "texts", "seconds", "texts/s", "passages/s", "model %")
        for size in sizes:
            write_corpus(tmp / f"corpus-{size}", size)
            r = build(model, tmp / f"corpus-{size}", tmp / f"index-{size}")
            rows.append([r[column] for column in columns])
        print(f"## Fresh index by corpus size (EMBED_BATCH={default_batch})")
        print(table(["articles", "passages", "texts (p+s)", "sync s", "texts/s", "passages/s", "in model %"], rows))

        corpus = tmp / "batch-corpus"
        write_corpus(corpus, args.batch_articles)
        try:
            rows = batch_variants(model, corpus, tmp, batches, args.rounds)
            print(f"\n## EMBED_BATCH variants: full sync of {args.batch_articles} articles, "
                  f"{args.rounds} interleaved rounds")
            print(table(["EMBED_BATCH", "median texts/s", "min texts/s", "max texts/s"], rows))
            print(verdict(rows, "EMBED_BATCH="))

            rows = grouping_whatif(model, corpus, batches, args.rounds)
            print(f"\n## What-if, model only: the same {args.batch_articles} articles' texts, "
                  f"{args.rounds} interleaved rounds")
            print(table(["batch, grouping", "median texts/s", "min texts/s", "max texts/s"], rows))
            print(verdict(rows, "batch "))
        finally:
            set_batch(model, default_batch)


if __name__ == "__main__":
    main()
