"""Scale: how build, re-sync and question costs grow from 1 to 1,000 articles, local store vs Chroma server.

Why: the README says when to move the index to Chroma's server; this is the measurement behind it.
The corpus grows in steps (default 1, 100, 1,000 short generated articles, tests/generated_articles.py);
each step syncs only the new articles into the same index, then measures, for the local store
(``<data_dir>/store-*``) and for a real ``chroma run`` server (ASSISTANT_CHROMA_URL):
  * build rate of the step (articles/s and texts/s embedded and written);
  * an unchanged re-sync, in the same Assistant and in a fresh one (what every CLI command pays);
  * question latency p50/p95 asked about one article and over all articles;
  * BM25 builds during the "all" questions: retrieval must build it once per set of article versions,
    never once per question;
  * RSS of this process and of the Chroma server.
The full run embeds ~10,000 texts per store; ``--sizes 1,100,300`` is a shorter run.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

from _common import PROJECT, Stopwatch, load_model, median, parse_sizes, percentile, proc_status, report, scratch_dir, table

sys.path.insert(0, str(PROJECT / "tests"))
from chroma_server import start_chroma, stop  # noqa: E402
from generated_articles import generated_article, write_generated_corpus  # noqa: E402

import assistant.retrieval  # noqa: E402
from assistant.core import Assistant  # noqa: E402


class BM25Builds:
    """Counts how many BM25 indexes retrieval builds (wraps the class once for the whole run)."""

    count = 0

    @classmethod
    def install(cls) -> None:
        original = assistant.retrieval._LexicalIndex.__init__

        def counting(self, *args, **kwargs):
            cls.count += 1
            original(self, *args, **kwargs)

        assistant.retrieval._LexicalIndex.__init__ = counting


def question_latencies(bot: Assistant, size: int, questions: int, scope_all: bool) -> list[float]:
    """Milliseconds per question about random towns (different towns per scope: neither finds the other's
    per-article caches warm)."""
    rng = random.Random(size * 2 + scope_all)
    latencies = []
    for n in (rng.randrange(size) for _ in range(questions)):
        town = generated_article(n)
        with Stopwatch() as t:
            bot.ask(f"Who is the mayor of {town.town}?", article=None if scope_all else town.id)
        latencies.append(t.seconds * 1000)
    return latencies


def measure_store(name: str, sizes: list[int], questions: int, model, root: Path, chroma_url: str = "",
                  server_pid: int | None = None) -> list[list]:
    corpus, data = root / "corpus", root / "index"
    bot = Assistant(corpus_dir=corpus, data_dir=data, embeddings=model, chroma_url=chroma_url, answer_cache=0)
    rows = []
    for size in sizes:
        write_generated_corpus(corpus, size)
        with Stopwatch() as build:
            step = bot.sync()
        added = len(step.added)
        with Stopwatch() as same:
            assert bot.sync().texts_embedded == 0
        fresh_ms = []
        for _ in range(3):
            with Stopwatch() as fresh:
                assert Assistant(corpus_dir=corpus, data_dir=data, embeddings=model, chroma_url=chroma_url).sync().texts_embedded == 0
            fresh_ms.append(fresh.seconds * 1000)
        one = question_latencies(bot, size, questions, scope_all=False)
        builds_before = BM25Builds.count
        every = question_latencies(bot, size, questions, scope_all=True)
        rows.append([
            name, size, added / build.seconds if added else None, step.texts_embedded / build.seconds if added else None,
            same.seconds * 1000, median(fresh_ms), median(one), percentile(one, 95), median(every), percentile(every, 95),
            f"{BM25Builds.count - builds_before} in {questions}", proc_status(os.getpid(), "VmRSS"),
            proc_status(server_pid, "VmRSS") if server_pid else None,
        ])
        print(f"  {name}: {size} articles done", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,100,1000", help="corpus sizes, comma-separated (grown in this order)")
    parser.add_argument("--questions", type=int, default=30, help="questions per scope and size")
    parser.add_argument("--stores", default="local,server", help="local, server or both")
    args = parser.parse_args()
    sizes, stores = parse_sizes(args.sizes), args.stores.split(",")

    BM25Builds.install()
    with report("scale", f"build, re-sync and questions at {args.sizes} articles"), scratch_dir("scale") as tmp:
        model = load_model()
        # torch's first batches of each shape are slow: warm it up so the first store measured is not charged.
        model.embed_documents([generated_article(n).text for n in range(40)] + [generated_article(0).mayor_sentence] * 16)
        rows = []
        if "local" in stores:
            rows += measure_store("local", sizes, args.questions, model, tmp / "local")
        if "server" in stores:
            server, url = start_chroma(tmp / "server-data")
            try:
                rows += measure_store("server", sizes, args.questions, model, tmp / "server", url, server.pid)
            finally:
                stop(server)
        headers = ["store", "articles", "build art/s", "build texts/s", "re-sync ms", "fresh re-sync ms",
                   "one p50 ms", "one p95 ms", "all p50 ms", "all p95 ms", "BM25 builds", "RSS MiB", "server RSS MiB"]
        print(table(headers, rows))


if __name__ == "__main__":
    main()
