"""Which candidate answers, and how likely it is that it really does: fitted models over every signal.

A candidate's *signals* are its features (features.py: closeness, mismatch checks, the cross-encoder's
logit) followed by the trained reader's logit (reader.py). Each pipeline variant uses some of them:

* ``reader``       — the reader with the features it was found to need (the default);
* ``cross_encoder`` — the features and the cross-encoder, for when the reader's files are missing;
* ``bi_encoder``   — the features alone, for when neither model can run.

Per variant, three fitted parts:

* Pre-score: a linear score of the cheap signals (no model call); it picks the few candidates the
  reader and cross-encoder read.
* Selection: a linear score over the variant's signals, fitted on pairs "the answering sentence vs
  another candidate of the same question"; its softmax is each candidate's share of the belief.
* Answerability: P(the chosen sentence answers) from its signals plus how far it stands above the
  runner-up. This is the answer's ``confidence``; ``found_level`` is where a quote becomes the answer, and
  ``weak_band`` how far under it the quote is still shown, as "the closest passage".

All are fitted by ``training/fit_decision.py`` on the squad2-dev-19 articles the reader never saw, with
leave-one-article-out cross-validation (its results sit in the same JSON file).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.answer.features import CROSS_ENCODER, FEATURES

MODEL_FILE = Path(__file__).with_name("answerability.json")
SIGNALS = (*FEATURES, "reader")
READER = SIGNALS.index("reader")
# Question-level values appended to the chosen candidate's signals, in this order.
ANSWERABILITY_EXTRA = ("selection_share", "selection_margin", "cross_encoder_margin", "reader_margin")
# Margins when there is no runner-up: as clear as margins get in the fitted data.
ALONE_MARGIN = 5.0
VARIANTS = ("reader", "cross_encoder", "bi_encoder")


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


def answerability_features(signals: list[list[float]], scores: list[float]) -> list[float]:
    """The best candidate's signals, its share, and its margins over the runner-up."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    best = order[0]
    share = shares(scores)[best]
    if len(order) == 1:
        return [*signals[best], share, ALONE_MARGIN, ALONE_MARGIN, ALONE_MARGIN]
    second = order[1]
    return [
        *signals[best], share, scores[best] - scores[second],
        signals[best][CROSS_ENCODER] - signals[second][CROSS_ENCODER], signals[best][READER] - signals[second][READER],
    ]


@dataclass(frozen=True)
class AnswerabilityModel:
    variant: str
    signals: frozenset[str]       # the signals this variant reads (the others are 0)
    prescore: tuple[float, ...]   # linear weights over SIGNALS, cheap ones only: who gets read
    selection: tuple[float, ...]  # linear weights over SIGNALS
    answerability: Logistic
    found_level: float  # confidence at or above which the quote is given as the answer
    weak_band: float  # this far under found_level, the quote is shown as "the closest passage" instead of refused

    @property
    def uses_reader(self) -> bool:
        return "reader" in self.signals

    @property
    def uses_cross_encoder(self) -> bool:
        return "cross_encoder" in self.signals

    def select(self, signals: list[float]) -> float:
        return sum(w * v for w, v in zip(self.selection, signals))

    def preselect(self, signals: list[float]) -> float:
        return sum(w * v for w, v in zip(self.prescore, signals))

    def confidence(self, signals: list[list[float]], scores: list[float]) -> float:
        """Calibrated P(the best-scored candidate answers the question)."""
        return self.answerability.probability(answerability_features(signals, scores))


@lru_cache(maxsize=4)
def load_model(variant: str, path: Path = MODEL_FILE) -> AnswerabilityModel:
    """The fitted coefficients of one pipeline variant (``VARIANTS``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data["signals"]) != SIGNALS or tuple(data["answerability_extra"]) != ANSWERABILITY_EXTRA:
        raise RuntimeError(f"{path.name} was fitted on other signals; run training/fit_decision.py")
    fitted = data["variants"][variant]
    return AnswerabilityModel(
        variant=variant,
        signals=frozenset(fitted["signals"]),
        prescore=tuple(float(w) for w in fitted["prescore"]["weights"]),
        selection=tuple(float(w) for w in fitted["selection"]["weights"]),
        answerability=Logistic.from_json(fitted["answerability"]),
        found_level=float(fitted["found_level"]),
        weak_band=float(fitted.get("weak_band", 0.0)),  # files fitted before the band was: refuse under the level
    )
