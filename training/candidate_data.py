"""Collect the candidate sentences the answerer sees for SQuAD-format questions, with everything it measures.

Why: the decision stage (which candidate to quote, whether to quote at all, and the candidate cap)
is fitted on these rows by training/fit_decision.py, and the stages are compared there, without
re-running the slow parts for each experiment.

For every question it retrieves passages exactly as ``Assistant.ask`` does, orders the candidate
sentences by a fixed rough score, and for the first ``--depth`` of them writes the features
(assistant/answer/features.py order, the cross-encoder's logit included), the trained reader's logit
and answer span, and whether the sentence holds a gold answer.

    # fitting data: the nine squad2-dev-19 articles the reader never saw
    .venv/bin/python -m training.candidate_data ../shared/datasets/squad2-dev-19.json --heldout-only \
        --out training/work/candidates-dev19.jsonl.gz

``--reuse EARLIER.jsonl.gz`` takes the cross-encoder logits from an earlier run (they depend only on
the question and the sentence), so re-reading with a new reader costs minutes, not the half hour.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from assistant.answer.candidates import CandidateFinder
from assistant.answer.features import CROSS_ENCODER, FEATURES
from assistant.answer.reader import load_reader
from assistant.answer.rerank import load_reranker
from assistant.core import Assistant
from assistant.squad import holds_answer, load_squad, write_corpus
from training.build_data import TRAIN_DEV_ARTICLES

DEFAULT_DEPTH = 16
RETRIEVE = 6
DENSE, LEXICAL = FEATURES.index("dense"), FEATURES.index("lexical")


def rough_order(candidate) -> float:
    """The candidates kept for the slow models here: a fixed rough score, which the fit then replaces."""
    return -(0.6 * candidate.features[DENSE] + 0.4 * candidate.features[LEXICAL])


def earlier_logits(path: Path | None) -> dict[tuple[str, int], float]:
    """(question id, sentence number) -> cross-encoder logit, from an earlier run's file."""
    if path is None:
        return {}
    logits = {}
    with gzip.open(path, "rt", encoding="utf-8") as rows:
        for line in rows:
            row = json.loads(line)
            for candidate in row["candidates"]:
                logits[(row["id"], candidate["sentence"])] = candidate["features"][CROSS_ENCODER]
    return logits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad_file")
    parser.add_argument("--out", required=True)
    parser.add_argument("--work-dir", default="/tmp/candidate-data", help="corpus and index of the articles")
    parser.add_argument("--depth", type=int, default=DEFAULT_DEPTH, help="candidates read by the slow models")
    parser.add_argument("--retrieve", type=int, default=RETRIEVE, help="passages retrieved per question")
    parser.add_argument("--heldout-only", action="store_true",
                        help="leave out the squad2-dev-19 articles the reader was trained on")
    parser.add_argument("--reuse", type=Path, help="take cross-encoder logits from this earlier output")
    args = parser.parse_args()

    articles = load_squad(Path(args.squad_file))
    if args.heldout_only:
        articles = [a for a in articles if a.title not in TRAIN_DEV_ARTICLES]
    work = Path(args.work_dir)
    write_corpus(articles, work / "corpus")
    bot = Assistant(corpus_dir=work / "corpus", data_dir=work / "index")
    bot.sync()
    finder = CandidateFinder(bot.index)
    reranker, reader = load_reranker(), load_reader()
    cached = earlier_logits(args.reuse)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done = 0
    with gzip.open(out, "wt", encoding="utf-8") as sink:
        for article in articles:
            scope, _ = bot.scope(article.article_id)
            for q in article.questions:
                retrieved = bot.retriever.retrieve(q.question, scope, args.retrieve)
                candidates = sorted(finder.find(q.question, retrieved), key=rough_order)
                top = candidates[: args.depth]
                logits = [cached.get((q.id, c.sentence)) for c in top]
                if None in logits:
                    logits = reranker.scores(q.question, [c.text for c in top]) if reranker else [0.0] * len(top)
                readings = (reader.read(q.question, [(c.text, c.previous()) for c in top], [c.article.title for c in top])
                            if reader else [None] * len(top))
                rows = []
                for rank, (candidate, logit, reading) in enumerate(zip(top, logits, readings)):
                    rows.append({
                        "prerank": rank, "sentence": candidate.sentence,
                        "features": [round(f, 5) for f in [float(logit), *candidate.features[1:]]],
                        "reader": None if reading is None else round(reading.logit, 5),
                        "span": None if reading is None or reading.span is None else list(reading.span),
                        "answer": holds_answer(candidate.text, q.answers) if not q.impossible else False,
                    })
                anywhere = any(holds_answer(c.text, q.answers) for c in candidates) if not q.impossible else False
                sink.write(json.dumps({
                    "article": article.article_id, "id": q.id, "question": q.question, "impossible": q.impossible,
                    "answers": list(q.answers), "answer_in_candidates": anywhere, "candidates": rows,
                }) + "\n")
                done += 1
                if done % 200 == 0:
                    print(f"{done} questions, {time.perf_counter() - started:.0f} s", flush=True)
    print(f"wrote {done} questions to {out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
