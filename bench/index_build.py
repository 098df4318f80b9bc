"""Index build throughput: how fast a fresh corpus of 1, 10 and 100 articles is embedded.

Why: the first `assistant index` (and every new article dropped into corpus/) pays this cost, and
the design budgets MiniLM at ~20 paragraph-sized texts/s on 2 cores. Each article stores its
passages *and* every sentence, so both rates are reported: texts (passages + sentences) per second
and passages per second, plus the share of sync time spent inside the model (the rest is
chunking, Chroma writes and the manifest).

Variant: the embedding batch size. ``assistant.index.EMBED_BATCH`` sets both the chunk handed to
Chroma and sentence-transformers' ``batch_size`` (read when the model loads), so both are patched
on the shared model. Variants run interleaved over ``--rounds`` on the same corpus; the median wins.

Articles are generated from tests/data/second_article/river-cleanup.md (each copy distinct:
rotated paragraphs, shifted numbers, other names and title). The model is loaded once, outside the
timings; one warm-up sync runs first so one-time costs (imports, tokenizer) do not land on size 1.
"""

from __future__ import annotations

import argparse
import time

from langchain_core.embeddings import Embeddings

import assistant.index
from _common import Stopwatch, load_model, median, parse_sizes, report, scratch_dir, table, write_corpus
from assistant.core import Assistant


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


def build(model, corpus, data_dir) -> dict:
    """Sync ``corpus`` into a fresh index; the numbers of one build."""
    timed = TimedEmbeddings(model)
    bot = Assistant(corpus_dir=corpus, data_dir=data_dir, embeddings=timed)
    with Stopwatch() as t:
        result = bot.sync()
    passages = sum(len(a.passages) for a in bot.index.articles.values())
    texts = result.texts_embedded
    return {"articles": len(bot.index.articles), "passages": passages, "texts": texts, "seconds": t.seconds,
            "texts/s": texts / t.seconds, "passages/s": passages / t.seconds, "model %": 100 * timed.seconds / t.seconds}


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
        build(model, write_corpus(tmp / "warmup", 1, first=900)[0].parent, tmp / "warmup-index")

        rows = []
        for size in sizes:
            r = build(model, write_corpus(tmp / f"corpus-{size}", size)[0].parent, tmp / f"index-{size}")
            rows.append([r["articles"], r["passages"], r["texts"], r["seconds"], r["texts/s"], r["passages/s"], r["model %"]])
        print(f"## Fresh index by corpus size (EMBED_BATCH={default_batch})")
        print(table(["articles", "passages", "texts (p+s)", "sync s", "texts/s", "passages/s", "in model %"], rows))

        corpus = write_corpus(tmp / "batch-corpus", args.batch_articles)[0].parent
        runs: dict[int, list[dict]] = {b: [] for b in batches}
        try:
            for round_ in range(args.rounds):
                for batch in batches:
                    assistant.index.EMBED_BATCH = batch
                    model.encode_kwargs["batch_size"] = batch
                    runs[batch].append(build(model, corpus, tmp / f"batch-{batch}-{round_}"))
        finally:
            assistant.index.EMBED_BATCH = default_batch
            model.encode_kwargs["batch_size"] = default_batch

        rows = []
        for batch, results in runs.items():
            rates = [r["texts/s"] for r in results]
            rows.append([batch, results[0]["texts"], median([r["seconds"] for r in results]), median(rates),
                         min(rates), max(rates), median([r["passages/s"] for r in results])])
        print(f"\n## EMBED_BATCH variants on {args.batch_articles} articles ({args.rounds} interleaved rounds, medians)")
        print(table(["EMBED_BATCH", "texts", "sync s", "texts/s", "min texts/s", "max texts/s", "passages/s"], rows))
        best = max(rows, key=lambda r: r[3])
        runner_up = max((r for r in rows if r is not best), key=lambda r: r[3], default=None)
        overlap = runner_up is not None and best[4] <= runner_up[5]
        print(f"\nfastest: EMBED_BATCH={best[0]} ({best[3]:.1f} texts/s)"
              + (f"; +{100 * (best[3] / runner_up[3] - 1):.0f}% over EMBED_BATCH={runner_up[0]}" if runner_up else "")
              + ("; ranges overlap, so within run-to-run noise" if overlap else ""))


if __name__ == "__main__":
    main()
