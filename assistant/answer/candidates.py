"""Candidate sentences for an answer: every sentence of the retrieved passages, with its features.

Everything here is cheap (MiniLM vectors already in memory, cached word stems): a fitted
pre-score over these features decides which few candidates the slow models (the trained reader,
or the cross-encoder) read, and it is the whole ranking when neither is available.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.answer.features import QuestionProfile, article_idf, candidate_features
from assistant.index import IndexedArticle, PassageIndex
from assistant.retrieval import RetrievedPassage
from assistant.text_terms import content_stems

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


@dataclass
class Candidate:
    hit: RetrievedPassage
    sentence: int  # number of the sentence in its article
    start: int
    end: int
    features: list[float] | None = None  # in FEATURES order
    reader_logit: float = 0.0  # the trained reader's verdict, once it has read the candidate
    span: tuple[int, int] | None = None  # the reader's answer span, in characters of the sentence

    @property
    def signals(self) -> list[float]:
        """Features then the reader's logit: answerability.SIGNALS order."""
        return [*self.features, self.reader_logit]

    @property
    def article(self) -> IndexedArticle:
        return self.hit.article

    @property
    def text(self) -> str:
        return self.article.text[self.start : self.end]

    def previous(self) -> str | None:
        """The sentence before this one in its paragraph (what the reader gets as context), or None."""
        if self.sentence == 0:
            return None
        start, end = self.article.sentences[self.sentence - 1]
        return None if _PARAGRAPH_BREAK.search(self.article.text[end : self.start]) else self.article.text[start:end]

    def context(self) -> str:
        """The sentence with its neighbours, where a pronoun in it usually finds its noun."""
        spans = self.article.sentences
        first, last = max(0, self.sentence - 1), min(len(spans) - 1, self.sentence + 1)
        return self.article.text[spans[first][0] : spans[last][1]]


class CandidateFinder:
    """Sentences of retrieved passages with their features; caches per-article word rarity and stems."""

    def __init__(self, index: PassageIndex):
        self.index = index
        self._idf: dict[str, dict[str, float]] = {}
        self._stems: dict[str, list[set[str]]] = {}

    def _article_cache(self, article: IndexedArticle) -> tuple[dict[str, float], list[set[str]]]:
        idf, stems = self._idf.get(article.version), self._stems.get(article.version)
        if idf is None or stems is None:
            # Questions run in parallel: build locally, then publish new dicts in one assignment each, so a
            # concurrent question never looks up a key another one just dropped.
            active = {a.version for a in self.index.articles.values()}
            sentences = [article.text[s:e] for s, e in article.sentences]
            idf, stems = article_idf(sentences), [set(content_stems(text)) for text in sentences]
            self._idf = {**{k: v for k, v in self._idf.items() if k in active}, article.version: idf}
            self._stems = {**{k: v for k, v in self._stems.items() if k in active}, article.version: stems}
        return idf, stems

    def find(self, query: str, retrieved: list[RetrievedPassage]) -> list[Candidate]:
        """Every sentence of the retrieved passages (once), with its features; the cross-encoder's is 0."""
        question_vector = np.asarray(self.index.query_vector(query), dtype=np.float32)
        profiles: dict[str, QuestionProfile] = {}
        candidates: list[Candidate] = []
        seen: set[tuple[str, int]] = set()
        for rank, hit in enumerate(retrieved):
            article = hit.article
            idf, stems = self._article_cache(article)
            if article.version not in profiles:
                profiles[article.version] = QuestionProfile.of(query, idf)
            profile = profiles[article.version]
            vectors = self.index.sentence_vectors(article.version)
            for i, start, end in article.sentences_within(hit.passage.start, hit.passage.end):
                if (article.version, i) in seen:
                    continue
                seen.add((article.version, i))
                candidate = Candidate(hit, i, start, end)
                neighbours = stems[max(0, i - 1) : i + 2]
                candidate.features = candidate_features(
                    profile, candidate.text, candidate.context(), stems[i], set().union(*neighbours),
                    float(vectors[i] @ question_vector), rank, 0.0,
                )
                candidates.append(candidate)
        return candidates
