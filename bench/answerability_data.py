"""Collect the features of candidate sentences on SQuAD 2.0 questions, for fitting and for caps.

Why: the selection and answerability models (assistant/answer/answerability.py) are fitted on
these rows, and the cross-encoder candidate cap is chosen from them, without re-running the
slow part (the cross-encoder over every candidate) for each experiment.

For every question of the benchmark file it retrieves passages exactly as `Assistant.ask` does,
pre-ranks the candidate sentences, runs the cross-encoder over the first `--depth` of them and
writes one JSON line per question: article, id, impossible, and per candidate its pre-score
rank, features (assistant/answer/features.py order) and whether it holds a gold answer.

    python bench/answerability_data.py ../shared/benchmarks/squad2-dev-8.json --out bench/results/squad-features.jsonl.gz

``--own QA.yaml ARTICLE`` adds one of our hand-written question sets (tests/data), scored by its
evidence strings (the sentence that must be quoted), so the fit can be checked on news text too.
``--reuse EARLIER.jsonl.gz`` takes the cross-encoder logits from an earlier run (they depend only
on the question and the sentence), so changing the other features costs minutes, not the hour.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from assistant.answer.candidates import CandidateFinder
from assistant.answer.features import CROSS_ENCODER, FEATURES
from assistant.answer.rerank import load_reranker
from assistant.core import Assistant
from assistant.corpus import load_article
from assistant.evaluation import load_qa_file
from assistant.squad import SquadArticle, SquadQuestion, holds_answer, load_squad, write_corpus

DEFAULT_DEPTH = 16
RETRIEVE = 6
DENSE, LEXICAL = FEATURES.index("dense"), FEATURES.index("lexical")


def rough_order(candidate) -> float:
    """The candidates kept for the cross-encoder here: a fixed rough score, which the fit then replaces."""
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


def own_set(qa_file: Path, article_file: Path) -> SquadArticle:
    """One of our QA files as a SQuAD article: the evidence is the answer, follow-ups are left out."""
    article = load_article(article_file)
    _, items = load_qa_file(qa_file)
    questions = tuple(
        SquadQuestion(f"{article.id}-{i}", item.question, (item.evidence,) if item.evidence else (), item.kind == "unanswerable")
        for i, item in enumerate(items) if item.kind != "followup"
    )
    return SquadArticle(article.title, tuple(article.text.split("\n\n")), questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad_file")
    parser.add_argument("--out", default="bench/results/squad-features.jsonl.gz")
    parser.add_argument("--work-dir", default="/tmp/squad-bench", help="corpus and index of the benchmark articles")
    parser.add_argument("--depth", type=int, default=DEFAULT_DEPTH, help="candidates read by the cross-encoder")
    parser.add_argument("--retrieve", type=int, default=RETRIEVE, help="passages retrieved per question")
    parser.add_argument("--reuse", type=Path, help="take cross-encoder logits from this earlier output")
    parser.add_argument("--own", nargs=2, action="append", default=[], metavar=("QA_FILE", "ARTICLE"),
                        help="add a hand-written question set with its article")
    args = parser.parse_args()

    articles = load_squad(Path(args.squad_file)) + [own_set(Path(q), Path(a)) for q, a in args.own]
    work = Path(args.work_dir)
    write_corpus(articles, work / "corpus")
    bot = Assistant(corpus_dir=work / "corpus", data_dir=work / "index")
    bot.sync()
    finder = CandidateFinder(bot.index)
    reranker = load_reranker()
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
                known = [cached.get((q.id, c.sentence)) for c in top]
                if None in known:
                    known = reranker.scores(q.question, [c.text for c in top]) if reranker else [0.0] * len(top)
                logits = known
                rows = []
                for rank, (candidate, logit) in enumerate(zip(top, logits)):
                    features = [float(logit), *candidate.features[1:]]
                    rows.append({
                        "prerank": rank, "sentence": candidate.sentence, "features": [round(f, 5) for f in features],
                        "answer": holds_answer(candidate.text, q.answers) if not q.impossible else False,
                    })
                anywhere = any(holds_answer(c.text, q.answers) for c in candidates) if not q.impossible else False
                sink.write(json.dumps({
                    "article": article.article_id, "id": q.id, "question": q.question, "impossible": q.impossible,
                    "answer_in_candidates": anywhere, "candidates": rows,
                }) + "\n")
                done += 1
                if done % 200 == 0:
                    print(f"{done} questions, {time.perf_counter() - started:.0f} s", flush=True)
    print(f"wrote {done} questions to {out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
