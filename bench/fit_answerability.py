"""Fit the selection and answerability models, cross-validated by held-out article.

Why: which sentence to quote and whether to quote at all are decided by two logistic models
(assistant/answer/answerability.py). This script fits them on the rows written by
bench/answerability_data.py and reports, for every article, what the fitted pipeline scores on
that article when it was left out of the fit (leave-one-article-out), so the numbers say how
it carries over to text it has not seen. It then fits on all articles and writes the
coefficients, levels and the cross-validated table to assistant/answer/answerability.json.

    python bench/fit_answerability.py bench/results/squad-features.jsonl.gz [--write]
"""

from __future__ import annotations

import argparse
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from assistant.answer.answerability import ANSWERABILITY_EXTRA, MODEL_FILE, answerability_features, shares
from assistant.answer.extractive import SECOND_QUOTE_RATIO
from assistant.answer.features import CROSS_ENCODER, FEATURES

CAPS = (4, 8, 12, 16)
DEFAULT_CAP = 8
REGULARISATION = 1.0


@dataclass
class Question:
    article: str
    impossible: bool
    features: np.ndarray  # candidates x features, in pre-score order
    answers: np.ndarray   # candidates: holds a gold answer


def load(path: Path) -> list[Question]:
    questions = []
    with gzip.open(path, "rt", encoding="utf-8") as rows:
        for line in rows:
            row = json.loads(line)
            candidates = row["candidates"]
            features = np.array([c["features"] for c in candidates], dtype=np.float64).reshape(-1, len(FEATURES))
            answers = np.array([c["answer"] for c in candidates], dtype=bool)
            questions.append(Question(row["article"], row["impossible"], features, answers))
    return questions


def without_cross_encoder(questions: list[Question]) -> list[Question]:
    out = []
    for q in questions:
        features = q.features.copy()
        features[:, CROSS_ENCODER] = 0.0
        out.append(Question(q.article, q.impossible, features, q.answers))
    return out


def reorder(questions: list[Question], weights: np.ndarray, cap: int) -> list[Question]:
    """The first ``cap`` candidates of each question by the cheap fitted score: what the cross-encoder reads."""
    out = []
    for q in questions:
        order = np.argsort(-(q.features @ weights), kind="stable")[:cap] if len(q.features) else []
        out.append(Question(q.article, q.impossible, q.features[order], q.answers[order]))
    return out


@dataclass
class Pipeline:
    """Everything fitted: the cheap pre-score, the selection weights, the answerability model, the level."""

    prescore: np.ndarray
    selection: np.ndarray
    answerability: LogisticRegression
    cap: int
    reranker: bool
    level: float = 0.5

    def view(self, questions: list[Question]) -> list[Question]:
        if not self.reranker:
            return reorder(without_cross_encoder(questions), self.prescore, max(CAPS))
        return reorder(questions, self.prescore, self.cap)


def fit_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray, intercept: bool = True) -> LogisticRegression:
    model = LogisticRegression(C=REGULARISATION, max_iter=5000, fit_intercept=intercept)
    return model.fit(x, y, sample_weight=weights)


def article_weights(questions: list[Question]) -> np.ndarray:
    """Every article counts the same, however many questions it has: the product answers one article at a time."""
    counts = {}
    for q in questions:
        counts[q.article] = counts.get(q.article, 0) + 1
    mean = len(questions) / len(counts)
    return np.array([mean / counts[q.article] for q in questions])


def as_json(model: LogisticRegression) -> dict:
    return {"coefficients": [round(float(c), 6) for c in model.coef_[0]], "intercept": round(float(model.intercept_[0]), 6)}


def fit_selection(questions: list[Question]) -> np.ndarray:
    """Linear weights fitted on differences "answering candidate minus another candidate of the same question"."""
    differences, weights = [], []
    for q, weight in zip(questions, article_weights(questions)):
        if q.impossible or not q.answers.any() or q.answers.all():
            continue
        pairs = [good - bad for good in q.features[q.answers] for bad in q.features[~q.answers]]
        differences += pairs
        weights += [weight / len(pairs)] * len(pairs)  # each question counts once, however many pairs it gives
    x, w = np.array(differences), np.array(weights)
    model = fit_logistic(np.vstack([x, -x]), np.r_[np.ones(len(x)), np.zeros(len(x))], np.r_[w, w], intercept=False)
    return model.coef_[0]


def question_rows(questions: list[Question], weights: np.ndarray):
    """Per question: answerability features of the best candidate, whether it holds the answer, scores."""
    rows, labels, picks = [], [], []
    for q in questions:
        if len(q.features) == 0:
            rows.append(None)
            labels.append(False)
            picks.append(None)
            continue
        scores = q.features @ weights
        order = np.argsort(-scores)
        rows.append(answerability_features(q.features.tolist(), scores.tolist()))
        labels.append(bool(q.answers[order[0]]) and not q.impossible)
        picks.append((order, np.array(shares(scores.tolist()))))
    return rows, labels, picks


def fit(questions: list[Question], cap: int, reranker: bool) -> Pipeline:
    """Pre-score without the cross-encoder, then selection and answerability on what the pipeline would see."""
    prescore = fit_selection(without_cross_encoder(questions))
    pipeline = Pipeline(prescore, prescore, None, cap, reranker)
    viewed = pipeline.view(questions)
    pipeline.selection = fit_selection(viewed) if reranker else prescore
    rows, labels, _ = question_rows(viewed, pipeline.selection)
    kept = [i for i, r in enumerate(rows) if r is not None]
    weights = article_weights(viewed)
    pipeline.answerability = fit_logistic(
        np.array([rows[i] for i in kept]), np.array([labels[i] for i in kept]), weights[kept]
    )
    conf, picks = confidences(viewed, pipeline)
    pipeline.level = best_level(viewed, conf, picks)
    return pipeline


