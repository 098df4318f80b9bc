"""What is measured about a (question, candidate sentence) pair before deciding anything.

Unanswerable questions are usually worded like answerable ones with one thing changed: a
swapped name or number, a negation, an antonym, a word the article never uses. So besides
closeness (dense cosine, IDF-weighted word overlap, cross-encoder), each pair gets *mismatch*
features that look for exactly those changes. The selection and answerability models
(``answerability.py``) weigh these; nothing here decides.

Every feature is a float; ``FEATURES`` fixes their order for the fitted coefficients.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from assistant.answer.expectations import focus_stem, required_content
from assistant.text_terms import STOPWORDS, content_stems, stemmer

# Per-candidate features, in the order the fitted models read them.
FEATURES = (
    "cross_encoder",      # ms-marco logit (0 when the reranker is unavailable)
    "dense",              # MiniLM cosine, question vs sentence
    "lexical",            # IDF-weighted share of the question's words in the sentence
    "lexical_context",    # the same over the sentence with its neighbours (pronouns point there)
    "passage_rank",       # 1/(1+rank) of the retrieved passage holding the sentence
    "type_expected",      # the question asks for a date/number/... (1) or not (0)
    "type_missing",       # ...and the sentence holds no such fact
    "focus_missing",      # "which X" asks for an X the article names, but the sentence does not
    "entities_missing",   # share of the question's names/numbers absent from sentence + neighbours
    "unknown_words",      # IDF-weighted share of the question's words found nowhere in the article
    "negation_mismatch",  # a negation in the question but not in the sentence (or the reverse)
    "antonym",            # the sentence holds the opposite of a question word, and not the word
    "missing_max",        # the rarest question word missing from sentence + neighbours (a swapped name)
    "missing_count",      # how many question words are missing there (of up to 5)
    "missing_max_sentence",  # the rarest question word missing from the sentence itself
    "question_words",     # how many content words the question has (of up to 10): short ones say less
)

CROSS_ENCODER = FEATURES.index("cross_encoder")

_NEGATION = re.compile(r"\b(not|no|never|none|nobody|nothing|neither|nor|without|cannot)\b|n't\b", re.I)
_NAME_OR_NUMBER = re.compile(r"(?<![\w'])(?:[A-Z][\w'-]*|\d[\d,.]*)")
_WORD = re.compile(r"[\w'-]+")
ANTONYM_PAIRS = [
    ("increase", "decrease"), ("rise", "fall"), ("more", "less"), ("most", "least"), ("before", "after"),
    ("first", "last"), ("early", "late"), ("earliest", "latest"), ("largest", "smallest"), ("high", "low"),
    ("higher", "lower"), ("highest", "lowest"), ("larger", "smaller"), ("major", "minor"), ("maximum", "minimum"),
    ("begin", "end"), ("start", "end"), ("win", "lose"), ("won", "lost"), ("accept", "reject"),
    ("allow", "forbid"), ("legal", "illegal"), ("success", "failure"), ("strong", "weak"), ("old", "new"),
    ("older", "newer"), ("oldest", "newest"), ("long", "short"), ("longest", "shortest"), ("north", "south"),
    ("east", "west"), ("inside", "outside"), ("internal", "external"), ("public", "private"),
    ("positive", "negative"), ("gain", "loss"), ("above", "below"), ("upper", "lower"), ("open", "close"),
    ("support", "oppose"), ("agree", "disagree"), ("include", "exclude"), ("past", "future"),
]
_MAX_QUESTION_WORDS = 200  # longer questions are cut for feature purposes: bounded cost


def _antonyms() -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for a, b in ANTONYM_PAIRS:
        sa, sb = stemmer().stemWords([a, b])
        table.setdefault(sa, set()).add(sb)
        table.setdefault(sb, set()).add(sa)
    return table


_ANTONYMS = _antonyms()


def article_idf(sentences: list[str]) -> dict[str, float]:
    """log(1 + N/df) over the article's sentences: rare words weigh more in overlap."""
    frequency = Counter(stem for text in sentences for stem in set(content_stems(text)))
    count = len(sentences)
    return {stem: math.log(1 + count / df) for stem, df in frequency.items()}


@dataclass(frozen=True)
class QuestionProfile:
    """The parts of a question the features look at, computed once per question."""

    stems: tuple[str, ...]
    weights: tuple[float, ...]
    names: tuple[str, ...]
    expects: re.Pattern | None
    focus: str | None
    negated: bool
    unknown_share: float

    @classmethod
    def of(cls, question: str, idf: dict[str, float]) -> QuestionProfile:
        words = _WORD.findall(question)[:_MAX_QUESTION_WORDS]
        short = " ".join(words)
        stems = tuple(dict.fromkeys(content_stems(short)))
        default = max(idf.values(), default=1.0)  # a word the article never uses is as rare as can be
        weights = tuple(idf.get(s, default) for s in stems)
        total = sum(weights)
        unknown = sum(w for s, w in zip(stems, weights) if s not in idf) / total if total else 0.0
        # Names and numbers: capitalised words after the first word, and every number.
        names = tuple(
            dict.fromkeys(
                m.group(0).lower().strip(".,").removesuffix("'s")
                for m in _NAME_OR_NUMBER.finditer(short)
                if m.start() > 0 and m.group(0).lower() not in STOPWORDS
            )
        )
        focus = focus_stem(short)
        return cls(
            stems=stems,
            weights=weights,
            names=names,
            expects=required_content(short),
            focus=focus if focus in idf else None,
            negated=bool(_NEGATION.search(short)),
            unknown_share=unknown,
        )


def _overlap(profile: QuestionProfile, stems: set[str]) -> float:
    total = sum(profile.weights)
    if not total:
        return 0.0
    return sum(w for s, w in zip(profile.stems, profile.weights) if s in stems) / total


def candidate_features(
    profile: QuestionProfile, sentence: str, context: str, sentence_stems: set[str], context_stems: set[str],
    dense: float, passage_rank: int, cross_encoder: float,
) -> list[float]:
    """The feature vector (in ``FEATURES`` order) of one candidate sentence.

    ``context`` is the sentence with its neighbours; the stem sets are the content words of each (cached by
    the caller, since the same sentences come back question after question).
    """
    context_lower = context.lower()
    missing_names = sum(1 for name in profile.names if name not in context_lower)
    type_missing = profile.expects is not None and not profile.expects.search(sentence)
    antonym = any(
        s not in sentence_stems and _ANTONYMS.get(s, set()) & sentence_stems for s in profile.stems
    )
    missing = [w for s, w in zip(profile.stems, profile.weights) if s not in context_stems]
    missing_here = [w for s, w in zip(profile.stems, profile.weights) if s not in sentence_stems]
    rarest = max(profile.weights, default=1.0)
    return [
        cross_encoder,
        dense,
        _overlap(profile, sentence_stems),
        _overlap(profile, context_stems),
        1.0 / (1 + passage_rank),
        float(profile.expects is not None),
        float(type_missing),
        float(profile.focus is not None and profile.focus not in sentence_stems),
        missing_names / len(profile.names) if profile.names else 0.0,
        profile.unknown_share,
        float(profile.negated != bool(_NEGATION.search(sentence))),
        float(antonym),
        max(missing, default=0.0) / rarest,
        min(len(missing), 5) / 5,
        max(missing_here, default=0.0) / rarest,
        min(len(profile.stems), 10) / 10,
    ]
