"""Warm query latency and CPU of a full answer (`bot.ask`), p50/p95: the trained reader against the stages before it.

Why: once the model is loaded, this is what a user waits for on every question in the chat, and
the model that reads the candidates (the trained reader, or the cross-encoder before it) is the
slowest stage of an answer. 200 questions cycle through tests/data/seed_questions.yaml against the
shipped article; the variants take turns on each question (interleaved, so machine noise hits them alike):

* reader cap N: the trained reader reads the first N candidate sentences (the shipped default is 4);
* cross-encoder cap 8: the answerer before the reader (what runs when the reader's files are missing);
* bi-encoder only: neither model (what runs when no model file can be used).

"cpu" is the process CPU time per answer (all threads): what one new answer costs a server's cores.

The index's query-vector cache is cleared before every timed call and the answer cache is off: the
seed questions repeat in a 200-question run, and a real new question always pays the whole answer. "retrieve" and "answer"
are the two parts of `ask` (answer = candidates, cross-encoder, models, quoting).

``--compare-reader DIR`` times another reader beside the shipped one (at its fitted cap), with its own fitted decision:
DIR holds its reader.onnx, reader.json and answerability.json, e.g. the previous release's, from git:

    mkdir -p /tmp/old && for f in trained_reader/reader.onnx trained_reader/reader.json answerability.json; do
        git show REV:assistant/answer/$f > /tmp/old/$(basename $f); done
    .venv/bin/python bench/query_latency.py --compare-reader /tmp/old
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

from _common import SHIPPED_CORPUS, Stopwatch, load_model, percentile, report, scratch_dir, seed_questions, table
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.core import Assistant

# (label, reader, cross-encoder, cap)
VARIANTS = (("reader cap 4 (default)", True, True, 4), ("reader cap 8", True, True, 8), ("reader cap 12", True, True, 12),
            ("cross-encoder cap 8 (before)", False, True, 8), ("bi-encoder only", False, False, 8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--compare-reader", type=Path, help="a folder with another reader and its decision (see above)")
    args = parser.parse_args()

    with report("query_latency", "warm latency per question, reader against cross-encoder"), scratch_dir("query") as tmp:
        bot = Assistant(corpus_dir=SHIPPED_CORPUS, data_dir=tmp / "index", embeddings=load_model(), answer_cache=0)
        bot.sync()
        answerers = {label: ExtractiveAnswerer(bot.index, reader=reader, rerank=rerank, rerank_cap=cap)
                     for label, reader, rerank, cap in VARIANTS}
        if args.compare_reader:  # read at the cap its decision was fitted for
            fitted = json.loads((args.compare_reader / "answerability.json").read_text(encoding="utf-8"))
            cap = int(fitted["variants"]["reader"]["cap"])
            answerers[f"reader of {args.compare_reader} cap {cap}"] = ExtractiveAnswerer(
                bot.index, reader_folder=args.compare_reader, rerank_cap=cap)
        questions = seed_questions()
        for answerer in answerers.values():  # warm-up: lexical index, Chroma, idf, sentence vectors, ONNX session
            bot.answerer = answerer
            for q in questions[:5]:
                bot.ask(q)

        samples = {label: {"ask": [], "retrieve": [], "answer": [], "cpu": [], "found": 0} for label in answerers}
        for question in itertools.islice(itertools.cycle(questions), args.questions):
            for label, answerer in answerers.items():
                bot.answerer = answerer
                bot.index._query_cache.clear()
                cpu = time.process_time()
                with Stopwatch() as t:
                    answer = bot.ask(question)
                s = samples[label]
                s["cpu"].append((time.process_time() - cpu) * 1000)
                s["ask"].append(t.seconds * 1000)
                s["retrieve"].append(answer.timings_ms["retrieve"])
                s["answer"].append(answer.timings_ms["answer"])
                s["found"] += answer.found

        rows = [
            [label, percentile(s["ask"], 50), percentile(s["ask"], 95), percentile(s["retrieve"], 50),
             percentile(s["answer"], 50), percentile(s["answer"], 95), sum(s["cpu"]) / len(s["cpu"]),
             f"{s['found']}/{args.questions}"]
            for label, s in samples.items()
        ]
        print(f"{args.questions} questions (cycling {len(questions)} seed questions), top_k={bot.settings.top_k}; "
              "times in ms\n")
        print(table(["variant", "ask p50", "ask p95", "retrieve p50", "answer p50", "answer p95", "cpu mean", "found"], rows))


if __name__ == "__main__":
    main()
