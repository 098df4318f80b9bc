"""Warm query latency: retrieval alone and a full answer (`bot.ask`), p50/p95, per retrieval mode.

Why: once the model is loaded, this is what a user waits for on every question in the chat.
200 questions cycle through tests/data/seed_questions.yaml against the shipped article; the
modes hybrid, dense and lexical take turns on each question (interleaved, so machine noise hits
them alike). The index's query-vector cache is cleared before every timed call: the 62 seed
questions repeat in a 200-question run, and a real new question always pays its embedding.
"answer step" is the part of `ask` after retrieval (sentence scoring; in lexical mode it also
embeds the query); "sentence vectors" is the time `ask` spends in `PassageIndex.sentence_vectors`
(called once per retrieved passage; it read Chroma every time until the index began keeping them
in memory, when it was ~45% of `ask`), kept here as a guard against that coming back.
"""

from __future__ import annotations

import argparse
import itertools
import time

from _common import SHIPPED_CORPUS, Stopwatch, load_model, percentile, report, scratch_dir, seed_questions, table
from assistant.core import Assistant

MODES = ("hybrid", "dense", "lexical")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()

    with report("query_latency", "warm latency per question, by retrieval mode"), scratch_dir("query") as tmp:
        bot = Assistant(corpus_dir=SHIPPED_CORPUS, data_dir=tmp / "index", embeddings=load_model())
        bot.sync()
        articles, _ = bot.scope(None)

        fetch = {"seconds": 0.0}
        sentence_vectors = bot.index.sentence_vectors

        def timed_sentence_vectors(version):  # instance-level wrapper: measures, changes nothing
            started = time.perf_counter()
            try:
                return sentence_vectors(version)
            finally:
                fetch["seconds"] += time.perf_counter() - started

        bot.index.sentence_vectors = timed_sentence_vectors

        questions = seed_questions()
        for mode in MODES:  # warm-up: lexical index, Chroma, idf and sentence-vector caches
            bot.settings.retrieval = mode
            for q in questions[:5]:
                bot.ask(q)

        samples = {m: {"retrieve": [], "ask": [], "answer step": [], "fetch": [], "found": 0} for m in MODES}
        for question in itertools.islice(itertools.cycle(questions), args.questions):
            for mode in MODES:
                s = samples[mode]
                bot.settings.retrieval = mode
                bot.index._query_cache.clear()
                with Stopwatch() as t:
                    bot.retriever.retrieve(question, articles, bot.settings.top_k, mode=mode)
                s["retrieve"].append(t.seconds * 1000)
                bot.index._query_cache.clear()
                fetch["seconds"] = 0.0
                with Stopwatch() as t:
                    answer = bot.ask(question)
                s["ask"].append(t.seconds * 1000)
                s["answer step"].append(answer.timings_ms["answer"])
                s["fetch"].append(fetch["seconds"] * 1000)
                s["found"] += answer.found

        rows = [
            [mode, percentile(s["retrieve"], 50), percentile(s["retrieve"], 95), percentile(s["ask"], 50),
             percentile(s["ask"], 95), percentile(s["answer step"], 50), percentile(s["fetch"], 50),
             f"{s['found']}/{args.questions}"]
            for mode, s in samples.items()
        ]
        print(f"{args.questions} questions (cycling {len(questions)} seed questions), top_k={bot.settings.top_k}, "
              f"{sum(len(a.passages) for a in articles)} passages; times in ms\n")
        print(table(["mode", "retrieve p50", "retrieve p95", "ask p50", "ask p95", "answer step p50",
                     "sentence vectors p50", "found"], rows))
        fastest = min(rows, key=lambda r: r[3])
        print(f"\nfastest full answer (p50): {fastest[0]}")


if __name__ == "__main__":
    main()
