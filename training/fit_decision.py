"""Fit the decision stage (pre-score, selection, answerability, found level) per pipeline variant, cross-validated.

Why: which sentence to quote and whether to quote at all are decided by small fitted models
(assistant/answer/answerability.py) over the candidates' signals. This script fits them on the rows
written by training/candidate_data.py for the squad2-dev-19 articles the reader never saw, and
reports for every variant what it scores on each article when that article was left out of the fit
(leave-one-article-out, level included), so the figures say how it carries over to unseen text.
The stages are compared side by side: the features alone, with the cross-encoder, the reader alone,
the reader with the features, and all of them.

``--apply OTHER.jsonl.gz`` scores pipelines fitted on all the fitting articles on another file
(the benchmark: reported, never fitted on). ``--write`` stores the shipped variants in
assistant/answer/answerability.json.

    .venv/bin/python -m training.fit_decision training/work/candidates-dev19.jsonl.gz \
        --apply training/work/candidates-dev8.jsonl.gz --write
"""

from __future__ import annotations

import argparse
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from assistant.answer.answerability import ANSWERABILITY_EXTRA, MODEL_FILE, SIGNALS, answerability_features, shares
from assistant.answer.extractive import SECOND_QUOTE_RATIO
from assistant.answer.features import FEATURES

CHEAP = frozenset(FEATURES) - {"cross_encoder"}
# The stages compared; the shipped file holds "reader" (the chosen reader variant), "cross_encoder", "bi_encoder".
CANDIDATE_VARIANTS = {
    "bi_encoder": CHEAP,
    "cross_encoder": frozenset(FEATURES),
    "reader_alone": frozenset({"reader"}),
    "reader_features": CHEAP | {"reader"},
    "reader_features_cross_encoder": frozenset(SIGNALS),
}
CAPS = (4, 6, 8, 12, 16)
# Weak bands tried, and the share of unanswerable questions that must still be refused outright (the issue's
# NoAns bar): the widest band that keeps it, cross-validated, is shipped.
WEAK_BANDS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25)
WEAK_NO_ANS_FLOOR = 0.65
DEFAULT_CAP = 8
REGULARISATION = 1.0


@dataclass
class Question:
    article: str
    impossible: bool
    signals: np.ndarray  # candidates x SIGNALS, in the collection's order
    answers: np.ndarray  # candidates: holds a gold answer


def load(path: Path) -> list[Question]:
    questions = []
    with gzip.open(path, "rt", encoding="utf-8") as rows:
        for line in rows:
            row = json.loads(line)
            candidates = row["candidates"]
            signals = np.array([[*c["features"], c["reader"] or 0.0] for c in candidates],
                               dtype=np.float64).reshape(-1, len(SIGNALS))
            answers = np.array([c["answer"] for c in candidates], dtype=bool)
            questions.append(Question(row["article"], row["impossible"], signals, answers))
    return questions


def masked(questions: list[Question], used: frozenset[str]) -> list[Question]:
    """The questions with every signal outside ``used`` set to 0 (what the pipeline has when it does not run)."""
    keep = np.array([name in used for name in SIGNALS], dtype=np.float64)
    return [Question(q.article, q.impossible, q.signals * keep, q.answers) for q in questions]


def reorder(questions: list[Question], weights: np.ndarray, cap: int) -> list[Question]:
    """The first ``cap`` candidates of each question by the cheap fitted score: what the slow models read."""
    out = []
    for q in questions:
        order = np.argsort(-(q.signals @ weights), kind="stable")[:cap] if len(q.signals) else []
        out.append(Question(q.article, q.impossible, q.signals[order], q.answers[order]))
    return out


@dataclass
class Pipeline:
    """Everything fitted for one variant: pre-score, selection weights, answerability model, level."""

    used: frozenset[str]
    cap: int
    prescore: np.ndarray
    selection: np.ndarray | None = None
    answerability: LogisticRegression | None = None
    level: float = 0.5

    def view(self, questions: list[Question]) -> list[Question]:
        """What the pipeline sees: its signals only, the first ``cap`` candidates by pre-score."""
        cap = max(CAPS) if self.used <= CHEAP else self.cap
        return reorder(masked(questions, self.used), self.prescore, cap)


