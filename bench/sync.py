"""Incremental sync on a 100-article corpus: what a re-scan costs when little or nothing changed.

Why: every command (`assistant ask`, the web chat's "Re-scan corpus") syncs first, so an
unchanged corpus must cost next to nothing and one edited article must re-embed only itself.
Rows, side by side on one index:
  * unchanged corpus, same Assistant (hash check of every file) — texts embedded should be 0;
  * one article edited — only that article's passages and sentences re-embedded;
  * one article removed / one added;
  * a fresh Assistant on the unchanged corpus (what each CLI run does: read the manifest, hash the
    files). It gets no model, so "model loaded" shows whether this path ever touches the embedder.
Each row is repeated (``--repeats``) and reported as the median; the initial build is shown once.
"""

from __future__ import annotations

import argparse

from _common import Stopwatch, load_model, make_article, median, report, scratch_dir, table, write_corpus
from assistant.core import Assistant


def timed_sync(bot: Assistant) -> tuple[float, int]:
    """Milliseconds and texts embedded of one sync."""
    with Stopwatch() as t:
        result = bot.sync()
    return t.seconds * 1000, result.texts_embedded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with report("sync", f"incremental sync on a {args.articles}-article corpus"), scratch_dir("sync") as tmp:
        corpus, data = tmp / "corpus", tmp / "index"
        paths = write_corpus(corpus, args.articles)
        bot = Assistant(corpus_dir=corpus, data_dir=data, embeddings=load_model())
        build_ms, build_texts = timed_sync(bot)
        per_article = build_texts / args.articles
        rows = [["initial build (not incremental)", 1, build_ms, build_texts, "all"]]

        def measure(label: str, change=None, expected: str = "0") -> None:
            times, texts = [], []
            for i in range(args.repeats):
                if change:
                    change(i)
                ms, embedded = timed_sync(bot)
                times.append(ms)
                texts.append(embedded)
            rows.append([label, args.repeats, median(times), round(median(texts)), expected])

        def edit(i: int) -> None:
            path = paths[i * 7 % len(paths)]
            correction = f"\nCorrection {i}: an earlier version misstated a date.\n"
            path.write_text(path.read_text(encoding="utf-8") + correction, encoding="utf-8")

        removed: list = []

        def remove(i: int) -> None:
            removed.append((paths[-1 - i], paths[-1 - i].read_text(encoding="utf-8")))
            paths[-1 - i].unlink()

        def add(i: int) -> None:
            name, text = make_article(1000 + i)
            (corpus / name).write_text(text, encoding="utf-8")

        measure("unchanged corpus, same Assistant")
        measure("one article edited", edit, f"~{per_article:.0f} (one article)")
        measure("one article removed", remove)
        measure("one article added", add, f"~{per_article:.0f} (one article)")
        for path, text in removed:  # back to a corpus the index already holds, then re-sync it once
            path.write_text(text, encoding="utf-8")
        bot.sync()

        times, texts, loaded = [], [], []
        for _ in range(args.repeats):
            with Stopwatch() as t:
                fresh = Assistant(corpus_dir=corpus, data_dir=data)
                result = fresh.sync()
            times.append(t.seconds * 1000)
            texts.append(result.texts_embedded)
            loaded.append(fresh.index.embeddings.loaded)
        rows.append(["fresh Assistant, unchanged corpus (manifest read + sync)", args.repeats, median(times),
                     round(median(texts)), "0"])

        print(f"{len(bot.index.articles)} articles indexed, ~{per_article:.0f} texts (passages + sentences) each\n")
        print(table(["sync", "runs", "median ms", "texts embedded", "expected"], rows))
        print(f"\nfresh Assistant loaded the embedding model during sync: {'yes' if any(loaded) else 'no'}")


if __name__ == "__main__":
    main()
