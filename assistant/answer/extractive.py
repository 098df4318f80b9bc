"""The default answerer: quotes the article's own sentences, or says the article does not say.

No generative model is involved, so nothing can be invented: every quoted word is a slice of
the cleaned article text. Each candidate sentence (from the retrieved passages) is scored by
the cosine similarity of its stored MiniLM embedding to the question plus the share of the
question's content words it contains (weighted by rarity in the article). The best sentence
is quoted when its score clears a threshold calibrated on the question sets in ``tests/data``,
or when it holds every content word of the question; otherwise the answer is the plain
refusal, with no citations.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from assistant.answer.expectations import focus_stem, required_content
from assistant.answer.model import NOT_IN_ARTICLE, Answer, citation_for
from assistant.followup import History, standalone_question
from assistant.index import PassageIndex
from assistant.retrieval import RetrievedPassage
from assistant.text_terms import content_stems

DENSE_WEIGHT = 0.6
LEXICAL_WEIGHT = 0.4
FOUND_THRESHOLD = 0.44
SECOND_QUOTE_RATIO = 0.9
FULL_COVERAGE = 0.999
FOCUS_BONUS = 0.1


@dataclass(frozen=True)
class ScoredSentence:
    retrieved: RetrievedPassage
    start: int
    end: int
    dense: float
    lexical: float
    names_focus: bool = False

    @property
    def score(self) -> float:
        return DENSE_WEIGHT * self.dense + LEXICAL_WEIGHT * self.lexical + (FOCUS_BONUS if self.names_focus else 0.0)

    @property
    def text(self) -> str:
        return self.retrieved.article.text[self.start : self.end]

    def answers(self, threshold: float) -> bool:
        """Close enough in meaning, or holding every content word of the question."""
        return self.score >= threshold or self.lexical >= FULL_COVERAGE


def quoted(sentence: str) -> str:
    """The sentence in quote marks, unless it already carries its own (a quoted speaker)."""
    return sentence if sentence[0] in "“\"" else f"“{sentence}”"


def _lexical_overlap(question_stems: list[str], sentence_stems: set[str], idf: dict[str, float]) -> float:
    """IDF-weighted share of the question's content words that the sentence contains."""
    unique = set(question_stems)
    total = sum(idf.get(s, 1.0) for s in unique)
    if not total:
        return 0.0
    return sum(idf.get(s, 1.0) for s in unique if s in sentence_stems) / total


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, index: PassageIndex, max_quotes: int = 2, threshold: float = FOUND_THRESHOLD):
        self.index = index
        self.max_quotes = max_quotes
        self.threshold = threshold
        self._idf_cache: dict[str, dict[str, float]] = {}

    def _idf(self, article) -> dict[str, float]:
        if article.version not in self._idf_cache:
            sentences = [set(content_stems(article.text[s:e])) for s, e in article.sentences]
            frequency = Counter(stem for stems in sentences for stem in stems)
            count = len(sentences)
            self._idf_cache[article.version] = {stem: math.log(1 + count / df) for stem, df in frequency.items()}
        return self._idf_cache[article.version]

    def score_sentences(self, query: str, retrieved: list[RetrievedPassage]) -> list[ScoredSentence]:
        """The sentences of the retrieved passages that could answer the question, best first."""
        question_vector = np.asarray(self.index.query_vector(query), dtype=np.float32)
        question_stems = content_stems(query)
        must_contain = required_content(query)
        focus = focus_stem(query)
        scored: list[ScoredSentence] = []
        for hit in retrieved:
            article = hit.article
            vectors = self.index.sentence_vectors(article.version)
            idf = self._idf(article)
            # "Which journal ...": when the article uses the word, the answer is a sentence that does.
            article_focus = focus if focus in idf else None
            for i, start, end in article.sentences_within(hit.passage.start, hit.passage.end):
                if must_contain and not must_contain.search(article.text[start:end]):
                    continue
                dense = float(vectors[i] @ question_vector)
                sentence_stems = set(content_stems(article.text[start:end]))
                if article_focus and article_focus not in sentence_stems:
                    continue
                lexical = _lexical_overlap(question_stems, sentence_stems, idf)
                scored.append(ScoredSentence(hit, start, end, dense, lexical, names_focus=article_focus is not None))
        return sorted(scored, key=lambda s: -s.score)

    def answer(self, question: str, query: str, retrieved: list[RetrievedPassage], article_label: str | None) -> Answer:
        ranked = self.score_sentences(query, retrieved)
        if not ranked or not ranked[0].answers(self.threshold):
            return Answer(question=question, text=NOT_IN_ARTICLE, found=False, article=article_label, backend=self.name)
        best = ranked[0].score
        chosen = [ranked[0]] + [
            s for s in ranked[1 : self.max_quotes] if s.answers(self.threshold) and s.score >= SECOND_QUOTE_RATIO * best
        ]
        chosen.sort(key=lambda s: (s.retrieved.article.id, s.start))
        # One citation per quote, so each quote can be highlighted in its passage.
        citations = [
            citation_for(n, s.retrieved, s.start, s.end, s.score) for n, s in enumerate(chosen, start=1)
        ]
        parts = [f"{quoted(c.quote)} [{c.n}]" for c in citations]
        return Answer(
            question=question, text=" ".join(parts), found=True, article=article_label, backend=self.name, citations=citations
        )

    def standalone(self, question: str, history: History | None) -> str:
        return standalone_question(question, history)

    def stream(
        self, question: str, query: str, retrieved: list[RetrievedPassage], article_label: str | None
    ) -> Iterator[str | Answer]:
        """The answer quote by quote (it is ready at once; this keeps one interface for all backends)."""
        answer = self.answer(question, query, retrieved, article_label)
        quotes = re.split(r"(?<=\]) ", answer.text)
        for i, quote in enumerate(quotes):
            yield quote if i == len(quotes) - 1 else quote + " "
        yield answer
