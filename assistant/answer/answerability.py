"""Which candidate answers, and how likely it is that it really does: two fitted logistic models.

* Pre-score: the same kind of linear score without the cross-encoder, fitted the same way; it
  picks the few candidates the cross-encoder reads (and is the ranking when it is unavailable).
* Selection: a linear score of each candidate's features (features.py), fitted on pairs "the
  answering sentence vs another candidate of the same question", so it ranks within a question.
  Its softmax over the candidates is the share of belief each one gets.
* Answerability: P(the chosen sentence answers the question) from the chosen sentence's
  features plus how far it stands above the runner-up. This is the answer's ``confidence``.

Both were fitted by ``bench/fit_answerability.py`` on SQuAD 2.0 development articles, with
leave-one-article-out cross-validation (its results sit in the same JSON file). There is one
set of coefficients with the cross-encoder and one without, for when it is unavailable.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.answer.features import CROSS_ENCODER, FEATURES

MODEL_FILE = Path(__file__).with_name("answerability.json")
# Question-level features appended to the chosen sentence's own, in this order.
ANSWERABILITY_EXTRA = ("selection_share", "selection_margin", "cross_encoder_margin")
# Margins when there is no runner-up: as clear as margins get in the fitted data.
ALONE_MARGIN = 5.0


@dataclass(frozen=True)
class Logistic:
    coefficients: tuple[float, ...]
    intercept: float

    def probability(self, values: list[float]) -> float:
        z = self.intercept + sum(c * v for c, v in zip(self.coefficients, values))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @classmethod
    def from_json(cls, data: dict) -> Logistic:
        return cls(tuple(float(c) for c in data["coefficients"]), float(data["intercept"]))


def shares(scores: list[float]) -> list[float]:
    """Softmax: each candidate's share of the belief that it is the answering one."""
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    total = sum(weights)
    return [w / total for w in weights]


def answerability_features(features: list[list[float]], scores: list[float]) -> list[float]:
    """The best candidate's features, its share, and its margins over the runner-up (selection, cross-encoder)."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    best = order[0]
    share = shares(scores)[best]
    if len(order) == 1:
        return [*features[best], share, ALONE_MARGIN, ALONE_MARGIN]
    second = order[1]
    margin_ce = features[best][CROSS_ENCODER] - features[second][CROSS_ENCODER]
    return [*features[best], share, scores[best] - scores[second], margin_ce]


@dataclass(frozen=True)
class AnswerabilityModel:
    prescore: tuple[float, ...]   # linear weights over FEATURES without the cross-encoder: who gets reranked
    selection: tuple[float, ...]  # linear weights over FEATURES
    answerability: Logistic
    found_level: float  # confidence at or above which the quote is given as the answer

    def select(self, features: list[float]) -> float:
        return sum(w * v for w, v in zip(self.selection, features))

    def preselect(self, features: list[float]) -> float:
        return sum(w * v for w, v in zip(self.prescore, features))

    def confidence(self, features: list[list[float]], scores: list[float]) -> float:
        """Calibrated P(the best-scored candidate answers the question)."""
        return self.answerability.probability(answerability_features(features, scores))


@lru_cache(maxsize=2)
def load_model(with_reranker: bool, path: Path = MODEL_FILE) -> AnswerabilityModel:
    """The fitted coefficients for the pipeline as it runs (with or without the cross-encoder)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURES or tuple(data["answerability_extra"]) != ANSWERABILITY_EXTRA:
        raise RuntimeError(f"{path.name} was fitted on other features; run bench/fit_answerability.py")
    variant = data["variants"]["with_reranker" if with_reranker else "without_reranker"]
    return AnswerabilityModel(
        prescore=tuple(float(w) for w in variant["prescore"]["weights"]),
        selection=tuple(float(w) for w in variant["selection"]["weights"]),
        answerability=Logistic.from_json(variant["answerability"]),
        found_level=float(variant["found_level"]),
    )