def fit_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray, intercept: bool = True) -> LogisticRegression:
    model = LogisticRegression(C=REGULARISATION, max_iter=5000, fit_intercept=intercept)
    return model.fit(x, y, sample_weight=weights)


def article_weights(questions: list[Question]) -> np.ndarray:
    """Every article counts the same, however many questions it has: the product answers one article at a time."""
    counts: dict[str, int] = {}
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
        pairs = [good - bad for good in q.signals[q.answers] for bad in q.signals[~q.answers]]
        differences += pairs
        weights += [weight / len(pairs)] * len(pairs)  # each question counts once, however many pairs it gives
    x, w = np.array(differences), np.array(weights)
    model = fit_logistic(np.vstack([x, -x]), np.r_[np.ones(len(x)), np.zeros(len(x))], np.r_[w, w], intercept=False)
    return model.coef_[0]


def question_rows(questions: list[Question], weights: np.ndarray):
    """Per question: answerability features of the best candidate, whether it holds the answer, the ranking."""
    rows, labels, picks = [], [], []
    for q in questions:
        if len(q.signals) == 0:
            rows.append(None)
            labels.append(False)
            picks.append(None)
            continue
        scores = q.signals @ weights
        order = np.argsort(-scores)
        rows.append(answerability_features(q.signals.tolist(), scores.tolist()))
        labels.append(bool(q.answers[order[0]]) and not q.impossible)
        picks.append((order, np.array(shares(scores.tolist()))))
    return rows, labels, picks


def fit(questions: list[Question], used: frozenset[str], cap: int, no_ans_floor: float | None = None) -> Pipeline:
    """Pre-score on the cheap signals, then selection and answerability on what the pipeline would see, then
    the found level (``best_level``)."""
    pipeline = Pipeline(used, cap, fit_selection(masked(questions, CHEAP)))
    viewed = pipeline.view(questions)
    pipeline.selection = fit_selection(viewed)
    rows, labels, _ = question_rows(viewed, pipeline.selection)
    kept = [i for i, r in enumerate(rows) if r is not None]
    pipeline.answerability = fit_logistic(
        np.array([rows[i] for i in kept]), np.array([labels[i] for i in kept]), article_weights(viewed)[kept])
    conf, picks = confidences(viewed, pipeline)
    pipeline.level = best_level(viewed, conf, picks, no_ans_floor)
    return pipeline


def confidences(viewed: list[Question], pipeline: Pipeline):
    rows, _, picks = question_rows(viewed, pipeline.selection)
    conf = np.zeros(len(rows))
    kept = [i for i, r in enumerate(rows) if r is not None]
    if kept:
        conf[kept] = pipeline.answerability.predict_proba(np.array([rows[i] for i in kept]))[:, 1]
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


def best_level(questions, conf, picks, no_ans_floor: float | None = None) -> float:
    """The found level, from HasAns and NoAns averaged over articles: by default the one that maximises their
    mean (balanced); with ``no_ans_floor``, the one that answers most while NoAns stays at or above the floor
    (the issue's bar: HasAns as high as it goes with NoAns >= 0.65), balanced when no level reaches it.

    Tried: a level minimising a cost with a wrong quote at twice a refusal. In cross-validation it moved
    HasAns / NoAns from 0.597 / 0.694 to 0.363 / 0.864, and the shipped article to 10/37 answered, 18/18
    refused: refusing most answerable questions is not the honest trade.
    """
    levels = np.linspace(0.05, 0.95, 91)
    members: dict[str, list[int]] = {}
    for i, q in enumerate(questions):
        members.setdefault(q.article, []).append(i)
    has_rates, no_rates = [], []
    for level in levels:
        per_article = [outcomes([questions[i] for i in indices], conf[indices], [picks[i] for i in indices], level)
                       for indices in members.values()]
        has_rates.append(np.mean([np.mean(has) for has, _ in per_article if has]))
        no_rates.append(np.mean([np.mean(no) for _, no in per_article if no]))
    has_rates, no_rates = np.array(has_rates), np.array(no_rates)
    if no_ans_floor is not None and (no_rates >= no_ans_floor).any():
        return float(levels[int(np.argmax(np.where(no_rates >= no_ans_floor, has_rates, -1.0)))])
    return float(levels[int(np.argmax(has_rates + no_rates))])