def confidences(viewed, pipeline: Pipeline):
    rows, _, picks = question_rows(viewed, pipeline.selection)
    conf = np.array([pipeline.answerability.predict_proba([r])[0, 1] if r is not None else 0.0 for r in rows])
    return conf, picks


def outcomes(questions, conf, picks, level: float, second_ratio: float = SECOND_QUOTE_RATIO):
    """HasAns / NoAns flags at a found level: quote the best (and a close second), refuse below the level."""
    has, no = [], []
    for q, c, pick in zip(questions, conf, picks):
        found = pick is not None and c >= level
        if q.impossible:
            no.append(not found)
            continue
        if not found:
            has.append(False)
            continue
        order, probability = pick
        quoted = [order[0]] + [i for i in order[1:2] if probability[i] >= second_ratio * probability[order[0]]]
        has.append(bool(any(q.answers[i] for i in quoted)))
    return has, no


def best_level(questions, conf, picks) -> float:
    """The found level that maximises the balanced score (mean of HasAns and NoAns), averaged over articles."""
    levels = np.linspace(0.05, 0.95, 91)
    articles = sorted({q.article for q in questions})
    members = {a: [i for i, q in enumerate(questions) if q.article == a] for a in articles}
    scores = []
    for level in levels:
        per_article = []
        for indices in members.values():
            has, no = outcomes([questions[i] for i in indices], conf[indices], [picks[i] for i in indices], level)
            per_article.append((np.mean(has) + np.mean(no)) / 2 if has and no else np.mean(has or no))
        scores.append(np.mean(per_article))
    return float(levels[int(np.argmax(scores))])


def cross_validate(questions: list[Question], cap: int, reranker: bool):
    """Leave one article out: fit on the others (level included), score the held-out article."""
    table = {}
    for article in sorted({q.article for q in questions}):
        pipeline = fit([q for q in questions if q.article != article], cap, reranker)
        test = pipeline.view([q for q in questions if q.article == article])
        conf, picks = confidences(test, pipeline)
        has, no = outcomes(test, conf, picks, pipeline.level)
        table[article] = {"has_ans": float(np.mean(has)), "no_ans": float(np.mean(no)), "level": pipeline.level,
                          "answerable": len(has), "unanswerable": len(no), "_has": has, "_no": no,
                          "_conf": conf.tolist(), "_correct": [*has, *no]}
    return table


def summary(table) -> dict:
    has = [x for row in table.values() for x in row["_has"]]
    no = [x for row in table.values() for x in row["_no"]]
    return {"has_ans": round(float(np.mean(has)), 4), "no_ans": round(float(np.mean(no)), 4),
            "balanced": round(float((np.mean(has) + np.mean(no)) / 2), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("features_file")
    parser.add_argument("--cap", type=int, default=DEFAULT_CAP, help="candidates the cross-encoder reads")
    parser.add_argument("--write", action="store_true", help=f"write {MODEL_FILE.name}")
    args = parser.parse_args()
    questions = load(Path(args.features_file))
    print(f"{len(questions)} questions, {sum(q.impossible for q in questions)} unanswerable")

    print("\nleave-one-article-out, by cap (candidates reranked):")
    print("| reranker | cap | answer in candidates | HasAns | NoAns | balanced |\n|---|---:|---:|---:|---:|---:|")
    results = {}
    for reranker in (True, False):
        for cap in CAPS:
            table = cross_validate(questions, cap, reranker)
            reach = np.mean([q.answers.any() for q in fit(questions, cap, reranker).view(questions) if not q.impossible])
            results[(reranker, cap)] = table
            s = summary(table)
            print(f"| {'on' if reranker else 'off'} | {cap} | {reach:.3f} | {s['has_ans']:.3f} | {s['no_ans']:.3f} | "
                  f"{s['balanced']:.3f} |")

    chosen = results[(True, args.cap)]
    print(f"\nper held-out article (reranker on, cap {args.cap}):")
    print("| article | answerable | unanswerable | HasAns | NoAns | level |\n|---|---:|---:|---:|---:|---:|")
    for article, row in chosen.items():
        print(f"| {article} | {row['answerable']} | {row['unanswerable']} | {row['has_ans']:.3f} | "
              f"{row['no_ans']:.3f} | {row['level']:.2f} |")

    if args.write:
        variants = {}
        for reranker in (True, False):
            pipeline = fit(questions, args.cap, reranker)
            cv = results[(reranker, args.cap)]
            variants["with_reranker" if reranker else "without_reranker"] = {
                "prescore": {"weights": [round(float(w), 6) for w in pipeline.prescore]},
                "selection": {"weights": [round(float(w), 6) for w in pipeline.selection]},
                "answerability": as_json(pipeline.answerability),
                "found_level": round(pipeline.level, 3),
                "cross_validated": {
                    **summary(cv),
                    "per_article": {a: {k: v for k, v in r.items() if not k.startswith("_")} for a, r in cv.items()},
                },
            }
        payload = {
            "fitted_by": "bench/fit_answerability.py", "fitted_on": Path(args.features_file).name,
            "cap": args.cap, "features": list(FEATURES), "answerability_extra": list(ANSWERABILITY_EXTRA),
            "variants": variants,
        }
        MODEL_FILE.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
