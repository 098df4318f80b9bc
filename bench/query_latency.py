"""Warm query latency of a full answer (`bot.ask`), p50/p95, with the cross-encoder on and off.

Why: once the model is loaded, this is what a user waits for on every question in the chat, and
the cross-encoder reranker is the slowest stage of an answer. 200 questions cycle through
tests/data/seed_questions.yaml against the shipped article; the variants take turns on each
question (interleaved, so machine noise hits them alike):

* rerank cap N: the cross-encoder reads the first N candidate sentences (the shipped default is 8);
* no rerank: bi-encoder scores only (what runs when the cross-encoder's wheel is absent).

The index's query-vector cache is cleared before every timed call and the answer cache is off: the
seed questions repeat in a 200-question run, and a real new question always pays the whole answer. "retrieve" and "answer"
are the two parts of `ask` (answer = candidates, cross-encoder, models, quoting).
"""

from __future__ import annotations

import argparse
import itertools

from _common import SHIPPED_CORPUS, Stopwatch, load_model, percentile, report, scratch_dir, seed_questions, table
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.core import Assistant

VARIANTS = (("rerank cap 8 (default)", True, 8), ("rerank cap 4", True, 4), ("rerank cap 12", True, 12),
            ("no rerank", False, 8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()

    with report("query_latency", "warm latency per question, cross-encoder on and off"), scratch_dir("query") as tmp:
        bot = Assistant(corpus_dir=SHIPPED_CORPUS, data_dir=tmp / "index", embeddings=load_model(), answer_cache=0)
        bot.sync()
        answerers = {label: ExtractiveAnswerer(bot.index, rerank=on, rerank_cap=cap) for label, on, cap in VARIANTS}
        questions = seed_questions()
        for answerer in answerers.values():  # warm-up: lexical index, Chroma, idf, sentence vectors, ONNX session
            bot.answerer = answerer
            for q in questions[:5]:
                bot.ask(q)

        samples = {label: {"ask": [], "retrieve": [], "answer": [], "found": 0} for label in answerers}
        for question in itertools.islice(itertools.cycle(questions), args.questions):
            for label, answerer in answerers.items():
                bot.answerer = answerer
                bot.index._query_cache.clear()
                with Stopwatch() as t:
                    answer = bot.ask(question)
                s = samples[label]
                s["ask"].append(t.seconds * 1000)
                s["retrieve"].append(answer.timings_ms["retrieve"])
                s["answer"].append(answer.timings_ms["answer"])
                s["found"] += answer.found

        rows = [
            [label, percentile(s["ask"], 50), percentile(s["ask"], 95), percentile(s["retrieve"], 50),
             percentile(s["answer"], 50), percentile(s["answer"], 95), f"{s['found']}/{args.questions}"]
            for label, s in samples.items()
        ]
        print(f"{args.questions} questions (cycling {len(questions)} seed questions), top_k={bot.settings.top_k}; "
              "times in ms\n")
        print(table(["variant", "ask p50", "ask p95", "retrieve p50", "answer p50", "answer p95", "found"], rows))


if __name__ == "__main__":
    main()