def score(pipeline: Pipeline, questions: list[Question]) -> dict:
    test = pipeline.view(questions)
    conf, picks = confidences(test, pipeline)
    has, no = outcomes(test, conf, picks, pipeline.level)
    tops = [bool(p is not None and q.answers[p[0][0]] and not q.impossible) for q, p in zip(test, picks)]
    return {"has_ans": float(np.mean(has)), "no_ans": float(np.mean(no)), "level": pipeline.level,
            "answerable": len(has), "unanswerable": len(no), "_has": has, "_no": no, "_conf": conf.tolist(), "_top": tops,
            "_impossible": [q.impossible for q in test]}


def cross_validate(questions: list[Question], used: frozenset[str], cap: int,
                   no_ans_floor: float | None = None) -> dict[str, dict]:
    """Leave one article out: fit on the others (level included), score the held-out article."""
    return {article: score(fit([q for q in questions if q.article != article], used, cap, no_ans_floor),
                           [q for q in questions if q.article == article])
            for article in sorted({q.article for q in questions})}


def summary(table: dict[str, dict]) -> dict:
    has = [x for row in table.values() for x in row["_has"]]
    no = [x for row in table.values() for x in row["_no"]]
    return {"has_ans": round(float(np.mean(has)), 4), "no_ans": round(float(np.mean(no)), 4),
            "balanced": round(float((np.mean(has) + np.mean(no)) / 2), 4)}


def weak_bands(table: dict[str, dict]) -> list[dict]:
    """Per band under each held-out article's found level: the unanswerable questions still refused outright,
    and the answerable ones shown as "the closest passage" with the answering sentence (or another)."""
    rows = []
    for band in WEAK_BANDS:
        refused = weak_right = weak_wrong = unanswerable = answerable = 0
        for row in table.values():
            for conf, impossible, top in zip(row["_conf"], row["_impossible"], row["_top"]):
                weak = row["level"] - band <= conf < row["level"]
                if impossible:
                    unanswerable += 1
                    refused += conf < row["level"] - band
                else:
                    answerable += 1
                    weak_right += weak and top
                    weak_wrong += weak and not top
        rows.append({"band": band, "no_ans": round(refused / max(1, unanswerable), 4),
                     "closest_right": round(weak_right / max(1, answerable), 4),
                     "closest_wrong": round(weak_wrong / max(1, answerable), 4)})
    return rows


def chosen_band(bands: list[dict]) -> float:
    """The widest band whose cross-validated NoAns stays at or above WEAK_NO_ANS_FLOOR (0 when none does)."""
    kept = [row["band"] for row in bands if row["no_ans"] >= WEAK_NO_ANS_FLOOR]
    return max(kept, default=0.0)


