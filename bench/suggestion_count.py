"""How many checked suggestion chips articles of ordinary length get, and which drafts they come from.

Why: the page promises 3 to 5 questions the article answers for any article over 300 words (issue 17),
and every draft is kept only if the real answerer finds its answer, so a stricter answerer can leave a
short article with one chip. Articles: the shipped one, the two hand-written test articles, and the
opening paragraphs (300 to 700 words) of each squad2-dev-19 article (training data, never the
benchmark), each indexed as its own article.

    .venv/bin/python bench/suggestion_count.py [--articles 19]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import PROJECT, SHIPPED_CORPUS, load_model, report, scratch_dir, table

from assistant.answer.suggestions import draft_questions
from assistant.core import Assistant

DEV19 = PROJECT.parent / "shared" / "datasets" / "squad2-dev-19.json"
HAND_WRITTEN = [PROJECT / "tests" / "data" / "second_article" / "river-cleanup.md",
                PROJECT / "tests" / "data" / "encyclopaedic_article" / "lake-varnholm.txt",
                PROJECT / "tests" / "data" / "bylined_article" / "harbour-library.txt"]
MIN_WORDS, MAX_WORDS = 300, 700


def opening(article: dict) -> str:
    """The title and the first paragraphs, until MIN_WORDS (never past MAX_WORDS)."""
    kept, words = [], 0
    for paragraph in (p["context"] for p in article["paragraphs"]):
        if words >= MIN_WORDS or words + len(paragraph.split()) > MAX_WORDS:
            break
        kept.append(paragraph)
        words += len(paragraph.split())
    return "\n\n".join([article["title"].replace("_", " "), *kept]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=19, help="dev articles to open (of 19)")
    args = parser.parse_args()
    with report("suggestion_count", "checked suggestions per article"), scratch_dir("chips") as scratch:
        corpus = scratch / "corpus"
        corpus.mkdir()
        for path in [*SHIPPED_CORPUS.glob("*.txt"), *HAND_WRITTEN]:
            (corpus / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        for n, article in enumerate(json.loads(DEV19.read_text(encoding="utf-8"))["data"][: args.articles]):
            (corpus / f"dev-{n:02d}.txt").write_text(opening(article), encoding="utf-8")
        bot = Assistant(corpus_dir=corpus, data_dir=scratch / "data", embeddings=load_model())
        bot.sync()
        rows, counts = [], []
        for info in bot.articles():
            article = bot.index.articles[info.id]
            words = len(article.text.split())
            chips = bot.suggestions(info.id)
            counts.append((words, len(chips)))
            rows.append([info.id[:40], words, len(draft_questions(article)), len(chips), " | ".join(chips[:3])[:110]])
        print(table(["article", "words", "drafts", "checked", "first three"], rows))
        long_enough = [chips for words, chips in counts if words > MIN_WORDS]
        print(f"\narticles over {MIN_WORDS} words: {len(long_enough)}; with at least 3 checked suggestions: "
              f"{sum(c >= 3 for c in long_enough)}; mean {sum(long_enough) / max(1, len(long_enough)):.1f}")


if __name__ == "__main__":
    main()