def reliability(table: dict[str, dict]) -> list[dict]:
    """Pooled held-out confidences in bins, against how often the top candidate really answers."""
    conf = np.array([c for row in table.values() for c in row["_conf"]])
    top = np.array([t for row in table.values() for t in row["_top"]])
    bins = []
    for low in np.arange(0.0, 1.0, 0.1):
        inside = (conf >= low) & ((conf < low + 0.1) if low < 0.85 else (conf <= 1.0))
        if inside.any():
            bins.append({"confidence": f"{low:.1f}–{low + 0.1:.1f}", "questions": int(inside.sum()),
                         "mean_confidence": round(float(conf[inside].mean()), 3),
                         "top_answers": round(float(top[inside].mean()), 3)})
    brier = float(np.mean((conf - top) ** 2))
    base = float(np.mean((top.mean() - top) ** 2))
    return bins + [{"brier": round(brier, 4), "brier_base_rate": round(base, 4)}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidates_file", type=Path)
    parser.add_argument("--apply", type=Path, help="score the pipelines fitted on all fitting articles on this file")
    parser.add_argument("--cap", type=int, default=DEFAULT_CAP, help="candidates the reader / cross-encoder read")
    parser.add_argument("--reader-variant", default="reader_features", choices=[v for v in CANDIDATE_VARIANTS if "reader" in v],
                        help="the variant shipped as 'reader'")
    parser.add_argument("--no-ans-floor", type=float, default=None,
                        help="choose the found level that answers most with NoAns at or above this (default: balanced)")
    parser.add_argument("--write", action="store_true", help=f"write {MODEL_FILE.name}")
    args = parser.parse_args()
    questions = load(args.candidates_file)
    applied = load(args.apply) if args.apply else None
    print(f"{len(questions)} questions ({sum(q.impossible for q in questions)} unanswerable) "
          f"from {len({q.article for q in questions})} articles")

    print("\nleave-one-article-out (and, fitted on all of them, applied to --apply):")
    print("| variant | cap | answer in candidates | HasAns | NoAns | balanced | applied HasAns | NoAns | balanced |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    tables = {}
    for name, used in CANDIDATE_VARIANTS.items():
        for cap in CAPS if used - CHEAP else (max(CAPS),):
            table = cross_validate(questions, used, cap, args.no_ans_floor)
            full = fit(questions, used, cap, args.no_ans_floor)
            reach = np.mean([q.answers.any() for q in full.view(questions) if not q.impossible])
            tables[(name, cap)] = (table, full)
            s = summary(table)
            other = summary({"all": score(full, applied)}) if applied else None
            tail = f"{other['has_ans']:.3f} | {other['no_ans']:.3f} | {other['balanced']:.3f}" if other else "| |"
            print(f"| {name} | {cap} | {reach:.3f} | {s['has_ans']:.3f} | {s['no_ans']:.3f} | {s['balanced']:.3f} | {tail} |",
                  flush=True)

    chosen_table, _ = tables[(args.reader_variant, args.cap)]
    print(f"\nper held-out article ({args.reader_variant}, cap {args.cap}):")
    print("| article | answerable | unanswerable | HasAns | NoAns | level |\n|---|---:|---:|---:|---:|---:|")
    for article, row in chosen_table.items():
        print(f"| {article} | {row['answerable']} | {row['unanswerable']} | {row['has_ans']:.3f} | "
              f"{row['no_ans']:.3f} | {row['level']:.2f} |")
    print("\nreliability (pooled held-out confidences):")
    for line in reliability(chosen_table):
        print(line)
    bands = weak_bands(chosen_table)
    print(f"\nweak band (held out; shipped: the widest with NoAns >= {WEAK_NO_ANS_FLOOR}, {chosen_band(bands)}):")
    for line in bands:
        print(line)

    if args.write:
        shipped = {"reader": (args.reader_variant, args.cap), "cross_encoder": ("cross_encoder", args.cap),
                   "bi_encoder": ("bi_encoder", max(CAPS))}
        variants = {}
        for label, key in shipped.items():
            table, pipeline = tables[key]
            variants[label] = {
                "fitted_as": key[0], "signals": sorted(pipeline.used), "cap": key[1],
                "prescore": {"weights": [round(float(w), 6) for w in pipeline.prescore]},
                "selection": {"weights": [round(float(w), 6) for w in pipeline.selection]},
                "answerability": as_json(pipeline.answerability),
                "found_level": round(pipeline.level, 3),
                "weak_band": chosen_band(weak_bands(table)),
                "cross_validated": {
                    **summary(table), "reliability": reliability(table),
                    "per_article": {a: {k: v for k, v in r.items() if not k.startswith("_")} for a, r in table.items()},
                },
            }
        payload = {
            "fitted_by": "training/fit_decision.py", "fitted_on": args.candidates_file.name,
            "found_level_rule": "balanced" if args.no_ans_floor is None else f"most answered with NoAns >= {args.no_ans_floor}",
            "signals": list(SIGNALS), "answerability_extra": list(ANSWERABILITY_EXTRA), "variants": variants,
        }
        MODEL_FILE.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
